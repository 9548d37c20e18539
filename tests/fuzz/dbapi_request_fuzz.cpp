// libFuzzer target: db-api request bodies, the store's validation and the wire JSON both ways
// (properties: dbapi_request_fuzz_check.hpp). Boost.JSON is compiled in (boost/json/src.hpp) so the
// fuzzer sees the parser's coverage too.
// fuzz-sources: src/store/wire_json.cpp src/store/validation.cpp src/store/ids.cpp src/store/chat_store.cpp src/core/ids.cpp src/core/result.cpp
// fuzz-flags: -lsodium
#include <boost/json/src.hpp>

#include "fuzz/dbapi_request_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parley::fuzz::fail_if(parley::fuzz::check_dbapi_input(data, size));
  return 0;
}
