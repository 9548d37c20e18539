// The ISA-independent half of the packed-weight kernels (packed.hpp layout), shared by the AVX-512 VNNI
// kernel (packed_avx512.cpp) and the AMX kernel (packed_amx.cpp): the activation factors, the unpacking
// of one 32-element block of a 16-row panel to the VNNI "B" layout (8 zmm, zmm s = elements 4s..4s+3
// of each of the 16 rows, unsigned bytes), the rows' block scales, and the scale math that turns one
// token's 16 integer dots into its contribution to the 16 outputs.
// Include only from files compiled with the AVX-512 flags (*_avx512.cpp, *_amx.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/packed.hpp"

namespace parley::llm::quant::detail {

// Calls kernel.template operator()<kSteps, kQh, kM, kK, k6>() with the template arguments of a packed
// type (kSteps: 8 byte steps (Q8_0) or 4 nibble steps; kQh: a fifth bit plane; kM: a stored minimum;
// kK: K-quant superblock scales; k6: Q6_K). False for a type without a packed layout.
template <typename Kernel>
bool with_packed_type(TensorType type, Kernel&& kernel) {
  switch (type) {
    case TensorType::Q8_0: kernel.template operator()<8, false, false, false, false>(); return true;
    case TensorType::Q4_0: kernel.template operator()<4, false, false, false, false>(); return true;
    case TensorType::Q4_1: kernel.template operator()<4, false, true, false, false>(); return true;
    case TensorType::Q5_0: kernel.template operator()<4, true, false, false, false>(); return true;
    case TensorType::Q5_1: kernel.template operator()<4, true, true, false, false>(); return true;
    case TensorType::Q4_K: kernel.template operator()<4, false, true, true, false>(); return true;
    case TensorType::Q5_K: kernel.template operator()<4, true, true, true, false>(); return true;
    case TensorType::Q6_K: kernel.template operator()<4, false, false, false, true>(); return true;
    default: return false;
  }
}

// Lanes of the rows of the panel starting at row0 that lie before r1 (the last panel of a range may be
// partial).
inline __mmask16 panel_rows_mask(int64_t row0, int64_t r1) {
  const int64_t valid = r1 - row0 < kPanelRows ? r1 - row0 : kPanelRows;
  return static_cast<__mmask16>((1u << valid) - 1);
}

// Per token and block: xd = activation scale, xs = offset factor (xd * sum for types with a stored
// minimum, c * xd * sum for the symmetric ones, whose offset is -c * d).
// Q6_K (16-element scales) uses xs0 / xs1 = 32 * xd * (sum of each half) instead of xs.
struct PackedActs {
  std::vector<float> xd, xs, xs0, xs1;  // [token][block]
  void fill(const BlockQ8A* X, int64_t count, bool has_m, float c, bool halves) {
    xd.resize(static_cast<size_t>(count)), xs.resize(static_cast<size_t>(count));
    if (halves) xs0.resize(static_cast<size_t>(count)), xs1.resize(static_cast<size_t>(count));
    const float f = has_m ? 1.0f : c;
    for (int64_t i = 0; i < count; ++i) {
      const size_t u = static_cast<size_t>(i);
      xd[u] = X[i].d;
      xs[u] = offset_factor(X[i], f);
      if (halves) xs0[u] = half_offset_factor(X[i], c, 0), xs1[u] = half_offset_factor(X[i], c, 1);
    }
  }
  // f * xd * (sum of the block), f = 1 (stored minimum) or c; c * xd * (sum of half h) for Q6_K.
  static float offset_factor(const BlockQ8A& x, float f) { return f * x.d * static_cast<float>(x.sum[0] + x.sum[1]); }
  static float half_offset_factor(const BlockQ8A& x, float c, int h) { return c * x.d * static_cast<float>(x.sum[h]); }
};

// Block b of a panel as 8 zmm of unsigned weights: w[s] lane (row) r = elements 4s..4s+3 of row r.
// Q8_0 is stored that way; the 4-bit types are split into nibbles (+ bit 4 from the qh masks, or bits
// 4-5 from the qh6 planes). Cost: 8 loads (Q8_0) or 4 loads + ~12-20 ALU ops.
template <int kSteps, bool kQh, bool k6>
__attribute__((always_inline)) inline void unpack_block(const uint8_t* panel, const PanelLayout& l, int64_t b,
                                                        __m512i* w) {
  const uint8_t* qb = panel + l.qs_off + b * static_cast<int64_t>(kSteps) * 64;
  const uint8_t* qh = panel + l.qh_off;
  if constexpr (kSteps == 8) {
    for (int i = 0; i < 8; ++i) w[i] = _mm512_load_si512(qb + 64 * i);
  } else {
    const __m512i low4 = _mm512_set1_epi8(0x0f), sixteen = _mm512_set1_epi8(16);
    for (int s = 0; s < 4; ++s) {
      const __m512i v = _mm512_load_si512(qb + 64 * s);
      __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      if constexpr (kQh) {
        uint64_t mk[2];
        std::memcpy(mk, qh + b * 64 + 16 * s, 16);
        lo = _mm512_mask_add_epi8(lo, static_cast<__mmask64>(mk[0]), lo, sixteen);
        hi = _mm512_mask_add_epi8(hi, static_cast<__mmask64>(mk[1]), hi, sixteen);
      }
      w[s] = lo, w[4 + s] = hi;
    }
    if constexpr (k6) {  // bits 4-5 (packed.hpp, qh6): w |= shifted bits & 0x30
      const __m512i c30 = _mm512_set1_epi8(0x30);
      for (int p = 0; p < 2; ++p) {
        const __m512i h = _mm512_load_si512(qh + b * 128 + 64 * p);
        w[p] = _mm512_ternarylogic_epi32(w[p], _mm512_slli_epi16(h, 4), c30, 0xf8);
        w[p + 2] = _mm512_ternarylogic_epi32(w[p + 2], _mm512_slli_epi16(h, 2), c30, 0xf8);
        w[4 + p] = _mm512_ternarylogic_epi32(w[4 + p], h, c30, 0xf8);
        w[6 + p] = _mm512_ternarylogic_epi32(w[6 + p], _mm512_srli_epi16(h, 2), c30, 0xf8);
      }
    }
  }
}

// The 16 rows' scales of block b (one lane per row): w = d * q + m for the types with a stored minimum
// (K-quants: d * sc and -dmin * mn, exact in f32); d only for the symmetric ones (offset -c * d through
// xs); Q6_K: d = d * sc of the first 16 elements, m = d * sc of the last 16.
template <bool kM, bool kK, bool k6>
__attribute__((always_inline)) inline void block_scales(const uint8_t* panel, const PanelLayout& l, int64_t b,
                                                        __m512& d, __m512& m) {
  const uint16_t* d16 = reinterpret_cast<const uint16_t*>(panel + l.d_off);
  const uint16_t* m16 = reinterpret_cast<const uint16_t*>(panel + l.m_off);
  m = _mm512_setzero_ps();
  if constexpr (k6) {
    const __m512 dv = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16 + (b / 8) * 16)));
    const __m128i s0 = _mm_load_si128(reinterpret_cast<const __m128i*>(panel + l.sc_off + b * 32));
    const __m128i s1 = _mm_load_si128(reinterpret_cast<const __m128i*>(panel + l.sc_off + b * 32 + 16));
    d = _mm512_mul_ps(dv, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s0)));
    m = _mm512_mul_ps(dv, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s1)));
  } else if constexpr (kK) {
    const int64_t sb = b / 8;
    const __m128i sc = _mm_load_si128(reinterpret_cast<const __m128i*>(panel + l.sc_off + b * 16));
    const __m128i mn = _mm_load_si128(reinterpret_cast<const __m128i*>(panel + l.mn_off + b * 16));
    d = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16 + sb * 16))),
                      _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(sc)));
    m = _mm512_mul_ps(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m16 + sb * 16))),
                      _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(mn)));
    m = _mm512_sub_ps(_mm512_setzero_ps(), m);
  } else {
    d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(d16 + b * 16)));
    if constexpr (kM) m = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m16 + b * 16)));
  }
}

