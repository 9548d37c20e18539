#include "llm/runtime/prefix_cache.hpp"

#include <algorithm>

namespace parley::llm {
namespace {

int64_t common_prefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return static_cast<int64_t>(i);
}

}  // namespace

PrefixCache::~PrefixCache() {
  while (evict_one()) {
  }
}

void PrefixCache::drop(std::list<Entry>::iterator it) {
  for (int32_t b : it->blocks) kv_.release(b);
  entries_.erase(it);
}

bool PrefixCache::evict_one() {
  if (entries_.empty()) return false;
  drop(std::prev(entries_.end()));
  return true;
}

int64_t PrefixCache::attach(const std::vector<int32_t>& tokens, int64_t max_reuse, SeqBlocks& out) {
  auto best = entries_.end();
  int64_t best_n = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const int64_t n = common_prefix(it->tokens, tokens);
    if (n > best_n) best_n = n, best = it;
  }
  best_n = std::min(best_n, max_reuse);
  if (best == entries_.end() || best_n <= 0) return 0;
  entries_.splice(entries_.begin(), entries_, best);  // most recently used

  const int B = kv_.block_tokens();
  const int64_t full = best_n / B;
  for (int64_t i = 0; i < full; ++i) {
    kv_.retain(best->blocks[i]);
    out.blocks.push_back(best->blocks[i]);
  }
  int64_t reused = full * B;
  if (best_n % B != 0) {
    // Copy the partially shared block so the new sequence can write its own tokens after it.
    const int32_t copy = kv_.allocate();
    if (copy >= 0) {
      kv_.copy_block(best->blocks[full], copy);
      out.blocks.push_back(copy);
      reused = best_n;
    }
  }
  out.n_tokens = reused;
  return reused;
}

void PrefixCache::insert(std::vector<int32_t> tokens, const SeqBlocks& blocks) {
  const size_t keep = static_cast<size_t>((static_cast<int64_t>(tokens.size()) + kv_.block_tokens() - 1) / kv_.block_tokens());
  std::vector<int32_t> own(blocks.blocks.begin(), blocks.blocks.begin() + std::min(keep, blocks.blocks.size()));
  for (size_t i = own.size(); i < blocks.blocks.size(); ++i) kv_.release(blocks.blocks[i]);
  // An entry that the new one extends is redundant; if the new one is covered by an existing
  // entry, the new one is.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const int64_t n = common_prefix(it->tokens, tokens);
    if (n == static_cast<int64_t>(it->tokens.size())) {
      drop(it++);
    } else if (n == static_cast<int64_t>(tokens.size())) {
      for (int32_t b : own) kv_.release(b);
      entries_.splice(entries_.begin(), entries_, it);
      return;
    } else {
      ++it;
    }
  }
  entries_.push_front(Entry{std::move(tokens), std::move(own)});
  while (entries_.size() > kMaxEntries) evict_one();
}

}  // namespace parley::llm
