// libFuzzer target: lm-api's OpenAI request decoding (properties: lmapi_request_fuzz_check.hpp).
// fuzz-sources: src/services/lmapi/openai_request.cpp src/core/result.cpp
#include <boost/json/src.hpp>

#include "fuzz/lmapi_request_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_lmapi_input(data, size));
  return 0;
}
