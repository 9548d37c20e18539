// AVX-512 version of the tiled attention kernel (compiled with the AVX-512 flags, see
// cmake/parley.cmake; selected at run time).
//
// Layout: the tile's rows (row r = token r / group, head r % group) are packed 16 to a vector, one
// lane per row, so that nothing needs a horizontal sum:
//   qt  [n_rv][hd][16]   the queries transposed (times scale), set up once per tile
//   acc [n_rv][hd][16]   the output accumulators, transposed the same way
//   kf, vf [16][hd]      the current run of <= 16 cache slots converted to f32, once per tile
// For a run of slots j (16 lanes of rows each):
//   S_j   = sum_d qt[d] * k_j[d]            (16 independent broadcast-FMA chains over d)
//   m'    = max(m, max over visible j S_j),  alpha = e^(m - m'),  P_j = visible ? e^(S_j - m') : 0
//   l     = l * alpha + sum_j P_j
//   acc[d] = acc[d] * alpha + sum_j P_j * v_j[d]
// and at the end out_row[d] = acc[d][lane] / l[lane]. Per row and visible slot: 2 * hd multiply-adds.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors (_mm512_max_ps,
// _mm512_cvtph_ps, ...) that trip -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstring>
#include <limits>

#include "llm/model/tiled_attention.hpp"
#include "llm/model/tiled_attention_lanes.hpp"
#include "llm/quant/fp16.hpp"

namespace parley::llm::ops {
namespace {

constexpr int64_t kLanes = 16;

// e^x for 16 floats: x = n ln2 + r (|r| <= ln2 / 2, ln2 split in two), e^r by a degree-6 polynomial
// (relative error ~1e-7), times 2^n by scalef. x is clamped to [-87.3, 88.3]; e^0 is exactly 1.
__m512 exp512(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

int64_t scratch_floats_avx512(int64_t n_q, int64_t group, int64_t hd) {
  return TileLayout<kLanes>::make(n_q, group, hd).total;
}

// dst[j * hd + i] = f32 of slot j's hd values, j < n; rows n..15 are zeroed (they meet P = 0).
void convert_run(const uint16_t* src, int64_t stride, int64_t n, int64_t hd, float* dst) {
  for (int64_t j = 0; j < n; ++j) {
    const uint16_t* s = src + j * stride;
    float* d = dst + j * hd;
    int64_t i = 0;
    for (; i + 16 <= hd; i += 16)
      _mm512_storeu_ps(d + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i))));
    for (; i < hd; ++i) d[i] = quant::fp16_to_fp32(s[i]);
  }
  if (n < kLanes) std::memset(dst + n * hd, 0, sizeof(float) * (kLanes - n) * hd);
}

// One row vector against the converted run of n slots starting at slot s0. kHd: the head size when
// known at compile time (0: hd_rt), which makes the 16 broadcast addresses kf + j * hd + d one pointer
// plus constant offsets instead of 16 pointers (more than the free registers).
template <int64_t kHd>
void rv_step(const float* qt, float* acc, const float* kf, const float* vf, float* m_io, float* l_io,
             __m512i pos, int64_t s0, int64_t n, int64_t hd_rt) {
  const int64_t hd = kHd ? kHd : hd_rt;
  __m512 s[kLanes];
  for (auto& x : s) x = _mm512_setzero_ps();
  for (int64_t d = 0; d < hd; ++d) {
    const __m512 q = _mm512_loadu_ps(qt + d * kLanes);
    for (int64_t j = 0; j < kLanes; ++j) s[j] = _mm512_fmadd_ps(q, _mm512_set1_ps(kf[j * hd + d]), s[j]);
  }
  // Visibility: lane sees slot s0 + j when its position >= s0 + j (and j < n).
  __mmask16 vis[kLanes];
  __m512 mx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < kLanes; ++j) {
    vis[j] = j < n ? _mm512_cmpge_epi32_mask(pos, _mm512_set1_epi32(static_cast<int>(s0 + j))) : 0;
    mx = _mm512_mask_max_ps(mx, vis[j], mx, s[j]);
  }
  const __m512 m_old = _mm512_loadu_ps(m_io);
  const __m512 m_new = _mm512_max_ps(m_old, mx);
  // m_old = -inf only before the first run, where acc and l are 0: alpha is then e^-87.3, harmless.
  const __m512 alpha = exp512(_mm512_sub_ps(m_old, m_new));
  // P in its own array: the mix loop indexes it with a run-time j, which would keep s in memory.
  __m512 p[kLanes];
  __m512 lsum = _mm512_setzero_ps();
  for (int64_t j = 0; j < kLanes; ++j) {
    p[j] = _mm512_maskz_mov_ps(vis[j], exp512(_mm512_sub_ps(s[j], m_new)));
    lsum = _mm512_add_ps(lsum, p[j]);
  }
  _mm512_storeu_ps(m_io, m_new);
  _mm512_storeu_ps(l_io, _mm512_fmadd_ps(_mm512_loadu_ps(l_io), alpha, lsum));
  // acc[d] = acc[d] * alpha + sum_j P_j * v_j[d]: 8 dimensions at a time (8 independent chains).
  int64_t d = 0;
  for (; d + 8 <= hd; d += 8) {
    __m512 a[8];
    for (int64_t i = 0; i < 8; ++i) a[i] = _mm512_mul_ps(_mm512_loadu_ps(acc + (d + i) * kLanes), alpha);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < 8; ++i) a[i] = _mm512_fmadd_ps(p[j], _mm512_set1_ps(vf[j * hd + d + i]), a[i]);
    for (int64_t i = 0; i < 8; ++i) _mm512_storeu_ps(acc + (d + i) * kLanes, a[i]);
  }
  if constexpr (kHd == 0 || kHd % 8 != 0)  // the dimensions left over
    for (; d < hd; ++d) {
      __m512 a = _mm512_mul_ps(_mm512_loadu_ps(acc + d * kLanes), alpha);
      for (int64_t j = 0; j < n; ++j) a = _mm512_fmadd_ps(p[j], _mm512_set1_ps(vf[j * hd + d]), a);
      _mm512_storeu_ps(acc + d * kLanes, a);
    }
}

void run_avx512(const QueryTile& tile, const KvHeadView& kv, float* scratch) {
  const int64_t hd = tile.hd;
  auto* const step = hd == 64 ? &rv_step<64> : hd == 128 ? &rv_step<128> : &rv_step<0>;
  run_tile<kLanes>(tile, kv, scratch, convert_run,
                   [&](const float* qt, float* acc, const float* kf, const float* vf, float* m, float* l,
                       const int32_t* pos, int64_t s0, int64_t n) {
                     step(qt, acc, kf, vf, m, l, _mm512_loadu_si512(pos), s0, n, hd);
                   });
}

constexpr TiledAttention kAvx512{scratch_floats_avx512, run_avx512};

}  // namespace

const TiledAttention* tiled_attention_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok ? &kAvx512 : nullptr;
}

}  // namespace parley::llm::ops
