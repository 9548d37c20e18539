// libFuzzer target: chat-template selection and rendering (properties: chat_template_fuzz_check.hpp).
// fuzz-sources: src/llm/chat/*.cpp src/llm/tokenizer/*.cpp src/llm/gguf/gguf_reader.cpp src/llm/gguf/gguf_values.cpp src/llm/quant/types.cpp src/core/result.cpp
#include "fuzz/chat_template_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_chat_template_input(data, size));
  return 0;
}
