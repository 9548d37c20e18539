// AVX-512 VNNI matmul on packed weights (packed.hpp): one zmm holds 4 consecutive weights of each of the
// panel's 16 rows, so each vpdpbusd against 4 activation bytes broadcast to every lane adds 64 products
// into 16 per-row sums: 8 vpdpbusd per (16 rows x 32-block x token), then one convert and two FMAs
// apply the block scales of the 16 rows (fp16, one vcvtph2ps) and the activation scale. No horizontal
// sums, no per-row set-up. Generation (1-3 tokens) streams the panels once, as two streams per thread
// (the two halves of its rows side by side: one sequential stream per core leaves ~25% of the memory
// bandwidth unused here) with every section of each panel prefetched 4 KB ahead; prompts take tiles of up
// to 16 tokens per panel pass (the panel then comes from L1/L2), and chunks of 64 tokens per weight pass.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors that trip
// -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstring>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels_impl.hpp"
#include "llm/quant/packed.hpp"
#include "llm/quant/packed_block_avx512.hpp"

namespace parley::llm::quant::detail {
namespace {

constexpr int64_t kTokenTile = 16;          // tokens per panel pass (accumulators in registers)
constexpr int64_t kTokenChunk = 64;         // tokens per pass over the weights (activations stay in L2)
constexpr size_t kPrefetchDistance = 4096;  // bytes ahead of each panel stream (generation, prefetcht1)

inline __m512i bcast4(const int8_t* p) {
  int v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Block b (32 columns) of one panel (16 rows) x tokens [j0, j0 + TJ): adds the 16 rows' dots to acc[t].
template <int kSteps, bool kQh, bool kM, bool kK, bool k6, int TJ>
__attribute__((always_inline)) inline void panel_block(const uint8_t* panel, const PanelLayout& l, int64_t nb,
                                                       int64_t b, const BlockQ8A* X, const PackedActs& a,
                                                       int64_t j0, __m512* acc) {
  __m512i w[8];
  unpack_block<kSteps, kQh, k6>(panel, l, b, w);
  __m512 d, m;
  block_scales<kM, kK, k6>(panel, l, b, d, m);
  for (int t = 0; t < TJ; ++t) {
    const int64_t xi = (j0 + t) * nb + b;
    const int8_t* x = X[xi].qs;
    if constexpr (k6) {  // halves apart: elements 0-15 are w[0..3], 16-31 w[4..7]
      __m512i h0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], bcast4(x));
      __m512i h1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[4], bcast4(x + 16));
      for (int i = 1; i < 4; ++i) {
        h0 = _mm512_dpbusd_epi32(h0, w[i], bcast4(x + 4 * i));
        h1 = _mm512_dpbusd_epi32(h1, w[4 + i], bcast4(x + 16 + 4 * i));
      }
      const size_t u = static_cast<size_t>(xi);
      acc[t] = add_half_dot(acc[t], h0, d, a.xd[u], a.xs0[u]);
      acc[t] = add_half_dot(acc[t], h1, m, a.xd[u], a.xs1[u]);
      continue;
    }
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], bcast4(x));
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[1], bcast4(x + 4));
    for (int i = 2; i < 8; i += 2) {
      s0 = _mm512_dpbusd_epi32(s0, w[i], bcast4(x + 4 * i));
      s1 = _mm512_dpbusd_epi32(s1, w[i + 1], bcast4(x + 4 * i + 4));
    }
    acc[t] = add_block_dot<kM>(acc[t], _mm512_add_epi32(s0, s1), d, m, a, xi);
  }
}

