// PrefixCache: the K/V blocks of finished (or preempted) sequences, kept in the shared pool so a
// new prompt that starts with the same tokens (the next turn of the same chat) can start after
// them. Entries hold references to pool blocks; idle entries are evicted least recently used first
// when the pool needs blocks.
//
// Cost: lookup compares the new prompt with every entry (entries <= kMaxEntries); a hit copies at
// most one partially filled block.
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "llm/runtime/kv_cache.hpp"

namespace parley::llm {

class PrefixCache {
 public:
  static constexpr size_t kMaxEntries = 256;

  explicit PrefixCache(KvCache& kv) : kv_(kv) {}
  ~PrefixCache();

  // Finds the entry sharing the longest prefix with `tokens` and gives `out` (which must be empty)
  // blocks holding the first n of them, n <= max_reuse; returns n (0 on a miss). Full blocks are
  // shared; a partially shared last block is copied so the sequence can write after it.
  int64_t attach(const std::vector<int32_t>& tokens, int64_t max_reuse, SeqBlocks& out);

  // Keeps `blocks` (ownership of their references passes to the cache) as the K/V of `tokens`.
  void insert(std::vector<int32_t> tokens, const SeqBlocks& blocks);

  // Releases the least recently used entry; false when there is none.
  bool evict_one();

  size_t entries() const { return entries_.size(); }

 private:
  struct Entry {
    std::vector<int32_t> tokens;
    std::vector<int32_t> blocks;
  };
  void drop(std::list<Entry>::iterator it);

  KvCache& kv_;
  std::list<Entry> entries_;  // most recently used first
};

}  // namespace parley::llm
