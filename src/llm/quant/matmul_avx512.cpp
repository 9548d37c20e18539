// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags; only called when CPUID reports them).
//  - n_tokens < kTileMinTokens (generation): the direct kernels of simd_direct.inc with 256-bit vpdpbusd.
//  - n_tokens >= kTileMinTokens (prompts, batches): R weight rows are decoded once to unsigned bytes
//    (+ per-half scale and offset) into a small scratch; then for every pair of 16-token groups, each
//    4-byte step of a row is broadcast and vpdpbusd'd against 64 bytes of the token-major TileQ8A
//    activations, so one zmm lane holds one token: 8 vpdpbusd per (row, block, 16 tokens) and the block's
//    scale/offset applied once per lane (cvt + 2 fma). Weights are read once per matmul.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors (e.g. in
// _mm512_inserti64x4, _mm512_cvtepi32_ps) that trip -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cstring>
#include <type_traits>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {
namespace {
constexpr int kDirectMaxTokens = 3;
#include "llm/quant/simd_direct.inc"


// R rows decoded to the uniform unsigned view: q[ri][k] bytes, s/m[ri][block][half].
struct RowScratch {
  std::vector<uint8_t> q;
  std::vector<float> s, m;
};

template <TensorType T, int R>
void decode_rows(const uint8_t* W, size_t rb, int64_t k, int64_t r, RowScratch& sc) {
  using Tr = Traits<T>;
  const int64_t nb = k / 32;
  Unit u;
  for (int ri = 0; ri < R; ++ri) {
    const uint8_t* row = W + (r + ri) * rb;
    uint8_t* q = sc.q.data() + ri * k;
    float* s = sc.s.data() + ri * nb * 2;
    float* m = sc.m.data() + ri * nb * 2;
    for (int64_t un = 0; un < nb / Tr::kUnitBlocks; ++un) {
      decode_unit<T>(row, un, u);
      for (int bb = 0; bb < Tr::kUnitBlocks; ++bb) {
        const int64_t b = un * Tr::kUnitBlocks + bb;
        __m256i v = u.q[bb];
        float mm0 = u.m[bb][0], mm1 = u.m[bb][1];
        if constexpr (Tr::kSigned) {  // Q8_0: q + 128 unsigned, offset -128 s
          v = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));
          mm0 = mm1 = -128.0f * u.s[bb][0];
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * 32), v);
        s[2 * b] = u.s[bb][0], s[2 * b + 1] = u.s[bb][1];
        m[2 * b] = mm0, m[2 * b + 1] = mm1;
      }
    }
  }
}

// Rows [r, r+R) (decoded in sc) x token groups [g, g+G) of 16.
template <bool kHalves, int R, int G>
void tile_kernel(const RowScratch& sc, int64_t k, int64_t r, const TileQ8A* tiles, int64_t g, int64_t n,
                 float* Y, int64_t ldy) {
  const int64_t nb = k / 32;
  __m512 acc[R][G];
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) acc[ri][gi] = _mm512_setzero_ps();
  const uint8_t* q[R];
  const float *s[R], *m[R];
  for (int ri = 0; ri < R; ++ri) {
    q[ri] = sc.q.data() + ri * k;
    s[ri] = sc.s.data() + ri * nb * 2;
    m[ri] = sc.m.data() + ri * nb * 2;
  }
  for (int64_t b = 0; b < nb; ++b) {
    const TileQ8A* t[G];
    for (int gi = 0; gi < G; ++gi) t[gi] = tiles + (g + gi) * nb + b;
    __m512i dot[R][G];
    for (int ri = 0; ri < R; ++ri)
      for (int gi = 0; gi < G; ++gi) dot[ri][gi] = _mm512_setzero_si512();
    auto flush = [&](int h) {
      for (int gi = 0; gi < G; ++gi) {
        const __m512 d = _mm512_loadu_ps(t[gi]->d);
        for (int ri = 0; ri < R; ++ri) {
          const __m512 sv = _mm512_mul_ps(_mm512_set1_ps(s[ri][2 * b + h]), d);
          acc[ri][gi] = _mm512_fmadd_ps(_mm512_maskz_cvtepi32_ps(0xffff, dot[ri][gi]), sv, acc[ri][gi]);
          dot[ri][gi] = _mm512_setzero_si512();
        }
      }
    };
    for (int st = 0; st < 8; ++st) {
      __m512i x[G];
      for (int gi = 0; gi < G; ++gi) x[gi] = _mm512_loadu_si512(t[gi]->qs[st]);
      for (int ri = 0; ri < R; ++ri) {
        int w4;
        std::memcpy(&w4, q[ri] + b * 32 + 4 * st, 4);
        const __m512i w = _mm512_set1_epi32(w4);
        for (int gi = 0; gi < G; ++gi) dot[ri][gi] = _mm512_dpbusd_epi32(dot[ri][gi], w, x[gi]);
      }
      if (kHalves && st == 3) flush(0);
    }
    flush(kHalves ? 1 : 0);
    for (int gi = 0; gi < G; ++gi) {
      if constexpr (kHalves) {
        const __m512 xs0 = _mm512_loadu_ps(t[gi]->xs[0]), xs1 = _mm512_loadu_ps(t[gi]->xs[1]);
        for (int ri = 0; ri < R; ++ri) {
          acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri][2 * b]), xs0, acc[ri][gi]);
          acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri][2 * b + 1]), xs1, acc[ri][gi]);
        }
      } else {
        const __m512 xs = _mm512_add_ps(_mm512_loadu_ps(t[gi]->xs[0]), _mm512_loadu_ps(t[gi]->xs[1]));
        for (int ri = 0; ri < R; ++ri) acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri][2 * b]), xs, acc[ri][gi]);
      }
    }
  }
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) {
      alignas(64) float out[16];
      _mm512_store_ps(out, acc[ri][gi]);
      const int64_t j0 = (g + gi) * 16;
      for (int tt = 0; tt < 16 && j0 + tt < n; ++tt) Y[(j0 + tt) * ldy + r + ri] = out[tt];
    }
}

