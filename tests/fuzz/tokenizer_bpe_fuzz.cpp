// libFuzzer target: the BPE tokenizer on arbitrary bytes (properties: tokenizer_fuzz_check.hpp).
// Vocabularies: built in, plus GGUF files named in PARLEY_FUZZ_BPE_VOCAB (':'-separated paths).
// fuzz-sources: src/llm/tokenizer/*.cpp src/llm/gguf/gguf_reader.cpp src/llm/gguf/gguf_values.cpp src/llm/quant/types.cpp src/core/result.cpp
#include "fuzz/tokenizer_fuzz_check.hpp"

namespace {
const std::vector<parley::llm::tokenizer::Tokenizer>* g_tokenizers;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_tokenizers = new std::vector<parley::llm::tokenizer::Tokenizer>(
      parley::fuzz::load_fuzz_tokenizers(parley::llm::tokenizer::VocabModel::bpe, "PARLEY_FUZZ_BPE_VOCAB"));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_tokenizer_input(*g_tokenizers, data, size));
  return 0;
}