// Prefetches the lines of block b's share ([b, b+1) / nb) of a panel, kPrefetchDistance bytes ahead, so
// that a pass over consecutive panels reads them as one linear stream (every section of the panel).
inline void prefetch_panel_share(const uint8_t* panel, size_t panel_bytes, int64_t nb, int64_t b,
                                 const uint8_t* stream_end) {
  const size_t lo = (static_cast<size_t>(b) * panel_bytes / static_cast<size_t>(nb)) & ~size_t{63};
  const size_t hi = (static_cast<size_t>(b + 1) * panel_bytes / static_cast<size_t>(nb)) & ~size_t{63};
  const uint8_t* p = panel + kPrefetchDistance;
  for (size_t off = lo; off < hi && p + off < stream_end; off += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T1);
}

// One panel (16 rows) x tokens [j0, j0 + TJ) over all nb blocks.
template <int kSteps, bool kQh, bool kM, bool kK, bool k6, int TJ>
void panel_tile(const uint8_t* panel, const PanelLayout& l, int64_t nb, const BlockQ8A* X,
                const PackedActs& a, int64_t j0, float* Y, int64_t ldy, int64_t row0, __mmask16 rows_mask,
                const uint8_t* stream_end) {
  __m512 acc[TJ];
  for (int t = 0; t < TJ; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (TJ <= 3) prefetch_panel_share(panel, l.panel_bytes, nb, b, stream_end);
    panel_block<kSteps, kQh, kM, kK, k6, TJ>(panel, l, nb, b, X, a, j0, acc);
  }
  for (int t = 0; t < TJ; ++t) _mm512_mask_storeu_ps(Y + (j0 + t) * ldy + row0, rows_mask, acc[t]);
}

// Generation: two panels from two streams (the two halves of a thread's rows) block by block, so that
// each core keeps two sequential streams in flight (one stream per core leaves memory bandwidth unused).
template <int kSteps, bool kQh, bool kM, bool kK, bool k6, int TJ>
void panel_pair(const uint8_t* pa, const uint8_t* pb, const PanelLayout& l, int64_t nb, const BlockQ8A* X,
                const PackedActs& a, float* Y, int64_t ldy, int64_t row_a, int64_t row_b, __mmask16 mask_b,
                const uint8_t* end_a, const uint8_t* end_b) {
  __m512 acc_a[TJ], acc_b[TJ];
  for (int t = 0; t < TJ; ++t) acc_a[t] = _mm512_setzero_ps(), acc_b[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    prefetch_panel_share(pa, l.panel_bytes, nb, b, end_a);
    prefetch_panel_share(pb, l.panel_bytes, nb, b, end_b);
    panel_block<kSteps, kQh, kM, kK, k6, TJ>(pa, l, nb, b, X, a, 0, acc_a);
    panel_block<kSteps, kQh, kM, kK, k6, TJ>(pb, l, nb, b, X, a, 0, acc_b);
  }
  for (int t = 0; t < TJ; ++t) {
    _mm512_storeu_ps(Y + t * ldy + row_a, acc_a[t]);
    _mm512_mask_storeu_ps(Y + t * ldy + row_b, mask_b, acc_b[t]);
  }
}

// Generation (1-3 tokens): the thread's panels [p0, p1) as two streams, the halves [p0, pm) and [pm, p1)
// walked side by side; an odd last panel alone. Only the range's last panel can be partial (mask).
template <int kSteps, bool kQh, bool kM, bool kK, bool k6, int TJ>
void run_streams(const PackedWeight& w, const PanelLayout& l, int64_t r0, int64_t r1, const BlockQ8A* X,
                 const PackedActs& a, float* Y, int64_t ldy) {
  const int64_t nb = w.k / 32;
  const int64_t p0 = r0 / kPanelRows, p1 = (r1 + kPanelRows - 1) / kPanelRows;
  const int64_t half = (p1 - p0) / 2, pm = p0 + half;
  const uint8_t* end_a = w.panel(pm);
  const uint8_t* end_b = w.panel(p1);
  auto mask_of = [&](int64_t p) { return panel_rows_mask(p * kPanelRows, r1); };
  for (int64_t i = 0; i < half; ++i) {
    const int64_t pa = p0 + i, pb = pm + i;
    panel_pair<kSteps, kQh, kM, kK, k6, TJ>(w.panel(pa), w.panel(pb), l, nb, X, a, Y, ldy, pa * kPanelRows,
                                            pb * kPanelRows, mask_of(pb), end_a, end_b);
  }
  if ((p1 - p0) % 2 != 0) {
    const int64_t p = p1 - 1;
    panel_tile<kSteps, kQh, kM, kK, k6, TJ>(w.panel(p), l, nb, X, a, 0, Y, ldy, p * kPanelRows, mask_of(p),
                                            end_b);
  }
}

