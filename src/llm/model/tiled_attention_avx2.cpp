// AVX2 (+FMA, F16C) version of the tiled attention kernel: the AVX-512 kernel's layout
// (tiled_attention_avx512.cpp) with 8 rows per vector and runs of <= 8 cache slots, so that the 8
// score accumulators, the query vector and the broadcasts fit the 16 ymm registers.
//   qt  [n_rv][hd][8]   queries transposed (times scale)      acc [n_rv][hd][8]   accumulators
//   kf, vf [8][hd]      the current run of slots in f32, converted once per tile
// Per row and visible slot: 2 * hd multiply-adds, no horizontal sums.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "llm/model/ops_avx2.hpp"
#include "llm/model/tiled_attention.hpp"
#include "llm/model/tiled_attention_lanes.hpp"
#include "llm/quant/fp16.hpp"

namespace parley::llm::ops {
namespace {

constexpr int64_t kLanes = 8;

int64_t scratch_floats_avx2(int64_t n_q, int64_t group, int64_t hd) {
  return TileLayout<kLanes>::make(n_q, group, hd).total;
}

// dst[j * hd + i] = f32 of slot j's hd values, j < n; rows n..7 are zeroed (they meet P = 0).
void convert_run(const uint16_t* src, int64_t stride, int64_t n, int64_t hd, float* dst) {
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* s = src + j * stride;
    float* d = dst + j * hd;
    int64_t i = 0;
    for (; i + 8 <= hd; i += 8)
      _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i))));
    for (; i < hd; ++i) d[i] = quant::fp16_to_fp32(s[i]);
  }
  if (n < kLanes) std::memset(dst + n * hd, 0, sizeof(float) * (kLanes - n) * hd);
}

// One row vector against the converted run of n slots starting at slot s0. kHd: the head size when
// known at compile time (0: hd_rt), which makes the 8 broadcast addresses kf + j * hd + d one pointer
// plus constant offsets instead of 8 pointers.
template <int64_t kHd>
void rv_step(const float* qt, float* acc, const float* kf, const float* vf, float* m_io, float* l_io,
             __m256i pos, int64_t s0, int64_t n, int64_t hd_rt) {
  const int64_t hd = kHd ? kHd : hd_rt;
  __m256 s[kLanes];
  for (auto& x : s) x = _mm256_setzero_ps();
  for (int64_t d = 0; d < hd; ++d) {
    const __m256 q = _mm256_loadu_ps(qt + d * kLanes);
    for (int64_t j = 0; j < kLanes; ++j) s[j] = _mm256_fmadd_ps(q, _mm256_broadcast_ss(kf + j * hd + d), s[j]);
  }
  // Visibility: lane sees slot s0 + j when its position > s0 + j - 1 (and j < n).
  const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 vis[kLanes];
  __m256 mx = neg_inf;
  for (int64_t j = 0; j < kLanes; ++j) {
    vis[j] = j < n ? _mm256_castsi256_ps(_mm256_cmpgt_epi32(pos, _mm256_set1_epi32(static_cast<int>(s0 + j - 1))))
                   : _mm256_setzero_ps();
    mx = _mm256_max_ps(mx, _mm256_blendv_ps(neg_inf, s[j], vis[j]));
  }
  const __m256 m_old = _mm256_loadu_ps(m_io);
  const __m256 m_new = _mm256_max_ps(m_old, mx);
  // m_old = -inf only before the first run, where acc and l are 0: alpha is then e^-87.3, harmless.
  const __m256 alpha = exp_avx2(_mm256_sub_ps(m_old, m_new));
  // P in its own array: the mix loop indexes it with a run-time j, which would keep s in memory.
  __m256 p[kLanes];
  __m256 lsum = _mm256_setzero_ps();
  for (int64_t j = 0; j < kLanes; ++j) {
    p[j] = _mm256_and_ps(vis[j], exp_avx2(_mm256_sub_ps(s[j], m_new)));
    lsum = _mm256_add_ps(lsum, p[j]);
  }
  _mm256_storeu_ps(m_io, m_new);
  _mm256_storeu_ps(l_io, _mm256_fmadd_ps(_mm256_loadu_ps(l_io), alpha, lsum));
  // acc[d] = acc[d] * alpha + sum_j P_j * v_j[d]: 4 dimensions at a time (4 independent chains).
  int64_t d = 0;
  for (; d + 4 <= hd; d += 4) {
    __m256 a[4];
    for (int64_t i = 0; i < 4; ++i) a[i] = _mm256_mul_ps(_mm256_loadu_ps(acc + (d + i) * kLanes), alpha);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < 4; ++i) a[i] = _mm256_fmadd_ps(p[j], _mm256_broadcast_ss(vf + j * hd + d + i), a[i]);
    for (int64_t i = 0; i < 4; ++i) _mm256_storeu_ps(acc + (d + i) * kLanes, a[i]);
  }
  if constexpr (kHd == 0 || kHd % 4 != 0)  // the dimensions left over
    for (; d < hd; ++d) {
      __m256 a = _mm256_mul_ps(_mm256_loadu_ps(acc + d * kLanes), alpha);
      for (int64_t j = 0; j < n; ++j) a = _mm256_fmadd_ps(p[j], _mm256_broadcast_ss(vf + j * hd + d), a);
      _mm256_storeu_ps(acc + d * kLanes, a);
    }
}

void run_avx2(const QueryTile& tile, const KvHeadView& kv, float* scratch) {
  const int64_t hd = tile.hd;
  auto* const step = hd == 64 ? &rv_step<64> : hd == 128 ? &rv_step<128> : &rv_step<0>;
  run_tile<kLanes>(tile, kv, scratch, convert_run,
                   [&](const float* qt, float* acc, const float* kf, const float* vf, float* m, float* l,
                       const int32_t* pos, int64_t s0, int64_t n) {
                     step(qt, acc, kf, vf, m, l, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pos)), s0, n, hd);
                   });
}

constexpr TiledAttention kAvx2{scratch_floats_avx2, run_avx2};

}  // namespace

const TiledAttention* tiled_attention_avx2() {
  static const bool ok =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return ok ? &kAvx2 : nullptr;
}

}  // namespace parley::llm::ops
