// Scalar reference of the tiled attention kernel, and the instruction-set dispatch.
#include "llm/model/tiled_attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::ops {
namespace {

// Scratch: one row's accumulator [hd].
int64_t scratch_floats_scalar(int64_t /*n_q*/, int64_t /*group*/, int64_t hd) { return hd; }

// One query row at a time, one slot at a time (the plainest online softmax): the running max m, the
// running sum l of e^(s - m) and the accumulator acc = sum e^(s - m) v, both rescaled by
// e^(m_old - m_new) when the max grows. out = acc / l.
void run_scalar(const QueryTile& tile, const KvHeadView& kv, float* scratch) {
  const int64_t hd = tile.hd, B = kv.block_tokens;
  float* acc = scratch;
  for (int64_t t = 0; t < tile.n_q; ++t) {
    const int64_t n_pos = tile.pos0 + t + 1;
    for (int64_t g = 0; g < tile.group; ++g) {
      const float* q = tile.q + t * tile.q_stride + g * hd;
      float m = -std::numeric_limits<float>::infinity();
      double l = 0.0;
      std::fill(acc, acc + hd, 0.0f);
      for (int64_t j = 0; j < n_pos; ++j) {
        const uint16_t* k = kv.k[j / B] + (j % B) * kv.stride;
        const uint16_t* v = kv.v[j / B] + (j % B) * kv.stride;
        float dot = 0.0f;
        for (int64_t i = 0; i < hd; ++i) dot += q[i] * quant::fp16_to_fp32(k[i]);
        const float s = dot * tile.scale;
        const float m_new = std::max(m, s);
        const float alpha = std::exp(m - m_new);  // 0 at the first slot (m = -inf)
        const float p = std::exp(s - m_new);
        l = l * alpha + p;
        for (int64_t i = 0; i < hd; ++i) acc[i] = acc[i] * alpha + p * quant::fp16_to_fp32(v[i]);
        m = m_new;
      }
      float* out = tile.out + t * tile.out_stride + g * hd;
      const float inv = static_cast<float>(1.0 / l);
      for (int64_t i = 0; i < hd; ++i) out[i] = acc[i] * inv;
    }
  }
}

constexpr TiledAttention kScalar{scratch_floats_scalar, run_scalar};

}  // namespace

const TiledAttention& tiled_attention_scalar() { return kScalar; }

const TiledAttention* tiled_attention() {
  // Follows the quant kernels' instruction-set choice (PARLEY_ISA, quant::set_isa). The scalar
  // reference reads the cache once per row, as the per-token path does, so it is no faster.
  switch (quant::active_isa()) {
    case quant::Isa::Amx:  // AMX is only for the matmul's prompt tiles; attention stays AVX-512
    case quant::Isa::Avx512:
      if (const TiledAttention* k = tiled_attention_avx512()) return k;
      return tiled_attention_avx2();
    case quant::Isa::Avx2:
      return tiled_attention_avx2();
    default:
      return nullptr;
  }
}

}  // namespace parley::llm::ops
