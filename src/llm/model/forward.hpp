// Forward: the batched forward pass of a llama/qwen2 model.
//
// One call evaluates a batch of tokens that may belong to many sequences: one decoding token of
// each running sequence plus chunks of pending prompts. Every weight matrix is read once per call
// for the whole batch. K/V of each token are written to the shared KvCache at its position in its
// sequence, and each token attends to positions [0, pos] of its own sequence.
//
// Attention: a run of consecutive tokens of one sequence (a prompt chunk) is cut into tiles of up to
// 16 tokens, each evaluated per KV head by the tiled kernel (tiled_attention.hpp: the cache is read
// once per tile); a decoding token is a tile of one. Without a tiled kernel for the instruction set
// (scalar), every token reads its sequence's cache on its own (the per-token path).
//
// Threading: the caller (the scheduler thread) owns the ThreadPool; each matrix product and the
// attention are split over its threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.hpp"
#include "llm/model/model.hpp"
#include "llm/runtime/kv_cache.hpp"

namespace parley::llm {

struct BatchToken {
  int32_t token = 0;
  int32_t pos = 0;     // position in its sequence
  int32_t seq = 0;     // index into the `seqs` span of eval()
  bool logits = false; // produce logits for this token
};

class Forward {
 public:
  Forward(std::shared_ptr<const Model> model, ThreadPool& pool);

  // Evaluates `batch`. seqs[t.seq] must already own the blocks covering t.pos (the caller
  // allocates); eval writes K/V there. Writes one row of n_vocab logits per token with
  // logits=true, in batch order, to `logits` ([n_logits, n_vocab]).
  // Cost: reads every weight once; attention reads each sequence's cache once per decoding token
  // and once per tile of a prompt chunk.
  void eval(std::span<const BatchToken> batch, std::span<const SeqBlocks* const> seqs, KvCache& kv,
            float* logits);

  const Model& model() const { return *model_; }

 private:
  struct Scratch;
  void matmul(std::initializer_list<std::pair<const Weight*, float*>> outs, const float* x, int64_t n_tokens);
  void attention(std::span<const BatchToken> batch, std::span<const SeqBlocks* const> seqs, const KvCache& kv,
                 int64_t layer);
  void ensure_scratch(int64_t n_tokens, int64_t max_pos);

  std::shared_ptr<const Model> model_;
  ThreadPool& pool_;
  std::vector<float> inv_freq_;  // [n_rot/2] rotation frequency per pair, scaling applied
  // Scratch, grown on demand: activations are [n_tokens, dim] row-major.
  std::vector<float> x_, xn_, q_, k_, v_, attn_, gate_, up_, out_rows_;
  std::vector<uint8_t> act_q_;
  std::vector<std::vector<float>> scores_;  // per thread [group * (max_pos + 1)]
  // Tiled attention: per thread scratch and block-pointer tables, and this call's work items.
  struct AttnItem {
    int64_t t0;    // first batch token
    int64_t n_q;   // tokens of the tile (0: one token on the per-token path)
    int64_t head;  // KV head
    int64_t cost;  // query rows x visible slots, for largest-first ordering
  };
  std::vector<std::vector<float>> tile_scratch_;
  std::vector<std::vector<const uint16_t*>> tile_blocks_;  // per thread [2 * n_blocks]: K then V
  std::vector<AttnItem> attn_items_;
};

}  // namespace parley::llm
