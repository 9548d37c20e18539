// VersionedCache: bounded LRU by cost, owner-scoped lookups, never replaces a newer version.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store/versioned_cache.hpp"

namespace parley::store {
namespace {

std::shared_ptr<const std::string> value(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

TEST(VersionedCache, FindsWhatWasPutForTheSameOwnerOnly) {
  VersionedCache<std::string> cache(1 << 20);
  EXPECT_FALSE(cache.find("chat_a", "alice"));
  cache.put("chat_a", "alice", 3, value("three"), 5);
  auto hit = cache.find("chat_a", "alice");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->version, 3);
  EXPECT_EQ(*hit->value, "three");
  EXPECT_FALSE(cache.find("chat_a", "bob"));
  EXPECT_FALSE(cache.find("chat_b", "alice"));
}

TEST(VersionedCache, KeepsTheNewerVersion) {
  VersionedCache<std::string> cache(1 << 20);
  cache.put("chat_a", "alice", 5, value("five"), 4);
  cache.put("chat_a", "alice", 4, value("four"), 4);  // a slower reader finishing late
  EXPECT_EQ(cache.find("chat_a", "alice")->version, 5);
  cache.put("chat_a", "alice", 6, value("six"), 3);
  EXPECT_EQ(*cache.find("chat_a", "alice")->value, "six");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.cost(), 3u);
  cache.put("chat_a", "alice", 0, value("unknown"), 3);  // version 0 (unknown) is never kept
  EXPECT_EQ(*cache.find("chat_a", "alice")->value, "six");
}

TEST(VersionedCache, EvictsTheLeastRecentlyUsedBeyondItsBudget) {
  VersionedCache<std::string> cache(800);  // values up to 100 kept
  for (int i = 0; i < 8; ++i) cache.put("chat_" + std::to_string(i), "o", 1, value("x"), 100);
  EXPECT_EQ(cache.size(), 8u);
  ASSERT_TRUE(cache.find("chat_0", "o"));  // now the most recently used
  cache.put("chat_8", "o", 1, value("x"), 100);
  EXPECT_EQ(cache.size(), 8u);
  EXPECT_LE(cache.cost(), 800u);
  EXPECT_TRUE(cache.find("chat_0", "o"));
  EXPECT_FALSE(cache.find("chat_1", "o"));  // the oldest untouched one went
  EXPECT_TRUE(cache.find("chat_8", "o"));
  cache.put("chat_big", "o", 1, value("x"), 101);  // over max_cost / 8: not kept
  EXPECT_FALSE(cache.find("chat_big", "o"));
  cache.erase("chat_8");
  EXPECT_FALSE(cache.find("chat_8", "o"));
  EXPECT_EQ(cache.size(), 7u);
  EXPECT_EQ(cache.cost(), 700u);
}

TEST(VersionedCache, ZeroBudgetKeepsNothing) {
  VersionedCache<std::string> cache(0);
  cache.put("chat_a", "alice", 1, value("v"), 0);
  cache.put("chat_b", "alice", 1, value("v"), 1);
  EXPECT_FALSE(cache.find("chat_a", "alice"));
  EXPECT_FALSE(cache.find("chat_b", "alice"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VersionedCache, ManyThreadsStayWithinBudget) {
  VersionedCache<std::string> cache(64 * 100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string id = "chat_" + std::to_string((i * 7 + t) % 300);
        cache.put(id, "o", 1 + i % 5, value(id), 100);
        auto hit = cache.find(id, "o");
        if (hit) {
          EXPECT_EQ(*hit->value, id);
        }
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.cost(), 64u * 100u);
  EXPECT_EQ(cache.cost(), cache.size() * 100u);
}

}  // namespace
}  // namespace parley::store
