#include "store/validation.hpp"

#include <gtest/gtest.h>

#include "store/ids.hpp"

namespace parley::store {
namespace {

TEST(Utf8, AcceptsValidAndRejectsInvalidSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  EXPECT_TRUE(is_valid_utf8(std::string(100, 'x') + "\xc3\xa9"));  // after the 8-byte fast path
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));       // truncated at the end
  EXPECT_FALSE(is_valid_utf8(std::string(13, 'x') + "\xff"));
}

TEST(Ids, FormatAndValidation) {
  auto chat = new_chat_id();
  auto msg = new_message_id();
  EXPECT_TRUE(is_valid_chat_id(chat));
  EXPECT_TRUE(is_valid_message_id(msg));
  EXPECT_FALSE(is_valid_chat_id(msg));
  EXPECT_FALSE(is_valid_message_id(chat));
  EXPECT_NE(new_chat_id(), chat);
  EXPECT_FALSE(is_valid_chat_id("chat_" + std::string(31, 'a')));
  EXPECT_FALSE(is_valid_chat_id("chat_" + std::string(31, 'a') + "G"));
  EXPECT_FALSE(is_valid_chat_id("chat_" + std::string(32, 'A')));
  EXPECT_FALSE(is_valid_chat_id("1"));
}

TEST(Times, FormatAndParseRoundTrip) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(1796409619123), "2026-12-04T18:40:19.123Z");
  EXPECT_EQ(format_time(951782400000), "2000-02-29T00:00:00.000Z");
  for (TimeMs t : {TimeMs{0}, TimeMs{1796409619123}, TimeMs{951782400000}, TimeMs{4102444799999}})
    EXPECT_EQ(parse_time(format_time(t)), t) << format_time(t);
  EXPECT_EQ(parse_time("2026-12-04T18:40:19Z"), 1796409619000);
  EXPECT_FALSE(parse_time("2026-12-05 00:00:19Z"));
  EXPECT_FALSE(parse_time("2026-13-05T00:00:19.000Z"));
  EXPECT_FALSE(parse_time("yesterday"));
}

TEST(Cursor, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(decode_cursor(encode_cursor(42)), 42);
  EXPECT_FALSE(decode_cursor("42"));
  EXPECT_FALSE(decode_cursor("n"));
  EXPECT_FALSE(decode_cursor("n-1"));
  EXPECT_FALSE(decode_cursor("n012"));
  EXPECT_FALSE(decode_cursor("n99999999999999999999"));
}

TEST(Validation, EmptyContentOnlyForUnfinishedReplies) {
  StoreLimits limits;
  EXPECT_FALSE(validate_new_message({Role::user, ""}, limits));
  EXPECT_FALSE(validate_new_message({Role::assistant, "", MessageStatus::complete}, limits));
  EXPECT_TRUE(validate_new_message({Role::assistant, "", MessageStatus::partial}, limits));
  EXPECT_TRUE(validate_new_message({Role::assistant, "", MessageStatus::error}, limits));
}

TEST(Validation, ConfigurableContentLimit) {
  StoreLimits limits;
  limits.max_content_bytes = 10;
  EXPECT_TRUE(validate_new_message({Role::user, std::string(10, 'x')}, limits));
  auto s = validate_new_message({Role::user, std::string(11, 'x')}, limits);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::payload_too_large);
}

}  // namespace
}  // namespace parley::store
