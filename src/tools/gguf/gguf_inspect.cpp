#include "tools/gguf/gguf_inspect.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace parley::tools {

namespace {

using llm::gguf::GgufFile;
using llm::gguf::MetaEntry;
using llm::gguf::TensorInfo;
using llm::gguf::ValueType;

std::string printf_string(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string type_label(const MetaEntry& e) {
  if (!e.is_array()) return std::string(value_type_name(e.type));
  return std::string(value_type_name(e.elem_type)) + "[" + std::to_string(e.count) + "]";
}

std::string shape_label(const TensorInfo& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + "]";
}

std::string megabytes(uint64_t bytes) { return printf_string("%.1f MB", static_cast<double>(bytes) / 1e6); }

}  // namespace

std::string format_gguf_report(const GgufFile& f, size_t max_elems) {
  std::string out;
  out += printf_string("%s: GGUF v%u, %zu bytes, alignment %zu, tensor data at offset %zu\n",
                       f.path().c_str(), f.version(), f.file_size(), f.alignment(), f.data_offset());

  out += printf_string("\nmetadata: %zu keys\n", f.metadata().size());
  size_t key_w = 0, type_w = 0;
  for (const auto& e : f.metadata()) {
    key_w = std::max(key_w, e.key.size());
    type_w = std::max(type_w, type_label(e).size());
  }
  for (const auto& e : f.metadata()) {
    std::string v = e.to_string(max_elems);
    if (v.size() > 200) v = v.substr(0, 200) + "...";
    out += printf_string("  %-*.*s  %-*s  ", static_cast<int>(key_w), static_cast<int>(e.key.size()),
                         e.key.data(), static_cast<int>(type_w), type_label(e).c_str());
    out += v + "\n";
  }

  out += printf_string("\ntensors: %zu\n", f.tensors().size());
  size_t name_w = 4, shape_w = 5;
  for (const auto& t : f.tensors()) {
    name_w = std::max(name_w, t.name.size());
    shape_w = std::max(shape_w, shape_label(t).size());
  }
  out += printf_string("  %-*s  %-6s  %-*s  %14s\n", static_cast<int>(name_w), "name", "type",
                       static_cast<int>(shape_w), "shape", "bytes");
  uint64_t total_bytes = 0;
  int64_t total_params = 0;
  std::map<std::string, std::pair<int, uint64_t>> by_type;  // type -> (count, bytes)
  for (const auto& t : f.tensors()) {
    const std::string type(type_info(t.type).name);
    out += printf_string("  %-*s  %-6s  %-*s  %14llu\n", static_cast<int>(name_w), t.name.c_str(),
                         type.c_str(), static_cast<int>(shape_w), shape_label(t).c_str(),
                         static_cast<unsigned long long>(t.nbytes));
    total_bytes += t.nbytes;
    total_params += t.n_elements();
    auto& [n, bytes] = by_type[type];
    ++n;
    bytes += t.nbytes;
  }
  out += printf_string(
      "\ntotal: %zu tensors, %lld parameters, %llu bytes (%s), %.2f bits per weight\n", f.tensors().size(),
      static_cast<long long>(total_params), static_cast<unsigned long long>(total_bytes),
      megabytes(total_bytes).c_str(),
      total_params ? 8.0 * static_cast<double>(total_bytes) / static_cast<double>(total_params) : 0.0);
  for (const auto& [type, nb] : by_type)
    out += printf_string("  %-6s %4d tensors  %14llu bytes (%s)\n", type.c_str(), nb.first,
                         static_cast<unsigned long long>(nb.second), megabytes(nb.second).c_str());
  return out;
}

}  // namespace parley::tools
