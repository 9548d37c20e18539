// KvCache: one pool of fixed-size blocks holding the keys and values of every sequence.
// A sequence owns a list of blocks (its block table); position p of a sequence lives in block
// table[p / block_tokens], slot p % block_tokens. Blocks are never split per slot: any sequence may
// grow up to the context length while the pool has free blocks (docs/architecture.md).
// Blocks are reference-counted so that a finished chat's prefix can be shared with the next turn.
//
// Memory per block: n_layer * 2 (K and V) * block_tokens * kv_dim * 2 bytes (f16).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "llm/model/hparams.hpp"

namespace parley::llm {

class KvCache {
 public:
  static constexpr int kDefaultBlockTokens = 16;

  // A pool able to hold n_tokens positions in all (rounded up to whole blocks).
  KvCache(const HParams& hp, int64_t n_tokens, int block_tokens = kDefaultBlockTokens);

  int block_tokens() const { return block_tokens_; }
  int64_t n_blocks() const { return static_cast<int64_t>(refcount_.size()); }
  int64_t free_blocks() const { return static_cast<int64_t>(free_.size()); }
  int64_t used_blocks() const { return n_blocks() - free_blocks(); }
  size_t bytes() const { return data_.size() * sizeof(uint16_t); }
  int64_t blocks_for(int64_t n_tokens) const { return (n_tokens + block_tokens_ - 1) / block_tokens_; }

  // Takes a free block (refcount 1), or -1 when the pool is exhausted.
  int32_t allocate();
  void retain(int32_t block);
  void release(int32_t block);  // returns the block to the pool when its count reaches zero
  int refcount(int32_t block) const { return refcount_[block]; }
  // Copies every layer's K/V of `from` into `to` (copy-on-write of a shared partial block).
  void copy_block(int32_t from, int32_t to);

  // K or V vector [kv_dim] of one layer at one slot of a block.
  uint16_t* k(int32_t block, int64_t layer, int slot) { return data_.data() + offset(block, layer, 0, slot); }
  uint16_t* v(int32_t block, int64_t layer, int slot) { return data_.data() + offset(block, layer, 1, slot); }
  const uint16_t* k(int32_t block, int64_t layer, int slot) const { return data_.data() + offset(block, layer, 0, slot); }
  const uint16_t* v(int32_t block, int64_t layer, int slot) const { return data_.data() + offset(block, layer, 1, slot); }

 private:
  size_t offset(int32_t block, int64_t layer, int kv, int slot) const {
    return ((static_cast<size_t>(block) * n_layer_ + layer) * 2 + kv) * block_tokens_ * kv_dim_ +
           static_cast<size_t>(slot) * kv_dim_;
  }

  int64_t n_layer_;
  int64_t kv_dim_;
  int block_tokens_;
  std::vector<uint16_t> data_;
  std::vector<int> refcount_;
  std::vector<int32_t> free_;
};

// The positions of one sequence in the pool.
struct SeqBlocks {
  std::vector<int32_t> blocks;
  int64_t n_tokens = 0;  // positions [0, n_tokens) are filled
};

}  // namespace parley::llm
