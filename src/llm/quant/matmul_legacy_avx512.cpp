// AVX-512 BW + VNNI direct kernels for the 32-block types (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) at n_tokens <
// kTileMinTokens (generation). Two consecutive blocks fill one zmm: one vpdpbusd (u8 weights x s8
// activations), one int->float convert and one FMA with both blocks' (weight scale x activation scale)
// per pair; the offsets (the -8/-16/-128 of the symmetric types, the stored min of Q4_1/Q5_1) times the
// activation block sums are summed separately, 16 blocks per vector. Cost per pair of blocks, row and
// token: 3 vector ops after a ~5-9 op decode.
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

// Per token: the int8 activations contiguous, and per block d and d * (sum of the block).
struct LActivations {
  std::vector<int8_t> q;  // [token][k] contiguous (plus 64 bytes of padding)
  std::vector<float> d, xs;  // [token][block]
  int64_t k = 0, nb = 0;

  void fill(const BlockQ8A* X, int64_t k_, int64_t n) {
    k = k_, nb = k_ / 32;
    q.resize(static_cast<size_t>(n * k + 64));
    d.resize(static_cast<size_t>(n * nb));
    xs.resize(d.size());
    for (int64_t i = 0; i < n * nb; ++i) {
      std::memcpy(q.data() + i * 32, X[i].qs, 32);
      d[static_cast<size_t>(i)] = X[i].d;
      xs[static_cast<size_t>(i)] = X[i].d * static_cast<float>(X[i].sum[0] + X[i].sum[1]);
    }
  }
};

// 2 blocks (the second absent when kTail) -> 64 unsigned bytes, natural element order. Built from
// broadcast loads and a blend (no port-5 shuffles): [qs_b, qs_b, qs_b+1, qs_b+1] >> [0, 4, 0, 4] & 15.
template <TensorType T, bool kTail>
inline __m512i decode_pair(const typename Legacy<T>::Block* x) {
  using L = Legacy<T>;
  if constexpr (L::kEight) {
    __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[0].qs)));
    if constexpr (!kTail)
      v = _mm512_mask_blend_epi64(0xf0, v, _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[1].qs))));
    v = _mm512_xor_si512(v, _mm512_set1_epi8(static_cast<char>(0x80)));
    if constexpr (kTail) v = _mm512_maskz_mov_epi64(0x0f, v);
    return v;
  } else {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[0].qs)));
    if constexpr (!kTail)
      v = _mm512_mask_blend_epi64(0xf0, v, _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[1].qs))));
    const __m512i shifts = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);
    v = _mm512_and_si512(_mm512_srlv_epi64(v, shifts), _mm512_set1_epi8(0x0f));
    if constexpr (L::kFive) {
      uint32_t ha, hb = 0;
      std::memcpy(&ha, x[0].qh, 4);
      if constexpr (!kTail) std::memcpy(&hb, x[1].qh, 4);
      const __mmask64 k = static_cast<__mmask64>(ha) | (static_cast<__mmask64>(hb) << 32);
      v = _mm512_mask_add_epi8(v, k, v, _mm512_set1_epi8(16));
    }
    if constexpr (kTail) v = _mm512_maskz_mov_epi64(0x0f, v);
    return v;
  }
}

// [v[b] x8 | v[b+1] x8] from two broadcast loads.
template <bool kTail>
inline __m512 pair_vec(const float* v, int64_t b) {
  const __m512 a = _mm512_set1_ps(v[b]);
  return kTail ? _mm512_maskz_mov_ps(0x00ff, a) : _mm512_mask_blend_ps(0xff00, a, _mm512_set1_ps(v[b + 1]));
}

// One pair of blocks for R rows x TJ tokens: acc += cvt(vpdpbusd(q, x)) * [s d_b x8 | s d_b+1 x8].
template <TensorType T, bool kTail, int R, int TJ>
inline void pair_step(const typename Legacy<T>::Block* const* rows, const float* sxd, int64_t nb, int64_t b,
                      size_t pf, const LActivations& a, __m512 (&acc)[R][TJ]) {
  using L = Legacy<T>;
  __m512i xv[TJ];
  for (int ti = 0; ti < TJ; ++ti) xv[ti] = _mm512_loadu_si512(a.q.data() + ti * a.k + b * 32);
  for (int ri = 0; ri < R; ++ri) {
    prefetch_ahead(rows[ri] + b, pf, 2 * sizeof(typename L::Block));
    const __m512i q = decode_pair<T, kTail>(rows[ri] + b);
    for (int ti = 0; ti < TJ; ++ti) {
      const __m512 dot = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), q, xv[ti]));
      acc[ri][ti] = _mm512_fmadd_ps(dot, pair_vec<kTail>(sxd + (ri * TJ + ti) * nb, b), acc[ri][ti]);
    }
  }
}

// Rows [r, r+R) x tokens [0, TJ). First, per row, 16 blocks per vector: the block scales s (and mins m)
// by a gather of the 32-bit words that start each block (d low, m high), the products s * d_token for
// the pair loop, and the whole offset term sum_b (m_b or -c s_b) * d_b * sum_b; then the pair loop does
// one vpdpbusd + convert + FMA per pair of blocks.
template <TensorType T, int R, int TJ>
void legacy_tile(const uint8_t* W, size_t rb, int64_t r, const LActivations& a, float* Y, int64_t ldy) {
  using L = Legacy<T>;
  const typename L::Block* rows[R];
  for (int ri = 0; ri < R; ++ri) rows[ri] = reinterpret_cast<const typename L::Block*>(W + (r + ri) * rb);
  const int64_t nb = a.nb;
  thread_local std::vector<float> sxd;
  sxd.resize(static_cast<size_t>(R * TJ * nb + 16));
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(sizeof(typename L::Block))));
  float offset[R][TJ];
  for (int ri = 0; ri < R; ++ri) {
    __m512 off[TJ];
    for (int ti = 0; ti < TJ; ++ti) off[ti] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 16) {
      const __mmask16 k = nb - b >= 16 ? 0xffff : static_cast<__mmask16>((1u << (nb - b)) - 1);
      const __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, rows[ri] + b, 1);
      const __m512 sv = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(g));
      const __m512 mv = L::kMin ? _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(g, 16)))
                                : _mm512_mul_ps(sv, _mm512_set1_ps(-L::kC));
      for (int ti = 0; ti < TJ; ++ti) {
        _mm512_mask_storeu_ps(sxd.data() + (ri * TJ + ti) * nb + b, k,
                              _mm512_mul_ps(sv, _mm512_maskz_loadu_ps(k, a.d.data() + ti * nb + b)));
        off[ti] = _mm512_fmadd_ps(mv, _mm512_maskz_loadu_ps(k, a.xs.data() + ti * nb + b), off[ti]);
      }
    }
    for (int ti = 0; ti < TJ; ++ti) offset[ri][ti] = _mm512_reduce_add_ps(off[ti]);
  }
  const size_t pf = prefetch_distance(R * rb);
  __m512 acc[R][TJ];
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) acc[ri][ti] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) pair_step<T, false, R, TJ>(rows, sxd.data(), nb, b, pf, a, acc);
  if (b < nb) pair_step<T, true, R, TJ>(rows, sxd.data(), nb, b, pf, a, acc);
  for (int ri = 0; ri < R; ++ri)
    for (int ti = 0; ti < TJ; ++ti) Y[ti * ldy + r + ri] = _mm512_reduce_add_ps(acc[ri][ti]) + offset[ri][ti];
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
  a.fill(X, k, n);
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
