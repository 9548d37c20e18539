// libFuzzer target: GgufFile::parse on arbitrary bytes must either succeed or throw GgufError;
// when it succeeds, every accessor must stay inside the buffer (ASan/UBSan check that).
// fuzz-sources: src/llm/gguf/gguf_reader.cpp src/llm/gguf/gguf_values.cpp src/llm/quant/types.cpp
// Build and run with scripts/fuzz [SECONDS]; seeds are in tests/fuzz/corpus/gguf_fuzz/.
#include "fuzz/gguf_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::check_gguf_input(data, size);
  return 0;
}
