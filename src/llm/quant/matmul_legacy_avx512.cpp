// AVX-512 BW + VNNI direct kernels for the 32-block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) at n_tokens <
// kTileMinTokens (generation). Two consecutive blocks fill one zmm: one vpdpbusd (u8 weights x s8
// activations), one int->float convert and two FMAs apply both blocks' scales at once; offsets (the
// -8/-16/-128 of the symmetric types, the stored min of Q4_1/Q5_1) go through per-token vectors prepared
// once per call. Cost per pair of blocks, row and token: ~6 vector ops after a ~8-12 op decode.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors that trip
// -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstring>
#include <type_traits>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {
namespace {

constexpr int kMaxTokens = kTileMinTokens - 1;

template <TensorType T>
struct Legacy {
  static constexpr bool kMin = T == TensorType::Q4_1 || T == TensorType::Q5_1;  // w = d q + m
  static constexpr bool kFive = T == TensorType::Q5_0 || T == TensorType::Q5_1;
  static constexpr bool kEight = T == TensorType::Q8_0;
  // symmetric types: w = d (q - c) with q unsigned
  static constexpr float kC = kEight ? 128.0f : kFive ? 16.0f : 8.0f;
  using Block = std::conditional_t<
      T == TensorType::Q8_0, BlockQ8_0,
      std::conditional_t<T == TensorType::Q4_0, BlockQ4_0,
                         std::conditional_t<T == TensorType::Q4_1, BlockQ4_1,
                                            std::conditional_t<T == TensorType::Q5_0, BlockQ5_0, BlockQ5_1>>>>;
};

// Per token, per pair of blocks (b, b+1): xd = [d_b x8 | d_b+1 x8]; xo = offset factors
// [d_b sum_b / 8 x8 | ...] (times -c for the symmetric types). Blocks past the row end are zero.
struct LActivations {
  std::vector<int8_t> q;  // [token][k] contiguous (plus 64 bytes of padding)
  std::vector<float> xd, xo;
  int64_t k = 0, npairs = 0;

  void fill(const BlockQ8A* X, int64_t k_, int64_t n, float c, bool with_min) {
    k = k_, npairs = (k_ / 32 + 1) / 2;
    const int64_t nb = k / 32;
    q.assign(static_cast<size_t>(n * k + 64), 0);
    xd.assign(static_cast<size_t>(n * npairs * 16), 0.0f);
    xo.assign(xd.size(), 0.0f);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t b = 0; b < nb; ++b) {
        const BlockQ8A& x = X[j * nb + b];
        std::memcpy(q.data() + j * k + b * 32, x.qs, 32);
        const float o = x.d * static_cast<float>(x.sum[0] + x.sum[1]) / 8.0f * (with_min ? 1.0f : -c);
        for (int l = 0; l < 8; ++l) {
          xd[static_cast<size_t>((j * npairs + b / 2) * 16 + (b % 2) * 8 + l)] = x.d;
          xo[static_cast<size_t>((j * npairs + b / 2) * 16 + (b % 2) * 8 + l)] = o;
        }
      }
  }
};

// 2 blocks (the second absent when kTail) -> 64 unsigned bytes, natural element order.
template <TensorType T, bool kTail>
inline __m512i decode_pair(const typename Legacy<T>::Block* x) {
  using L = Legacy<T>;
  if constexpr (L::kEight) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[0].qs));
    const __m256i b = kTail ? _mm256_setzero_si256() : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[1].qs));
    const __m512i v = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
    return _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80)));
  } else {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[0].qs));
    const __m128i b = kTail ? _mm_setzero_si128() : _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[1].qs));
    const __m256i ab = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);  // [qs_b | qs_b+1]
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m512i lh = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(ab, low4)),
                                          _mm256_and_si256(_mm256_srli_epi16(ab, 4), low4), 1);
    // [lo_b, lo_b+1, hi_b, hi_b+1] (16 bytes each) -> [lo_b, hi_b, lo_b+1, hi_b+1]
    __m512i v = _mm512_shuffle_i64x2(lh, lh, _MM_SHUFFLE(3, 1, 2, 0));
    if constexpr (L::kFive) {
      uint32_t ha, hb = 0;
      std::memcpy(&ha, x[0].qh, 4);
      if constexpr (!kTail) std::memcpy(&hb, x[1].qh, 4);
      const __mmask64 k = static_cast<__mmask64>(ha) | (static_cast<__mmask64>(hb) << 32);
      v = _mm512_mask_add_epi8(v, k, v, _mm512_set1_epi8(16));
    }
    if constexpr (kTail) v = _mm512_maskz_mov_epi8(0xffffffffull, v);
    return v;
  }
}

