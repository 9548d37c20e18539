// Inputs the db-api request fuzz target (tests/fuzz/dbapi_request_fuzz.cpp) found, replayed through
// the same property checks, plus a deterministic test of each fixed bug.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "fuzz/dbapi_request_fuzz_check.hpp"
#include "net/json.hpp"

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

// dbapi_request_fuzz crash-3265b3f4 (in CI): Boost.JSON 1.81 reads "0e402" (zero, written with an
// exponent beyond the double range) as NaN, so the settings did not survive to_json -> parse and
// the chat was refused as holding a number out of range. net::parse_json now reads it as 0.
TEST(FuzzRegressions, ZeroWithAHugeExponentIsZero) {
  const std::string input = "\x02{\"title\":\"\",\"settings\":{\"mas577777_tkkenr\":0e402}}";
  EXPECT_EQ(check_dbapi_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), "");
  auto v = net::parse_json(R"({"settings":{"a":0e402,"b":[-0.0e999,1]}})");
  ASSERT_TRUE(v);
  EXPECT_EQ(boost::json::serialize(*v), R"({"settings":{"a":0E0,"b":[0E0,1]}})");
  auto chat = wire::parse_new_chat(v->as_object());
  ASSERT_TRUE(chat);
  EXPECT_TRUE(store::validate_new_chat(*chat, store::StoreLimits{}));
  auto big = net::parse_json(R"({"settings":{"a":1e400}})");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(big.error().message.find("out of range"), std::string::npos) << big.error().message;
}

// dbapi_request_fuzz crash-e5a622f1 (in a clean-clone CI run): a title with a form feed next to a
// long number in the settings. The long number again read back one bit off (above), so the check
// compared the texts, and they differed: the direct writer escaped U+000C as \u000c where Boost.JSON
// writes \f. It now writes \b and \f as Boost.JSON does, so both paths give the same bytes.
TEST(FuzzRegressions, RenderedChatEscapesControlCharactersAsToJsonDoes) {
  const std::string input = std::string(
      "\x02{\"title\":\"9000\\u000create=_at\",\"settings\":{\"macns\":"
      "62900000039300000393900000080000000393965}}");
  EXPECT_EQ(check_dbapi_input(reinterpret_cast<const uint8_t*>(input.data()), input.size()), "");
  std::string every;
  for (int c = 0; c < 0x80; ++c) every.push_back(static_cast<char>(c));
  std::string written;
  wire::append_json_string(written, every);
  EXPECT_EQ(written, boost::json::serialize(boost::json::string(every)));
}

}  // namespace
}  // namespace parley::fuzz
