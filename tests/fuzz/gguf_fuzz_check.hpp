// The checks the GGUF fuzz target runs on each input, shared with the corpus regression test
// (tests/llm/gguf/gguf_fuzz_corpus_test.cpp): parse must succeed or throw GgufError, and on success every
// accessor must stay inside the buffer (ASan/UBSan check that) and agree with the index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::fuzz {

using parley::llm::gguf::GgufError;
using parley::llm::gguf::GgufFile;
using parley::llm::gguf::ValueType;

inline volatile uint64_t g_sink;  // keeps the reads below from being optimized away

// Calls every typed getter on a key; a type mismatch throws GgufError, which is fine.
template <typename F>
inline void try_get(F&& f) {
  try {
    f();
  } catch (const GgufError&) {
  }
}

inline void exercise(const GgufFile& f) {
  for (const auto& e : f.metadata()) {
    g_sink = g_sink + e.to_string(4).size() + e.to_string(0).size();
    try_get([&] { g_sink = g_sink + f.get_string(e.key).value_or("").size(); });
    try_get([&] { g_sink = g_sink + f.get_uint(e.key).value_or(0); });
    try_get([&] { g_sink = g_sink + static_cast<uint64_t>(f.get_int(e.key).value_or(0)); });
    try_get([&] { g_sink = g_sink + static_cast<uint64_t>(f.get_float(e.key).value_or(0) != 0); });
    try_get([&] { g_sink = g_sink + f.get_bool(e.key).value_or(false); });
    try_get([&] {
      for (const auto& s : f.get_string_array(e.key)) g_sink = g_sink + s.size();
    });
    try_get([&] { g_sink = g_sink + f.get_float_array(e.key).size(); });
    try_get([&] { g_sink = g_sink + f.get_int_array(e.key).size(); });
    if (f.find(e.key) != &e) __builtin_trap();
  }
  for (const auto& t : f.tensors()) {
    if (f.find_tensor(t.name) == nullptr) __builtin_trap();
    if (t.nbytes == 0 || t.n_elements() <= 0 || t.n_rows() <= 0) __builtin_trap();
    // First and last byte of the data: out of the buffer would be caught by ASan.
    g_sink = g_sink + t.data[0] + t.data[t.nbytes - 1];
  }
}

// Returns true if the input parsed.
inline bool check_gguf_input(const uint8_t* data, size_t size) {
  try {
    GgufFile f = GgufFile::parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
    exercise(f);
    return true;
  } catch (const GgufError&) {
    return false;
  }
}

}  // namespace parley::fuzz
