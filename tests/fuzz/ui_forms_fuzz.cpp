// libFuzzer target: the UI's form and cookie decoding (properties: ui_forms_fuzz_check.hpp).
// fuzz-sources: src/services/ui/forms.cpp src/net/http.cpp src/core/config.cpp src/core/result.cpp
#include "fuzz/ui_forms_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_ui_forms_input(data, size));
  return 0;
}
