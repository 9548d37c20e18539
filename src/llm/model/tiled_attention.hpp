// Tiled attention for prompt chunks (flash-attention style, online softmax).
//
// A tile is n_q consecutive query tokens of one sequence (positions pos0 .. pos0 + n_q - 1) with all
// `group` query heads that share one KV head. The kernel walks that head's f16 K/V cache once for the
// whole tile: each run of up to 16 slots is converted to f32 once and scored against every query row,
// with the causal limit (the query at position p sees slots 0..p) and a running max / sum per row, so
// the cost of reading and converting the cache is shared by n_q * group rows instead of being paid
// per token (Forward::attention's per-token path).
//
// Result: out_row = sum_j softmax_j(scale * q_row . k_j) v_j over slots j <= p, equal to the per-token
// path within float rounding (the softmax is summed block by block, in another order).
#pragma once

#include <cstdint>

namespace parley::llm::ops {

// One KV head of one sequence in one layer of the block cache: slot s lives in block
// s / block_tokens at k[s / block_tokens] + (s % block_tokens) * stride (f16, hd values), same for v.
struct KvHeadView {
  const uint16_t* const* k;  // per block: slot 0 of this head's K, head offset applied
  const uint16_t* const* v;
  int64_t block_tokens;
  int64_t stride;  // elements between consecutive slots (kv_dim)
};

// Query head g of tile token t is q + t * q_stride + g * hd (hd floats); its output goes to
// out + t * out_stride + g * hd. Token t is at position pos0 + t and sees slots 0 .. pos0 + t, which
// must all be filled (the tile's own K/V included).
struct QueryTile {
  const float* q;
  int64_t q_stride;
  float* out;
  int64_t out_stride;
  int64_t n_q;
  int64_t pos0;
  int64_t group;
  int64_t hd;
  float scale;  // applied to q . k before the softmax
};

struct TiledAttention {
  // Floats of per-thread scratch run() needs for tiles of up to n_q tokens.
  int64_t (*scratch_floats)(int64_t n_q, int64_t group, int64_t hd);
  // Writes the tile's n_q * group output rows. Cost: (pos0 + n_q) slots of K and V read and converted
  // once; 2 * hd multiply-adds per (row, visible slot).
  void (*run)(const QueryTile& tile, const KvHeadView& kv, float* scratch);
};

const TiledAttention& tiled_attention_scalar();  // the reference: one row at a time, std::exp
const TiledAttention* tiled_attention_avx2();    // nullptr when the CPU lacks AVX2/FMA/F16C
const TiledAttention* tiled_attention_avx512();  // nullptr when the CPU lacks AVX-512F
// The kernel for the active instruction set (quant::active_isa()), or nullptr for the scalar one
// (the scalar reference is no faster than the per-token path, which Forward then keeps for every
// token).
const TiledAttention* tiled_attention();

}  // namespace parley::llm::ops
