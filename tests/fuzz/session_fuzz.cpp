// libFuzzer target: UI session cookies (properties: session_fuzz_check.hpp).
// fuzz-sources: src/services/ui/session.cpp src/core/ids.cpp src/core/config.cpp src/core/result.cpp
// fuzz-flags: -lsodium
#include "fuzz/session_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_session_input(data, size));
  return 0;
}
