// Inputs the db-api request fuzz target (tests/fuzz/dbapi_request_fuzz.cpp) found, replayed through
// the same property checks, plus a deterministic test of each fixed bug.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "fuzz/dbapi_request_fuzz_check.hpp"

namespace parley::fuzz {
namespace {

// dbapi_request_fuzz crash-a63539a1: Boost.JSON reads 110000e4000 as infinity; the settings were
// accepted, and every answer about the chat was written with "Infinity" in it, which is not JSON.
TEST(FuzzRegressions, SettingsWithANumberOutOfRangeAreRejected) {
  const store::StoreLimits limits;
  for (const char* body : {R"({"title":"t","settings":{"temperature":1e400}})",
                           R"({"settings":{"nested":{"list":[1, -2e999]}}})"}) {
    auto patch = wire::parse_chat_patch(boost::json::parse(body).as_object());
    ASSERT_TRUE(patch) << body;
    Status s = store::validate_chat_patch(*patch, limits);
    ASSERT_FALSE(s) << body;
    EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
    auto chat = wire::parse_new_chat(boost::json::parse(body).as_object());
    ASSERT_TRUE(chat) << body;
    EXPECT_FALSE(store::validate_new_chat(*chat, limits)) << body;
  }
  auto fine = wire::parse_chat_patch(boost::json::parse(R"({"settings":{"temperature":1e300}})").as_object());
  ASSERT_TRUE(fine);
  EXPECT_TRUE(store::validate_chat_patch(*fine, limits));
}

TEST(FuzzRegressions, DbApiCrashInputHoldsItsProperties) {
  const std::string input =
      "\x02{\"title\":\"rd\",\"settings\":{\"masompletion_tx_tkkenr\":110000e4000}}";
  EXPECT_EQ(check_dbapi_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), "");
}


// dbapi_request_fuzz crash-68cdd5a7: a false alarm of the check itself. Boost.JSON 1.81 does not read
// every long number to the nearest double, so the rendered chat (text identical to to_json's) read
// back compared unequal to the tree; the check now accepts identical text.
TEST(FuzzRegressions, RenderedChatWithALongNumberIsTheSameTextAsToJson) {
  const std::string input = std::string("\x02""{\"title\":\"renamed\",\"settings\":{\"macns\":669223372236873922337203685477580766066660,\"finis30333\":100}}", 101);
  EXPECT_EQ(check_dbapi_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), "");
}

}  // namespace
}  // namespace parley::fuzz
