// AVX-512 BW + VNNI direct kernels for K-quant weights (Q4_K, Q5_K, Q6_K) at n_tokens < kTileMinTokens
// (generation). The activations of a 256 super-block share one scale, so the 8 sub-blocks are summed in
// integers: per pair of 32-element sub-blocks one maddubs (u8 weights x s8 activations -> int16 pairs,
// no saturation as q <= 63) and one vpdpwssd against the sub-block scales as int16; the float scale
// d * dx and the min / -32 offset terms are applied once per super-block. Cost per 256 weights and row:
// ~4 x (decode 3-5 + 2 per token) + ~12 vector ops; reads every row once per call.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors (e.g. in
// _mm512_inserti64x4, _mm512_cvtepi32_ps) that trip -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstring>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {
namespace {

constexpr int kMaxTokens = kTileMinTokens - 1;

// Activations of up to kMaxTokens tokens rearranged for these kernels, once per call. For Q4_K / Q5_K
// the 32-blocks of each super-block are stored in the order 0,2,1,3,4,6,5,7, matching the weights' low
// nibbles (sub-blocks 2p) and high nibbles (2p+1) of 64 consecutive qs bytes.
struct KActivations {
  std::vector<int8_t> q;      // [token][k]
  std::vector<float> d;       // [token][super-block] scale
  std::vector<int16_t> sums;  // [token][super-block][16]: sum of each 16-element half
  std::vector<int16_t> bsum;  // [token][super-block][8]: sum of each 32-block
  int64_t k = 0, nsb = 0;

  void fill(const BlockQ8A* X, int64_t k_, int64_t n, bool k45_order) {
    k = k_, nsb = k_ / 256;
    const int64_t nb = k / 32;
    q.resize(static_cast<size_t>(n * k + 64));
    d.resize(static_cast<size_t>(n * nsb));
    sums.resize(static_cast<size_t>(n * nsb * 16));
    bsum.resize(static_cast<size_t>(n * nsb * 8));
    static constexpr int kPos[8] = {0, 2, 1, 3, 4, 6, 5, 7};  // storage slot of block j
    for (int64_t j = 0; j < n; ++j)
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8A& x = X[j * nb + b];
        const int64_t sb = b / 8, jb = b % 8;
        std::memcpy(q.data() + j * k + sb * 256 + (k45_order ? kPos[jb] : jb) * 32, x.qs, 32);
        if (jb == 0) d[j * nsb + sb] = x.d;
        sums[(j * nsb + sb) * 16 + jb * 2] = x.sum[0];
        sums[(j * nsb + sb) * 16 + jb * 2 + 1] = x.sum[1];
        bsum[(j * nsb + sb) * 8 + jb] = static_cast<int16_t>(x.sum[0] + x.sum[1]);
      }
  }
};

inline int hsum16i(__m512i v) { return _mm512_reduce_add_epi32(v); }