template <int kSteps, bool kQh, bool kM, bool kK = false, bool k6 = false>
void run(const PackedWeight& w, int64_t r0, int64_t r1, const BlockQ8A* X, int64_t n, float* Y, int64_t ldy) {
  const PanelLayout l = panel_layout(w.type, w.k);
  const int64_t nb = w.k / 32;
  thread_local PackedActs a;
  a.fill(X, n * nb, kM, l.c, k6);
  switch (n) {
    case 1:
      return run_streams<kSteps, kQh, kM, kK, k6, 1>(w, l, r0, r1, X, a, Y, ldy);
    case 2:
      return run_streams<kSteps, kQh, kM, kK, k6, 2>(w, l, r0, r1, X, a, Y, ldy);
    case 3:
      return run_streams<kSteps, kQh, kM, kK, k6, 3>(w, l, r0, r1, X, a, Y, ldy);
    default:
      break;
  }
  const uint8_t* end = w.panel((r1 + kPanelRows - 1) / kPanelRows);
  for (int64_t jc = 0; jc < n; jc += kTokenChunk) {
    const int64_t je = std::min(n, jc + kTokenChunk);
    for (int64_t row0 = r0; row0 < r1; row0 += kPanelRows) {
      const uint8_t* panel = w.panel(row0 / kPanelRows);
      const __mmask16 mask = panel_rows_mask(row0, r1);
      for (int64_t j = jc; j < je; j += kTokenTile) {
        switch (std::min(kTokenTile, je - j)) {
          case 1:
            panel_tile<kSteps, kQh, kM, kK, k6, 1>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 2:
            panel_tile<kSteps, kQh, kM, kK, k6, 2>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 3:
            panel_tile<kSteps, kQh, kM, kK, k6, 3>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 4:
            panel_tile<kSteps, kQh, kM, kK, k6, 4>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 5:
            panel_tile<kSteps, kQh, kM, kK, k6, 5>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 6:
            panel_tile<kSteps, kQh, kM, kK, k6, 6>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 7:
            panel_tile<kSteps, kQh, kM, kK, k6, 7>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 8:
            panel_tile<kSteps, kQh, kM, kK, k6, 8>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 9:
            panel_tile<kSteps, kQh, kM, kK, k6, 9>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 10:
            panel_tile<kSteps, kQh, kM, kK, k6, 10>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 11:
            panel_tile<kSteps, kQh, kM, kK, k6, 11>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 12:
            panel_tile<kSteps, kQh, kM, kK, k6, 12>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 13:
            panel_tile<kSteps, kQh, kM, kK, k6, 13>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 14:
            panel_tile<kSteps, kQh, kM, kK, k6, 14>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          case 15:
            panel_tile<kSteps, kQh, kM, kK, k6, 15>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
          default:
            panel_tile<kSteps, kQh, kM, kK, k6, 16>(panel, l, nb, X, a, j, Y, ldy, row0, mask, end);
            break;
        }
      }
    }
  }
}

}  // namespace

bool matmul_packed_avx512(const PackedWeight& w, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y,
                          int64_t ldy) {
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  return with_packed_type(w.type, [&]<int kSteps, bool kQh, bool kM, bool kK, bool k6>() {
    run<kSteps, kQh, kM, kK, k6>(w, r0, r1, X, n, Y, ldy);
  });
}

}  // namespace parley::llm::quant::detail
