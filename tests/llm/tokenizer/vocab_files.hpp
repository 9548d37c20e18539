// Test helper: the tokenizers of ../shared/testdata/tokenizer, loaded once per process.
#pragma once

#include <map>
#include <string>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm::tokenizer::testing {

inline std::string vocab_path(const std::string& name) {
  return std::string(PARLEY_SHARED_DIR) + "/testdata/tokenizer/ggml-vocab-" + name + ".gguf";
}

// name: "llama-spm", "phi-3", "gpt-2", "qwen2-reconstructed", "llama-bpe-reconstructed".
inline const Tokenizer& vocab_tokenizer(const std::string& name) {
  static std::map<std::string, Tokenizer> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto vocab = load_vocab(gguf::GgufFile::open(vocab_path(name)));
    if (!vocab.ok()) throw std::runtime_error(vocab.error().message);
    it = cache.emplace(name, Tokenizer(std::move(*vocab))).first;
  }
  return it->second;
}

}  // namespace parley::llm::tokenizer::testing
