// AVX-512 (F/BW/VL/DQ) + VNNI kernels (compiled with those flags; only called when CPUID reports them).
//  - n_tokens < kTileMinTokens (generation): the direct kernels of simd_direct.inc with 256-bit vpdpbusd.
//  - n_tokens >= kTileMinTokens (prompts, batches): R weight rows are decoded once to unsigned bytes
//    (+ per-half scale and offset) into a small scratch; then for every pair of 16-token groups, each
//    4-byte step of a row is broadcast and vpdpbusd'd against 64 bytes of the token-major TileQ8A
//    activations (built from the row-major blocks at the start of each call, ~1-5% of its time), so
//    one zmm lane holds one token: 8 vpdpbusd per (row, block, 16 tokens) and the block's
//    scale/offset applied once per lane (cvt + 2 fma). Weights are read once per matmul.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors (e.g. in
// _mm512_inserti64x4, _mm512_cvtepi32_ps) that trip -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstddef>
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


// Loop structure (all per call, single thread):
//   for each k-chunk of kChunkBlocks blocks (256 elements):
//     decode rows [r0, r1) of the chunk once to unsigned bytes + per-half scale/offset (Decoded)
//     for each super-group of kSuperGroups x 16 tokens (its activation tiles, ~22 KB, stay in L1):
//       for each 4 rows: tile_kernel accumulates into acc[row][group][16] (in memory between chunks)
// so weights are read and decoded once, activation tiles come from L1, decoded rows from L2.
constexpr int64_t kChunkBlocks = 8;
constexpr int64_t kSuperGroups = 4;

struct Decoded {
  std::vector<uint8_t> q;  // [row][kChunkBlocks * 32]
  std::vector<float> s, m;  // [row][kChunkBlocks][2]
  std::vector<float> acc;   // [row][group][16]
};

// Rows [0, rows) of W (already offset to the first row), blocks [c0, c0+cb) -> d.
template <TensorType T>
void decode_chunk(const uint8_t* W, size_t rb, int64_t rows, int64_t c0, int64_t cb, Decoded& d) {
  using Tr = Traits<T>;
  Unit u;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = W + r * rb;
    uint8_t* q = d.q.data() + r * kChunkBlocks * 32;
    float* s = d.s.data() + r * kChunkBlocks * 2;
    float* m = d.m.data() + r * kChunkBlocks * 2;
    for (int64_t b0 = c0; b0 < c0 + cb; b0 += Tr::kUnitBlocks) {
      decode_unit<T>(row, b0 / Tr::kUnitBlocks, u);
      for (int bb = 0; bb < Tr::kUnitBlocks; ++bb) {
        const int64_t b = b0 - c0 + bb;
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

// Decoded rows [r, r+R) x token groups [g, g+G) over the chunk's cb blocks; t = tiles of block c0.
template <bool kHalves, int R, int G>
void tile_kernel(Decoded& d, int64_t r, int64_t cb, const TileQ8A* t0, int64_t nb, int64_t g, int64_t groups) {
  __m512 acc[R][G];
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) acc[ri][gi] = _mm512_loadu_ps(d.acc.data() + ((r + ri) * groups + g + gi) * 16);
  for (int64_t b = 0; b < cb; ++b) {
    const TileQ8A* t[G];
    for (int gi = 0; gi < G; ++gi) t[gi] = t0 + (g + gi) * nb + b;
    const uint8_t* q = d.q.data() + r * kChunkBlocks * 32 + b * 32;
    const float* s = d.s.data() + r * kChunkBlocks * 2 + 2 * b;
    const float* m = d.m.data() + r * kChunkBlocks * 2 + 2 * b;
    constexpr int64_t kq = kChunkBlocks * 32, ks = kChunkBlocks * 2;  // row strides
    __m512i dot[R][G];
    for (int ri = 0; ri < R; ++ri)
      for (int gi = 0; gi < G; ++gi) dot[ri][gi] = _mm512_setzero_si512();
    auto flush = [&](int h) {
      for (int gi = 0; gi < G; ++gi) {
        const __m512 dv = _mm512_loadu_ps(t[gi]->d);
        for (int ri = 0; ri < R; ++ri) {
          const __m512 sv = _mm512_mul_ps(_mm512_set1_ps(s[ri * ks + h]), dv);
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
        std::memcpy(&w4, q + ri * kq + 4 * st, 4);
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
          acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri * ks]), xs0, acc[ri][gi]);
          acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri * ks + 1]), xs1, acc[ri][gi]);
        }
      } else {
        const __m512 xs = _mm512_add_ps(_mm512_loadu_ps(t[gi]->xs[0]), _mm512_loadu_ps(t[gi]->xs[1]));
        for (int ri = 0; ri < R; ++ri) acc[ri][gi] = _mm512_fmadd_ps(_mm512_set1_ps(m[ri * ks]), xs, acc[ri][gi]);
      }
    }
  }
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) _mm512_storeu_ps(d.acc.data() + ((r + ri) * groups + g + gi) * 16, acc[ri][gi]);
}

