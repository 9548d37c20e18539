#include "llm/model/forward.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "llm/model/ops.hpp"
#include "llm/model/tiled_attention.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm {
namespace {

// Below this many tokens the activations are quantized on the calling thread (cheaper than a
// parallel region).
constexpr int64_t kSerialQuantizeTokens = 4;

// Attention tiles: up to kTileTokens consecutive tokens of one sequence (x group query heads: 112
// rows for qwen2.5, 128 for tinyllama) share one pass over the cache.
constexpr int64_t kTileTokens = 16;

void add_bias(float* y, const Weight& b, int64_t n_tokens) {
  if (!b) return;
  const float* bias = static_cast<const float*>(b.data);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < b.cols; ++i) y[t * b.cols + i] += bias[i];
}

template <typename T>
T* grow(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace

Forward::Forward(std::shared_ptr<const Model> model, ThreadPool& pool)
    : model_(std::move(model)), pool_(pool) {
  const HParams& hp = model_->hparams();
  const auto& factors = model_->rope_freq_factors();
  inv_freq_.resize(hp.n_rot / 2);
  for (int64_t i = 0; i < hp.n_rot / 2; ++i) {
    double f = std::pow(static_cast<double>(hp.rope_theta), -2.0 * static_cast<double>(i) / hp.n_rot);
    f /= hp.rope_scale_linear;
    if (!factors.empty()) f /= factors[i];
    inv_freq_[i] = static_cast<float>(f);
  }
  scores_.resize(pool_.size());
  tile_scratch_.resize(pool_.size());
  tile_blocks_.resize(pool_.size());
}

void Forward::ensure_scratch(int64_t n, int64_t max_pos) {
  const HParams& hp = model_->hparams();
  grow(x_, n * hp.n_embd);
  grow(xn_, n * hp.n_embd);
  grow(q_, n * hp.q_dim());
  grow(k_, n * hp.kv_dim());
  grow(v_, n * hp.kv_dim());
  grow(attn_, n * hp.q_dim());
  grow(gate_, n * hp.n_ff);
  grow(up_, n * hp.n_ff);
  const int64_t group = hp.n_head / hp.n_head_kv;
  for (auto& s : scores_) grow(s, static_cast<size_t>(group) * (max_pos + 1));
}

// Products of several weights with the same input x [n_tokens, cols]: each output is
// [n_tokens, w.rows]. Activations are quantized once per distinct weight type, then the rows of
// all weights are shared out over the threads in one parallel region.
void Forward::matmul(std::initializer_list<std::pair<const Weight*, float*>> outs, const float* x,
                     int64_t n_tokens) {
  struct Job {
    const Weight* w;
    float* y;
    size_t act_offset;
  };
  std::vector<Job> jobs;
  jobs.reserve(outs.size());
  // Quantized activations: one buffer segment per distinct type.
  std::vector<std::pair<TensorType, size_t>> segments;
  size_t total = 0;
  const int64_t cols = outs.begin()->first->cols;
  for (auto [w, y] : outs) {
    assert(w->cols == cols);
    size_t off = SIZE_MAX;
    for (auto& [t, o] : segments)
      if (t == w->type) off = o;
    if (off == SIZE_MAX) {
      off = total;
      segments.emplace_back(w->type, off);
      total += quant::activation_bytes(w->type, cols, n_tokens);
    }
    jobs.push_back({w, y, off});
  }
  uint8_t* act = grow(act_q_, total + 64);

  auto quantize = [&](int64_t t0, int64_t t1) {
    for (auto& [type, off] : segments) {
      const size_t per_token = quant::activation_bytes(type, cols, 1);
      quant::quantize_activations(type, x + t0 * cols, cols, t1 - t0, act + off + per_token * t0);
    }
  };
  if (n_tokens <= kSerialQuantizeTokens) {
    quantize(0, n_tokens);
  } else {
    pool_.parallel_for(n_tokens, [&](int64_t b, int64_t e, int) { quantize(b, e); });
  }

  // The weights' bytes are cut into chunks of equal bytes, which the threads claim first come, first
  // served (generation is bound by memory reads, and the weights of one call can differ in type: qwen's V
  // is Q8_0 beside Q5_1 Q/K). Chunk c of C covers bytes [T * c / C, T * (c + 1) / C) of the
  // concatenated weights, each weight cut at its nearest 16-row panel (packed weights start ranges on a
  // panel). About 4 chunks per thread: a late or preempted thread leaves little for the others to wait on.
  std::vector<double> start(jobs.size() + 1, 0.0);
  for (size_t i = 0; i < jobs.size(); ++i) start[i + 1] = start[i] + static_cast<double>(jobs[i].w->bytes);
  constexpr double kMinChunkBytes = 128 * 1024;
  const int64_t n_chunks = std::clamp<int64_t>(static_cast<int64_t>(start.back() / kMinChunkBytes),
                                               pool_.size(), 4 * static_cast<int64_t>(pool_.size()));
  pool_.run_chunks(n_chunks, [&](int64_t c, int) {
    const double begin = start.back() * static_cast<double>(c) / static_cast<double>(n_chunks);
    const double end = start.back() * static_cast<double>(c + 1) / static_cast<double>(n_chunks);
    for (size_t i = 0; i < jobs.size(); ++i) {
      const Job& j = jobs[i];
      const int64_t panels = (j.w->rows + quant::kPanelRows - 1) / quant::kPanelRows;
      const double per_panel = (start[i + 1] - start[i]) / static_cast<double>(panels);
      auto panel_at = [&](double x) {
        return std::clamp<int64_t>(std::llround((x - start[i]) / per_panel), 0, panels);
      };
      const int64_t r0 = panel_at(begin) * quant::kPanelRows;
      const int64_t r1 = std::min(j.w->rows, panel_at(end) * quant::kPanelRows);
      if (r0 < r1) {
        if (j.w->packed)
          quant::matmul_packed(*j.w->packed, r0, r1, act + j.act_offset, n_tokens, j.y, j.w->rows);
        else
          quant::matmul(j.w->type, j.w->data, cols, r0, r1, act + j.act_offset, n_tokens, j.y, j.w->rows);
      }
    }
  });
}

void Forward::attention(std::span<const BatchToken> batch, std::span<const SeqBlocks* const> seqs,
                        const KvCache& kv, int64_t layer) {
  const HParams& hp = model_->hparams();
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t hd = hp.head_dim, group = hp.n_head / hp.n_head_kv, kvd = hp.kv_dim();
  const int B = kv.block_tokens();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const ops::AttentionKernels& kern = ops::attention_kernels();
  const ops::TiledAttention* tiled = ops::tiled_attention();

  // Work items: per KV head, a tile of up to kTileTokens consecutive tokens of one sequence (a
  // decoding token is a tile of one: the tiled kernel is also faster for a single token, measured
  // 1.2-1.6x, and a row then gets the same bits however the batch is cut), or one token on the
  // per-token path when there is no tiled kernel. Largest first, so that the last items the threads
  // claim are short.
  attn_items_.clear();
  for (int64_t t = 0; t < n;) {
    int64_t e = t + 1;
    while (e < n && batch[e].seq == batch[t].seq && batch[e].pos == batch[e - 1].pos + 1) ++e;
    const int64_t step = tiled ? kTileTokens : 1;
    for (int64_t t0 = t; t0 < e; t0 += step) {
      const int64_t n_tokens = std::min(step, e - t0);
      const int64_t cost = n_tokens * group * (batch[t0 + n_tokens - 1].pos + 1);
      for (int64_t h = 0; h < hp.n_head_kv; ++h) attn_items_.push_back({t0, tiled ? n_tokens : 0, h, cost});
    }
    t = e;
  }
  std::stable_sort(attn_items_.begin(), attn_items_.end(),
                   [](const AttnItem& a, const AttnItem& b) { return a.cost > b.cost; });

  pool_.run_chunks(static_cast<int64_t>(attn_items_.size()), [&](int64_t i, int thread) {
    const AttnItem& item = attn_items_[i];
    const int64_t t = item.t0, h = item.head;
    const BatchToken& bt = batch[t];
    const SeqBlocks& sb = *seqs[bt.seq];
    const float* q = q_.data() + t * hp.q_dim() + h * group * hd;  // [group, hd] per token
    float* out = attn_.data() + t * hp.q_dim() + h * group * hd;

    if (item.n_q > 0) {
      // Tiled: this head's K and V block pointers for slots [0, last position].
      const int64_t n_blocks = (batch[t + item.n_q - 1].pos + B) / B;
      std::vector<const uint16_t*>& ptrs = tile_blocks_[thread];
      ptrs.resize(2 * n_blocks);
      for (int64_t b = 0; b < n_blocks; ++b) {
        ptrs[b] = kv.k(sb.blocks[b], layer, 0) + h * hd;
        ptrs[n_blocks + b] = kv.v(sb.blocks[b], layer, 0) + h * hd;
      }
      const ops::KvHeadView view{ptrs.data(), ptrs.data() + n_blocks, B, kvd};
      const ops::QueryTile qt{q, hp.q_dim(), out, hp.q_dim(), item.n_q, bt.pos, group, hd, scale};
      tiled->run(qt, view, grow(tile_scratch_[thread], tiled->scratch_floats(kTileTokens, group, hd)));
      return;
    }

    float* scores = scores_[thread].data();
    const int64_t n_pos = bt.pos + 1;
    // scores[g * n_pos + j] = q_g . k_j * scale, one cache block (B consecutive slots) at a time
    for (int64_t j0 = 0; j0 < n_pos; j0 += B) {
      const int32_t blk = sb.blocks[j0 / B];
      kern.scores_f16(q, group, hd, kv.k(blk, layer, 0) + h * hd, kvd, std::min<int64_t>(B, n_pos - j0),
                      scale, scores + j0, n_pos);
    }
    for (int64_t g = 0; g < group; ++g) kern.softmax(scores + g * n_pos, n_pos);
    std::memset(out, 0, sizeof(float) * group * hd);
    for (int64_t j0 = 0; j0 < n_pos; j0 += B) {
      const int32_t blk = sb.blocks[j0 / B];
      kern.mix_f16(scores + j0, n_pos, group, hd, kv.v(blk, layer, 0) + h * hd, kvd,
                   std::min<int64_t>(B, n_pos - j0), out);
    }
  });
}

void Forward::eval(std::span<const BatchToken> batch, std::span<const SeqBlocks* const> seqs, KvCache& kv,
                   float* logits) {
  const HParams& hp = model_->hparams();
  const Model& m = *model_;
  const int64_t n = static_cast<int64_t>(batch.size());
  if (n == 0) return;
  int64_t max_pos = 0;
  for (const BatchToken& bt : batch) {
    if (bt.token < 0 || bt.token >= hp.n_vocab) throw std::out_of_range("token id out of range");
    if (bt.seq < 0 || static_cast<size_t>(bt.seq) >= seqs.size())
      throw std::out_of_range("bad sequence index");
    if (seqs[bt.seq]->blocks.size() * kv.block_tokens() <= static_cast<size_t>(bt.pos))
      throw std::out_of_range("sequence has no KV block for its position");
    max_pos = std::max<int64_t>(max_pos, bt.pos);
  }
  ensure_scratch(n, max_pos);
  const int64_t E = hp.n_embd;
  const ops::AttentionKernels& kern = ops::attention_kernels();

  // x [n, E] = embeddings
  const size_t emb_row = quant::row_bytes(m.token_embd().type, E);
  for (int64_t t = 0; t < n; ++t)
    quant::dequantize_row(m.token_embd().type,
                          static_cast<const uint8_t*>(m.token_embd().data) + emb_row * batch[t].token,
                          x_.data() + t * E, E);

  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const LayerWeights& lw = m.layers()[l];
    // Attention block.
    for (int64_t t = 0; t < n; ++t)
      ops::rms_norm(x_.data() + t * E, static_cast<const float*>(lw.attn_norm.data), xn_.data() + t * E, E,
                    hp.rms_eps);
    matmul({{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}}, xn_.data(), n);
    add_bias(q_.data(), lw.bq, n);
    add_bias(k_.data(), lw.bk, n);
    add_bias(v_.data(), lw.bv, n);
    const bool adjacent = hp.rope_style == RopeStyle::adjacent_pairs;
    for (int64_t t = 0; t < n; ++t) {
      const BatchToken& bt = batch[t];
      ops::rope(q_.data() + t * hp.q_dim(), hp.n_head, hp.head_dim, hp.n_rot, inv_freq_.data(), bt.pos,
                adjacent);
      ops::rope(k_.data() + t * hp.kv_dim(), hp.n_head_kv, hp.head_dim, hp.n_rot, inv_freq_.data(), bt.pos,
                adjacent);
      const SeqBlocks& sb = *seqs[bt.seq];
      const int32_t block = sb.blocks[bt.pos / kv.block_tokens()];
      const int slot = bt.pos % kv.block_tokens();
      kern.to_f16(k_.data() + t * hp.kv_dim(), kv.k(block, l, slot), hp.kv_dim());
      kern.to_f16(v_.data() + t * hp.kv_dim(), kv.v(block, l, slot), hp.kv_dim());
    }
    attention(batch, seqs, kv, l);
    matmul({{&lw.wo, xn_.data()}}, attn_.data(), n);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];

    // Feed-forward block (SwiGLU).
    for (int64_t t = 0; t < n; ++t)
      ops::rms_norm(x_.data() + t * E, static_cast<const float*>(lw.ffn_norm.data), xn_.data() + t * E, E,
                    hp.rms_eps);
    matmul({{&lw.w_gate, gate_.data()}, {&lw.w_up, up_.data()}}, xn_.data(), n);
    // SwiGLU costs one exp per element ([n, n_ff]): split over the threads for prompt chunks.
    if (n <= kSerialQuantizeTokens) {
      kern.swiglu(gate_.data(), up_.data(), gate_.data(), n * hp.n_ff);
    } else {
      pool_.parallel_for(n, [&](int64_t b, int64_t e, int) {
        kern.swiglu(gate_.data() + b * hp.n_ff, up_.data() + b * hp.n_ff, gate_.data() + b * hp.n_ff,
                    (e - b) * hp.n_ff);
      });
    }
    matmul({{&lw.w_down, xn_.data()}}, gate_.data(), n);
    for (int64_t i = 0; i < n * E; ++i) x_[i] += xn_[i];
  }

  // Logits only for the tokens that asked for them.
  int64_t n_out = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (!batch[t].logits) continue;
    ops::rms_norm(x_.data() + t * E, static_cast<const float*>(m.output_norm().data), xn_.data() + n_out * E,
                  E, hp.rms_eps);
    ++n_out;
  }
  if (n_out > 0) matmul({{&m.output(), logits}}, xn_.data(), n_out);
}

}  // namespace parley::llm
