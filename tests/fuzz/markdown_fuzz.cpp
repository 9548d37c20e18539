// libFuzzer target: markdown rendering of messages (properties: markdown_fuzz_check.hpp). md4c is
// the Debian shared library (not instrumented: coverage comes from our side of it and the input).
// fuzz-sources: src/services/ui/markdown.cpp
// fuzz-flags: -lmd4c-html -lmd4c
#include "fuzz/markdown_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_markdown_input(data, size));
  return 0;
}
