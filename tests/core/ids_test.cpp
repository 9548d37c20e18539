#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace parley {
namespace {

TEST(Ids, RandomIdIs128BitHexAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = random_id();
    ASSERT_TRUE(is_hex_id(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "duplicate id " << id;
  }
}

TEST(Ids, LogIdsAreHexAndUniqueAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 20000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(log_id());
    });
  for (auto& th : threads) th.join();
  std::set<std::string> seen;
  for (const auto& list : ids)
    for (const auto& id : list) {
      ASSERT_TRUE(is_hex_id(id)) << id;
      ASSERT_TRUE(seen.insert(id).second) << "duplicate id " << id;
    }
  // Consecutive ids of one thread share no visible structure (no counter in plain sight).
  EXPECT_NE(ids[0][0].substr(0, 16), ids[0][1].substr(0, 16));
  EXPECT_NE(ids[0][0].substr(16), ids[0][1].substr(16));
}

TEST(Ids, HexIdValidation) {
  EXPECT_TRUE(is_hex_id("0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(is_hex_id("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(is_hex_id("0123456789abcdef0123456789abcde"));
  EXPECT_FALSE(is_hex_id("0123456789abcdef0123456789abcdeg"));
  EXPECT_FALSE(is_hex_id(""));
}

TEST(Ids, TokenIsBase64UrlWithoutPadding) {
  std::string t = random_token(32);
  EXPECT_EQ(t.size(), 43u);  // ceil(32 * 4 / 3)
  for (char c : t) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << t;
  EXPECT_NE(random_token(32), t);
}

TEST(Ids, EncodingsMatchKnownValues) {
  EXPECT_EQ(to_hex(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode("hello"), "aGVsbG8");
}

TEST(Ids, SecureEquals) {
  EXPECT_TRUE(secure_equals("secret", "secret"));
  EXPECT_FALSE(secure_equals("secret", "secreT"));
  EXPECT_FALSE(secure_equals("secret", "secret2"));
  EXPECT_TRUE(secure_equals("", ""));
}

TEST(Ids, RandomBytesAreNotConstant) {
  uint64_t a = random_u64(), b = random_u64();
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace parley