// acc + one token's share of block xi = token * nb + b, from dot = the 16 rows' integer dots over the
// whole block: d * (dot * xd) + m * xs, or d * (dot * xd - xs) for the symmetric types.
template <bool kM>
__attribute__((always_inline)) inline __m512 add_block_dot(__m512 acc, __m512i dot, __m512 d, __m512 m,
                                                           const PackedActs& a, int64_t xi) {
  const __m512 fdot = _mm512_cvtepi32_ps(dot);
  const __m512 xd = _mm512_set1_ps(a.xd[static_cast<size_t>(xi)]);
  const __m512 xs = _mm512_set1_ps(a.xs[static_cast<size_t>(xi)]);
  if constexpr (kM) {
    acc = _mm512_fmadd_ps(fdot, _mm512_mul_ps(d, xd), acc);
    return _mm512_fmadd_ps(m, xs, acc);
  } else {
    return _mm512_fmadd_ps(d, _mm512_fmsub_ps(fdot, xd, xs), acc);
  }
}

// Q6_K: acc + one 16-element half's share: dh * (h * xd - xsh), xsh = a.xs0 or a.xs1 of the token.
__attribute__((always_inline)) inline __m512 add_half_dot(__m512 acc, __m512i h, __m512 dh, float xd, float xsh) {
  return _mm512_fmadd_ps(dh, _mm512_fmsub_ps(_mm512_cvtepi32_ps(h), _mm512_set1_ps(xd), _mm512_set1_ps(xsh)),
                         acc);
}

}  // namespace parley::llm::quant::detail
