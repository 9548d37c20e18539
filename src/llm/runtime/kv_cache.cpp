#include "llm/runtime/kv_cache.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace parley::llm {

KvCache::KvCache(const HParams& hp, int64_t n_tokens, int block_tokens)
    : n_layer_(hp.n_layer), kv_dim_(hp.kv_dim()), block_tokens_(block_tokens) {
  if (block_tokens <= 0 || n_tokens <= 0) throw std::invalid_argument("KV cache needs a positive size");
  const int64_t n_blocks = (n_tokens + block_tokens - 1) / block_tokens;
  data_.assign(static_cast<size_t>(n_blocks) * n_layer_ * 2 * block_tokens_ * kv_dim_, 0);
  refcount_.assign(n_blocks, 0);
  free_.reserve(n_blocks);
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

int32_t KvCache::allocate() {
  if (free_.empty()) return -1;
  int32_t b = free_.back();
  free_.pop_back();
  refcount_[b] = 1;
  return b;
}

void KvCache::retain(int32_t block) {
  assert(refcount_[block] > 0);
  ++refcount_[block];
}

void KvCache::release(int32_t block) {
  assert(refcount_[block] > 0);
  if (--refcount_[block] == 0) free_.push_back(block);
}

void KvCache::copy_block(int32_t from, int32_t to) {
  const size_t per_block = static_cast<size_t>(n_layer_) * 2 * block_tokens_ * kv_dim_;
  std::memcpy(data_.data() + per_block * to, data_.data() + per_block * from, per_block * sizeof(uint16_t));
}

}  // namespace parley::llm