inline int hsum4i(__m128i s) {
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// Q4_K / Q5_K: rows [r, r+R) x tokens [0, TJ). Per half super-block (64 qs bytes = sub-blocks 4h..4h+3)
// one zmm load; its low nibbles are sub-blocks (4h, 4h+2), its high nibbles (4h+1, 4h+3).
template <bool kFive, int R, int TJ>
void k45_tile(const uint8_t* W, size_t rb, int64_t r, const KActivations& a, float* Y, int64_t ldy) {
  using B = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const size_t pf = prefetch_distance(R * rb);
  __m512 acc[R][TJ];
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) acc[ri][ti] = _mm512_setzero_ps();
  // int16 scale vectors: lanes 0-15 take sub-block j0, lanes 16-31 sub-block j0 + 2
  auto idx2 = [](int j0) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(static_cast<short>(j0))),
                              _mm256_set1_epi16(static_cast<short>(j0 + 2)), 1);
  };
  const __m512i idx_lo[2] = {idx2(0), idx2(4)}, idx_hi[2] = {idx2(1), idx2(5)};
  auto bits2 = [](int j0) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8(static_cast<char>(1 << j0))),
                              _mm256_set1_epi8(static_cast<char>(1 << (j0 + 2))), 1);
  };
  const __m512i bits_lo[2] = {bits2(0), bits2(4)}, bits_hi[2] = {bits2(1), bits2(5)};
  const __m512i sixteen = _mm512_set1_epi8(16);
  for (int64_t sb = 0; sb < a.nsb; ++sb) {
    __m512i xv[TJ][4];
    for (int ti = 0; ti < TJ; ++ti)
      for (int c = 0; c < 4; ++c) xv[ti][c] = _mm512_loadu_si512(a.q.data() + ti * a.k + sb * 256 + 64 * c);
    for (int ri = 0; ri < R; ++ri) {
      const B* x = reinterpret_cast<const B*>(W + (r + ri) * rb) + sb;
      prefetch_ahead(x, pf, sizeof(B));
      uint32_t u[3];
      std::memcpy(u, x->scales, 12);
      const uint32_t sc_lo = u[0] & 0x3f3f3f3fu, mn_lo = u[1] & 0x3f3f3f3fu;
      const uint32_t sc_hi = (u[2] & 0x0f0f0f0fu) | ((u[0] & 0xc0c0c0c0u) >> 2);
      const uint32_t mn_hi = ((u[2] >> 4) & 0x0f0f0f0fu) | ((u[1] & 0xc0c0c0c0u) >> 2);
      const __m128i both = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(sc_hi), static_cast<int>(sc_lo)));
      const __m128i mn16 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, static_cast<int>(mn_hi), static_cast<int>(mn_lo)));
      const __m512i scz = _mm512_castsi128_si512(both);
      __m512i qh2;
      if constexpr (kFive) qh2 = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qh)));
      __m512i dot[TJ];
      for (int ti = 0; ti < TJ; ++ti) dot[ti] = _mm512_setzero_si512();
      for (int h = 0; h < 2; ++h) {
        const __m512i v = _mm512_loadu_si512(x->qs + 64 * h);
        __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
        if constexpr (kFive) {
          lo = _mm512_mask_add_epi8(lo, _mm512_test_epi8_mask(qh2, bits_lo[h]), lo, sixteen);
          hi = _mm512_mask_add_epi8(hi, _mm512_test_epi8_mask(qh2, bits_hi[h]), hi, sixteen);
        }
        const __m512i s_lo = _mm512_permutexvar_epi16(idx_lo[h], scz), s_hi = _mm512_permutexvar_epi16(idx_hi[h], scz);
        for (int ti = 0; ti < TJ; ++ti) {
          dot[ti] = _mm512_dpwssd_epi32(dot[ti], _mm512_maddubs_epi16(lo, xv[ti][2 * h]), s_lo);
          dot[ti] = _mm512_dpwssd_epi32(dot[ti], _mm512_maddubs_epi16(hi, xv[ti][2 * h + 1]), s_hi);
        }
      }
      const float d = _cvtsh_ss(x->d), dmin = _cvtsh_ss(x->dmin);
      for (int ti = 0; ti < TJ; ++ti) {
        const float xd = a.d[ti * a.nsb + sb];
        // Mins: sum_j mn_j * (sum of sub-block j).
        const __m128i bs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.bsum.data() + (ti * a.nsb + sb) * 8));
        const int msum = hsum4i(_mm_madd_epi16(mn16, bs));
        const __m512 dv = _mm512_set1_ps(d * xd);
        acc[ri][ti] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, dot[ti]), dv, acc[ri][ti]);
        acc[ri][ti] = _mm512_mask_sub_ps(acc[ri][ti], 1, acc[ri][ti], _mm512_set1_ps(dmin * xd * static_cast<float>(msum)));
      }
    }
  }
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) Y[ti * ldy + r + ri] = _mm512_reduce_add_ps(acc[ri][ti]);
}