template <bool kHalves, int R>
void tile_groups(Decoded& d, int64_t r, int64_t cb, const TileQ8A* t0, int64_t nb, int64_t g0, int64_t g1,
                 int64_t groups) {
  int64_t g = g0;
  for (; g + 2 <= g1; g += 2) tile_kernel<kHalves, R, 2>(d, r, cb, t0, nb, g, groups);
  if (g < g1) tile_kernel<kHalves, R, 1>(d, r, cb, t0, nb, g, groups);
}

template <TensorType T>
void tiled_rows(const uint8_t* W, size_t rb, int64_t nb, int64_t rows, const TileQ8A* tiles, int64_t n, float* Y,
                int64_t ldy, Decoded& d) {
  constexpr bool kHalves = Traits<T>::kHalves;
  const int64_t groups = (n + 15) / 16;
  d.q.resize(static_cast<size_t>(rows * kChunkBlocks * 32));
  d.s.resize(static_cast<size_t>(rows * kChunkBlocks * 2));
  d.m.resize(d.s.size());
  d.acc.assign(static_cast<size_t>(rows * groups * 16), 0.0f);
  for (int64_t c0 = 0; c0 < nb; c0 += kChunkBlocks) {
    const int64_t cb = std::min(kChunkBlocks, nb - c0);
    decode_chunk<T>(W, rb, rows, c0, cb, d);
    for (int64_t gs = 0; gs < groups; gs += kSuperGroups) {
      const int64_t ge = std::min(groups, gs + kSuperGroups);
      int64_t r = 0;
      for (; r + 4 <= rows; r += 4) tile_groups<kHalves, 4>(d, r, cb, tiles + c0, nb, gs, ge, groups);
      for (; r < rows; ++r) tile_groups<kHalves, 1>(d, r, cb, tiles + c0, nb, gs, ge, groups);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const float* a = d.acc.data() + r * groups * 16;
    for (int64_t j = 0; j < n; ++j) Y[j * ldy + r] = a[j];
  }
}

// Token-major tiles (blocks.hpp TileQ8A) from the row-major activation blocks: per 16 tokens and block,
// 8 gathers of 4-byte pieces plus the scales and sums. ~10 gathers per 512 activation bytes.
void build_tiles(const BlockQ8A* X, int64_t nb, int64_t n, TileQ8A* tiles) {
  const __m512i tok = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                         _mm512_set1_epi32(static_cast<int>(nb * sizeof(BlockQ8A))));
  for (int64_t g = 0; g * 16 < n; ++g) {
    const __mmask16 valid = n - g * 16 >= 16 ? 0xffff : static_cast<__mmask16>((1u << (n - g * 16)) - 1);
    for (int64_t b = 0; b < nb; ++b) {
      const auto* base = reinterpret_cast<const char*>(X + g * 16 * nb + b);
      TileQ8A& t = tiles[g * nb + b];
      for (int st = 0; st < 8; ++st)
        _mm512_storeu_si512(t.qs[st], _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, tok, base + 4 * st, 1));
      const __m512 d = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, tok, base + offsetof(BlockQ8A, d), 1);
      const __m512i sums = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, tok, base + offsetof(BlockQ8A, sum), 1);
      _mm512_storeu_ps(t.d, d);
      _mm512_storeu_ps(t.xs[0], _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(sums, 16), 16))));
      _mm512_storeu_ps(t.xs[1], _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_srai_epi32(sums, 16))));
    }
  }
}

// Rows are processed in blocks of kRowBlock so the scratch stays ~100 KB + accumulators whatever the range.
template <TensorType T>
void tiled_matmul(const void* Wv, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y,
                  int64_t ldy) {
  constexpr int64_t kRowBlock = 256;
  thread_local Decoded d;
  const int64_t nb = k / 32;
  const size_t rb = row_bytes(T, k);
  const auto* W = static_cast<const uint8_t*>(Wv);
  thread_local std::vector<TileQ8A> tile_buf;
  tile_buf.resize(static_cast<size_t>((n + 15) / 16 * nb));
  build_tiles(static_cast<const BlockQ8A*>(Xq), nb, n, tile_buf.data());
  const TileQ8A* tiles = tile_buf.data();
  for (int64_t r = r0; r < r1; r += kRowBlock)
    tiled_rows<T>(W + r * rb, rb, nb, std::min(kRowBlock, r1 - r), tiles, n, Y + r, ldy, d);
}

// ---- float weights (F32 / F16 / BF16), n_tokens >= kTileMinTokens ----
// Activations transposed to [group][k][16 tokens] f32; per 128-element k-chunk and 4 rows the weights are
// converted to f32 once, then each weight element is broadcast against 2 groups of 16 tokens (2 FMAs).
// The chunk's activations (4 groups x 128 x 64 B = 32 KB) stay in L1; accumulators live in memory between
// chunks. ~190 GFLOPS-class at peak (2 FMA ports) instead of the direct kernel's ~50.
constexpr int64_t kFloatChunk = 128;