template <TensorType T, int R>
void tile_rows(const uint8_t* W, size_t rb, int64_t k, int64_t r, const TileQ8A* tiles, int64_t n, float* Y,
               int64_t ldy, RowScratch& sc) {
  constexpr bool kHalves = Traits<T>::kHalves;
  decode_rows<T, R>(W, rb, k, r, sc);
  const int64_t groups = (n + 15) / 16;
  int64_t g = 0;
  for (; g + 2 <= groups; g += 2) tile_kernel<kHalves, R, 2>(sc, k, r, tiles, g, n, Y, ldy);
  if (g < groups) tile_kernel<kHalves, R, 1>(sc, k, r, tiles, g, n, Y, ldy);
}

template <TensorType T>
void tiled_matmul(const void* Wv, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y,
                  int64_t ldy) {
  constexpr int kR = 4;
  thread_local RowScratch sc;
  const int64_t nb = k / 32;
  sc.q.resize(static_cast<size_t>(kR * k));
  sc.s.resize(static_cast<size_t>(kR * nb * 2));
  sc.m.resize(static_cast<size_t>(kR * nb * 2));
  const auto* W = static_cast<const uint8_t*>(Wv);
  const auto* tiles = reinterpret_cast<const TileQ8A*>(static_cast<const BlockQ8A*>(Xq) + n * nb);
  const size_t rb = row_bytes(T, k);
  int64_t r = r0;
  for (; r + kR <= r1; r += kR) tile_rows<T, kR>(W, rb, k, r, tiles, n, Y, ldy, sc);
  for (; r < r1; ++r) tile_rows<T, 1>(W, rb, k, r, tiles, n, Y, ldy, sc);
}

template <TensorType T>
void quant_matmul(const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y, int64_t ldy) {
  if (n >= kTileMinTokens) tiled_matmul<T>(W, k, r0, r1, Xq, n, Y, ldy);
  else if (!kquant_direct_avx512(T, W, k, r0, r1, Xq, n, Y, ldy) && !legacy_direct_avx512(T, W, k, r0, r1, Xq, n, Y, ldy))
    direct_matmul<T>(W, k, r0, r1, Xq, n, Y, ldy);
}

}  // namespace

bool quantize_activations_avx512(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq) {
  if (is_float_type(wt)) return false;
  quantize_q8a_rows(X, k / 32 * n_tokens, activation_group_blocks(wt), static_cast<BlockQ8A*>(Xq));
  return true;
}

bool matmul_avx512(TensorType wt, const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n,
                   float* Y, int64_t ldy) {
  switch (wt) {
    case TensorType::F32: float_matmul<TensorType::F32>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::F16: float_matmul<TensorType::F16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::BF16: float_matmul<TensorType::BF16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q8_0: quant_matmul<TensorType::Q8_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_0: quant_matmul<TensorType::Q4_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_1: quant_matmul<TensorType::Q4_1>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_0: quant_matmul<TensorType::Q5_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_1: quant_matmul<TensorType::Q5_1>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_K: quant_matmul<TensorType::Q4_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_K: quant_matmul<TensorType::Q5_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q6_K: quant_matmul<TensorType::Q6_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    default: return false;
  }
}

}  // namespace parley::llm::quant::detail