// Q6_K: rows [r, r+R) x tokens [0, TJ).
template <int R, int TJ>
void q6k_tile(const uint8_t* W, size_t rb, int64_t r, const KActivations& a, float* Y, int64_t ldy) {
  const __m512i low4 = _mm512_set1_epi8(0x0f), three = _mm512_set1_epi8(0x03);
  const size_t pf = prefetch_distance(R * rb);
  __m512 acc[R][TJ];
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) acc[ri][ti] = _mm512_setzero_ps();
  // Pair c covers sub-blocks 2c, 2c+1 = 16-element scales 4c .. 4c+3, each on 8 int16 lanes.
  __m512i pair_idx[4];
  for (int c = 0; c < 4; ++c) {
    alignas(64) int16_t idx[32];
    for (int i = 0; i < 32; ++i) idx[i] = static_cast<int16_t>(4 * c + i / 8);
    pair_idx[c] = _mm512_load_si512(idx);
  }
  const __m512i shift01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  const __m512i shift23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(4)), _mm256_set1_epi16(6), 1);
  for (int64_t sb = 0; sb < a.nsb; ++sb) {
    for (int ri = 0; ri < R; ++ri) {
      const BlockQ6_K* x = reinterpret_cast<const BlockQ6_K*>(W + (r + ri) * rb) + sb;
      prefetch_ahead(x, pf, sizeof(BlockQ6_K));
      const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x->scales)));
      const __m512i scz = _mm512_castsi256_si512(sc16);
      __m512i dot[TJ];
      for (int ti = 0; ti < TJ; ++ti) dot[ti] = _mm512_setzero_si512();
      for (int n = 0; n < 2; ++n) {
        const __m512i ql = _mm512_loadu_si512(x->ql + 64 * n);
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qh + 32 * n)));
        const __m512i q01 = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift01), three), 4));
        const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                            _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shift23), three), 4));
        const __m512i sc01 = _mm512_permutexvar_epi16(pair_idx[2 * n], scz);
        const __m512i sc23 = _mm512_permutexvar_epi16(pair_idx[2 * n + 1], scz);
        for (int ti = 0; ti < TJ; ++ti) {
          const int8_t* xq = a.q.data() + ti * a.k + sb * 256 + 128 * n;
          dot[ti] = _mm512_dpwssd_epi32(dot[ti], _mm512_maddubs_epi16(q01, _mm512_loadu_si512(xq)), sc01);
          dot[ti] = _mm512_dpwssd_epi32(dot[ti], _mm512_maddubs_epi16(q23, _mm512_loadu_si512(xq + 64)), sc23);
        }
      }
      const float d = _cvtsh_ss(x->d);
      for (int ti = 0; ti < TJ; ++ti) {
        const float xd = a.d[ti * a.nsb + sb];
        const __m256i bs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.sums.data() + (ti * a.nsb + sb) * 16));
        const __m256i ms = _mm256_madd_epi16(sc16, bs);
        const int ssum = hsum4i(_mm_add_epi32(_mm256_castsi256_si128(ms), _mm256_extracti128_si256(ms, 1)));
        const __m512 dv = _mm512_set1_ps(d * xd);
        acc[ri][ti] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, dot[ti]), dv, acc[ri][ti]);
        acc[ri][ti] = _mm512_mask_sub_ps(acc[ri][ti], 1, acc[ri][ti], _mm512_set1_ps(32.0f * d * xd * static_cast<float>(ssum)));
      }
    }
  }
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) Y[ti * ldy + r + ri] = _mm512_reduce_add_ps(acc[ri][ti]);
}

template <TensorType T, int R, int TJ>
void tile(const uint8_t* W, size_t rb, int64_t r, const KActivations& a, float* Y, int64_t ldy) {
  if constexpr (T == TensorType::Q6_K) q6k_tile<R, TJ>(W, rb, r, a, Y, ldy);
  else k45_tile<T == TensorType::Q5_K, R, TJ>(W, rb, r, a, Y, ldy);
}

template <TensorType T, int TJ>
void rows(const uint8_t* W, int64_t k, int64_t r0, int64_t r1, const KActivations& a, float* Y, int64_t ldy) {
  const size_t rb = row_bytes(T, k);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) tile<T, 4, TJ>(W, rb, r, a, Y, ldy);
  for (; r < r1; ++r) tile<T, 1, TJ>(W, rb, r, a, Y, ldy);
}

template <TensorType T>
void run(const void* W, int64_t k, int64_t r0, int64_t r1, const BlockQ8A* X, int64_t n, float* Y, int64_t ldy) {
  thread_local KActivations a;
  a.fill(X, k, n, T != TensorType::Q6_K);
  const auto* w = static_cast<const uint8_t*>(W);
  switch (n) {
    case 1: rows<T, 1>(w, k, r0, r1, a, Y, ldy); break;
    case 2: rows<T, 2>(w, k, r0, r1, a, Y, ldy); break;
    case 3: rows<T, 3>(w, k, r0, r1, a, Y, ldy); break;
    default: break;
  }
}

}  // namespace

bool kquant_direct_avx512(TensorType wt, const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n,
                          float* Y, int64_t ldy) {
  static_assert(kMaxTokens == 3);
  if (n < 1 || n > kMaxTokens) return false;
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  switch (wt) {
    case TensorType::Q4_K: run<TensorType::Q4_K>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q5_K: run<TensorType::Q5_K>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q6_K: run<TensorType::Q6_K>(W, k, r0, r1, X, n, Y, ldy); return true;
    default: return false;
  }
}

}  // namespace parley::llm::quant::detail