template <TensorType T>
inline __m512 load16f(const uint8_t* row, int64_t e) {
  if constexpr (T == TensorType::F32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + e);
  } else if constexpr (T == TensorType::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + e)));
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + e));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
}

template <int R, int G>
void float_kernel(const float* wf, const float* xt, int64_t k, int64_t e0, int64_t ce, int64_t g, float* acc_mem,
                  int64_t groups) {
  __m512 acc[R][G];
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) acc[ri][gi] = _mm512_loadu_ps(acc_mem + (ri * groups + g + gi) * 16);
  for (int64_t e = 0; e < ce; ++e) {
    __m512 x[G];
    for (int gi = 0; gi < G; ++gi) x[gi] = _mm512_loadu_ps(xt + ((g + gi) * k + e0 + e) * 16);
    for (int ri = 0; ri < R; ++ri) {
      const __m512 w = _mm512_set1_ps(wf[ri * kFloatChunk + e]);
      for (int gi = 0; gi < G; ++gi) acc[ri][gi] = _mm512_fmadd_ps(w, x[gi], acc[ri][gi]);
    }
  }
  for (int ri = 0; ri < R; ++ri)
    for (int gi = 0; gi < G; ++gi) _mm512_storeu_ps(acc_mem + (ri * groups + g + gi) * 16, acc[ri][gi]);
}

template <TensorType T, int R>
void float_rows_chunk(const uint8_t* W, size_t rb, int64_t r, int64_t k, int64_t e0, int64_t ce, const float* xt,
                      int64_t groups, float* accbuf) {
  alignas(64) float wf[R * kFloatChunk];
  for (int ri = 0; ri < R; ++ri) {
    const uint8_t* row = W + (r + ri) * rb;
    int64_t e = 0;
    for (; e + 16 <= ce; e += 16) _mm512_store_ps(wf + ri * kFloatChunk + e, load16f<T>(row, e0 + e));
    for (; e < ce; ++e) wf[ri * kFloatChunk + e] = load1<T>(row, e0 + e);
  }
  float* acc_mem = accbuf + r * groups * 16;
  for (int64_t gs = 0; gs < groups; gs += kSuperGroups) {
    const int64_t ge = std::min(groups, gs + kSuperGroups);
    int64_t g = gs;
    for (; g + 2 <= ge; g += 2) float_kernel<R, 2>(wf, xt, k, e0, ce, g, acc_mem, groups);
    if (g < ge) float_kernel<R, 1>(wf, xt, k, e0, ce, g, acc_mem, groups);
  }
}

template <TensorType T>
void float_tiled(const void* Wv, int64_t k, int64_t r0, int64_t r1, const void* Xv, int64_t n, float* Y, int64_t ldy) {
  constexpr int64_t kRowBlock = 256;
  const auto* X = static_cast<const float*>(Xv);
  const int64_t groups = (n + 15) / 16;
  thread_local std::vector<float> xt, accbuf;
  xt.assign(static_cast<size_t>(groups * k * 16), 0.0f);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t e = 0; e < k; ++e) xt[static_cast<size_t>(((j / 16) * k + e) * 16 + j % 16)] = X[j * k + e];
  const size_t rb = row_bytes(T, k);
  const auto* W = static_cast<const uint8_t*>(Wv);
  for (int64_t rblk = r0; rblk < r1; rblk += kRowBlock) {
    const int64_t rows = std::min(kRowBlock, r1 - rblk);
    accbuf.assign(static_cast<size_t>(rows * groups * 16), 0.0f);
    const uint8_t* Wb = W + rblk * rb;
    for (int64_t e0 = 0; e0 < k; e0 += kFloatChunk) {
      const int64_t ce = std::min(kFloatChunk, k - e0);
      int64_t r = 0;
      for (; r + 4 <= rows; r += 4) float_rows_chunk<T, 4>(Wb, rb, r, k, e0, ce, xt.data(), groups, accbuf.data());
      for (; r < rows; ++r) float_rows_chunk<T, 1>(Wb, rb, r, k, e0, ce, xt.data(), groups, accbuf.data());
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float* a = accbuf.data() + r * groups * 16;
      for (int64_t j = 0; j < n; ++j) Y[j * ldy + rblk + r] = a[j];
    }
  }
}

template <TensorType T>
void float_dispatch(const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y, int64_t ldy) {
  if (n >= kTileMinTokens) float_tiled<T>(W, k, r0, r1, Xq, n, Y, ldy);
  else float_matmul<T>(W, k, r0, r1, Xq, n, Y, ldy);
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
    case TensorType::F32: float_dispatch<TensorType::F32>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::F16: float_dispatch<TensorType::F16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::BF16: float_dispatch<TensorType::BF16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
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