// Scales (and mins) of 2 blocks as [s_b x8 | s_b+1 x8].
template <TensorType T, bool kTail>
inline void scales_pair(const typename Legacy<T>::Block* x, __m512& s, __m512& m) {
  using L = Legacy<T>;
  if constexpr (L::kMin) {
    uint32_t a, b = 0;
    std::memcpy(&a, &x[0].d, 4);  // d, m adjacent
    if constexpr (!kTail) std::memcpy(&b, &x[1].d, 4);
    const __m128 f = _mm_cvtph_ps(_mm_set_epi32(0, 0, static_cast<int>(b), static_cast<int>(a)));  // d0 m0 d1 m1
    const __m512 f4 = _mm512_castps128_ps512(f);
    s = _mm512_permutexvar_ps(_mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0), f4);
    m = _mm512_permutexvar_ps(_mm512_set_epi32(3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1), f4);
  } else {
    const uint32_t a = x[0].d, b = kTail ? 0u : x[1].d;
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(a | (b << 16))));
    s = _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0), _mm512_castps128_ps512(f));
    m = s;
  }
}

template <TensorType T, bool kTail, int R, int TJ>
inline void pair_step(const typename Legacy<T>::Block* const* rows, int64_t b, int64_t pair, const LActivations& a,
                      __m512 (&acc)[R][TJ]) {
  using L = Legacy<T>;
  for (int ri = 0; ri < R; ++ri) {
    const typename L::Block* x = rows[ri] + b;
    const __m512i q = decode_pair<T, kTail>(x);
    __m512 s, m;
    scales_pair<T, kTail>(x, s, m);
    for (int ti = 0; ti < TJ; ++ti) {
      const __m512i xv = _mm512_loadu_si512(a.q.data() + ti * a.k + b * 32);
      const __m512 xd = _mm512_loadu_ps(a.xd.data() + (ti * a.npairs + pair) * 16);
      const __m512 xo = _mm512_loadu_ps(a.xo.data() + (ti * a.npairs + pair) * 16);
      const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, xv));
      if constexpr (L::kMin) {
        acc[ri][ti] = _mm512_fmadd_ps(_mm512_mul_ps(dot, xd), s, acc[ri][ti]);
        acc[ri][ti] = _mm512_fmadd_ps(m, xo, acc[ri][ti]);
      } else {
        acc[ri][ti] = _mm512_fmadd_ps(_mm512_fmadd_ps(dot, xd, xo), s, acc[ri][ti]);
      }
    }
  }
}

template <TensorType T, int R, int TJ>
void legacy_tile(const uint8_t* W, size_t rb, int64_t r, const LActivations& a, float* Y, int64_t ldy) {
  using L = Legacy<T>;
  const typename L::Block* rows[R];
  for (int ri = 0; ri < R; ++ri) rows[ri] = reinterpret_cast<const typename L::Block*>(W + (r + ri) * rb);
  __m512 acc[R][TJ];
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) acc[ri][ti] = _mm512_setzero_ps();
  const int64_t nb = a.k / 32;
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) pair_step<T, false, R, TJ>(rows, b, b / 2, a, acc);
  if (b < nb) pair_step<T, true, R, TJ>(rows, b, b / 2, a, acc);
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) Y[ti * ldy + r + ri] = _mm512_reduce_add_ps(acc[ri][ti]);
}

template <TensorType T, int TJ>
void rows(const uint8_t* W, int64_t k, int64_t r0, int64_t r1, const LActivations& a, float* Y, int64_t ldy) {
  const size_t rb = row_bytes(T, k);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) legacy_tile<T, 4, TJ>(W, rb, r, a, Y, ldy);
  for (; r < r1; ++r) legacy_tile<T, 1, TJ>(W, rb, r, a, Y, ldy);
}

template <TensorType T>
void run(const void* W, int64_t k, int64_t r0, int64_t r1, const BlockQ8A* X, int64_t n, float* Y, int64_t ldy) {
  thread_local LActivations a;
  a.fill(X, k, n, Legacy<T>::kC, Legacy<T>::kMin);
  const auto* w = static_cast<const uint8_t*>(W);
  switch (n) {
    case 1: rows<T, 1>(w, k, r0, r1, a, Y, ldy); break;
    case 2: rows<T, 2>(w, k, r0, r1, a, Y, ldy); break;
    case 3: rows<T, 3>(w, k, r0, r1, a, Y, ldy); break;
    default: break;
  }
}

}  // namespace

bool legacy_direct_avx512(TensorType wt, const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n,
                          float* Y, int64_t ldy) {
  static_assert(kMaxTokens == 3);
  if (n < 1 || n > kMaxTokens) return false;
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  switch (wt) {
    case TensorType::Q8_0: run<TensorType::Q8_0>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q4_0: run<TensorType::Q4_0>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q4_1: run<TensorType::Q4_1>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q5_0: run<TensorType::Q5_0>(W, k, r0, r1, X, n, Y, ldy); return true;
    case TensorType::Q5_1: run<TensorType::Q5_1>(W, k, r0, r1, X, n, Y, ldy); return true;
    default: return false;
  }
}

}  // namespace parley::llm::quant::detail
