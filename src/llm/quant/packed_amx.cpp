// AMX-INT8 matmul on packed weights (packed.hpp) for full 16-token tiles (prompt processing). A packed
// block of a 16-row panel, unpacked to 8 zmm (packed_block_avx512.hpp), is exactly the AMX "B" operand
// of TDPBSUD: 8 rows of 64 bytes, row s = elements 4s..4s+3 of each of the 16 weight rows (unsigned).
// The "A" operand is 16 tokens x 32 signed activation bytes, loaded straight from the BlockQ8A array
// (row stride nb * 40 bytes). One TDPBSUD gives C = 16 tokens x 16 rows of int32 block dots (8192
// multiply-adds, where the VNNI kernel needs 128 vpdpbusd); C is stored to 1 KB and each token's row
// of 16 dots gets the same scale math as in the VNNI kernel (one convert, two FMAs), so the results are
// those of packed_avx512.cpp up to the compiler's float contraction.
// Q6_K's halves have their own scales: two K=16 products per block (A = 16 bytes, B = 4 rows).
// Per (panel, block): the weights are unpacked once (Q8_0: loaded from the panel as they are) for up to
// 4 token tiles, whose products run back to back in C tiles tmm4..tmm7 before the first is stored.
#include <immintrin.h>

// GCC 12's AVX-512 headers use self-initialized "undefined" pass-through vectors that trip
// -W(maybe-)uninitialized once inlined.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/packed.hpp"
#include "llm/quant/packed_block_avx512.hpp"

namespace parley::llm::quant::detail {
namespace {

constexpr int64_t kTile = 16;          // tokens per tile (rows of A and C)
// Tokens per pass over the weights: as many as keep their activations (a 40-byte BlockQ8A + 12 bytes of
// factors per 32 columns) within ~1 MB of L2, at least 64. Each pass unpacks every panel once more.
constexpr size_t kChunkActivationBytes = size_t{1} << 20;
int64_t chunk_tokens(int64_t k) {
  const int64_t fit = static_cast<int64_t>(kChunkActivationBytes) / (k / 32 * 52) / kTile * kTile;
  return std::max<int64_t>(64, fit);
}

// The LDTILECFG operand (palette 1): bytes per row and rows of each tile register.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// Products run as a pipeline of depth 2: product p uses A = tmm(p % 2), B = tmm(2 + p % 2) and
// C = tmm(4 + p % 4), so products p + 1 and p + 2 are in the tile unit while the vector units scale p.
// A = 16 tokens x kb activation bytes, B = kb / 4 rows x 64 bytes, C = 16 tokens x 16 rows (int32);
// kb = 32 (one block), 16 for Q6_K (one half block).
TileConfig tile_config(int kb) {
  TileConfig c;
  for (int t = 0; t < 2; ++t) c.colsb[t] = static_cast<uint16_t>(kb), c.rows[t] = 16;
  for (int t = 2; t < 4; ++t) c.colsb[t] = 64, c.rows[t] = static_cast<uint8_t>(kb / 4);
  for (int t = 4; t < 8; ++t) c.colsb[t] = 64, c.rows[t] = 16;
  return c;
}

// C(p) = A (16 tokens from a, row stride) x B (from w, 64-byte rows). The tile numbers are part of the
// instruction, hence the switch on p % 4.
__attribute__((always_inline)) inline void issue_product(int64_t p, const void* a, int64_t stride, const void* w) {
#define PARLEY_AMX_PRODUCT(C, A, B) \
  _tile_loadd(B, w, 64);            \
  _tile_loadd(A, a, stride);        \
  _tile_zero(C);                    \
  _tile_dpbsud(C, A, B)
  switch (p & 3) {
    case 0: PARLEY_AMX_PRODUCT(4, 0, 2); break;
    case 1: PARLEY_AMX_PRODUCT(5, 1, 3); break;
    case 2: PARLEY_AMX_PRODUCT(6, 0, 2); break;
    default: PARLEY_AMX_PRODUCT(7, 1, 3); break;
  }
#undef PARLEY_AMX_PRODUCT
}

// C(p) -> c[16 tokens][16 rows].
__attribute__((always_inline)) inline void store_product(int64_t p, int32_t* c) {
  switch (p & 3) {
    case 0: _tile_stored(4, c, 64); break;
    case 1: _tile_stored(5, c, 64); break;
    case 2: _tile_stored(6, c, 64); break;
    default: _tile_stored(7, c, 64); break;
  }
}

// One panel, unpacked once per chunk of tokens: the B operand of every block (8 rows of 64 bytes; Q8_0
// reads the panel itself) and the 16 rows' scales d, m of every block. nb x 640 bytes.
struct alignas(64) Line {
  uint8_t bytes[64];
};
struct PanelScratch {
  std::vector<Line> w;   // [nb][8]
  std::vector<Line> dm;  // [nb][2] x 16 floats
};

template <int kSteps, bool kQh, bool kM, bool kK, bool k6>
void unpack_panel(const uint8_t* panel, const PanelLayout& l, int64_t nb, PanelScratch& s) {
  s.dm.resize(static_cast<size_t>(2 * nb));
  if constexpr (kSteps != 8) s.w.resize(static_cast<size_t>(8 * nb));
  for (int64_t b = 0; b < nb; ++b) {
    if constexpr (kSteps != 8) {
      __m512i w[8];
      unpack_block<kSteps, kQh, k6>(panel, l, b, w);
      for (int i = 0; i < 8; ++i) _mm512_store_si512(s.w[static_cast<size_t>(8 * b + i)].bytes, w[i]);
    }
    __m512 d, m;
    block_scales<kM, kK, k6>(panel, l, b, d, m);
    _mm512_store_ps(s.dm[static_cast<size_t>(2 * b)].bytes, d);
    _mm512_store_ps(s.dm[static_cast<size_t>(2 * b + 1)].bytes, m);
  }
  asm volatile("" ::: "memory");  // tileloadd reads s.w behind the compiler's back
}

// The activation factors of PackedActs laid out per token tile: f[tile][block][16 tokens], so that one
// block's factors of a tile's 16 tokens sit at constant offsets of one pointer. Filled once per call
// (n x nb x 12 bytes; a call may cover only a few panels, so this is kept cheap).
struct TileActs {
  std::vector<float> xd, xs0, xs1;  // [n / 16][nb][16]; xs0 = xs except for Q6_K
  void fill(const BlockQ8A* X, int64_t n, int64_t nb, bool has_m, float c, bool halves) {
    const size_t count = static_cast<size_t>(n * nb);
    xd.resize(count), xs0.resize(count);
    if (halves) xs1.resize(count);
    const float f = has_m ? 1.0f : c;
    for (int64_t j = 0; j < n; ++j) {
      const BlockQ8A* x = X + j * nb;
      const size_t to0 = static_cast<size_t>((j / kTile) * nb * kTile + j % kTile);
      for (int64_t b = 0; b < nb; ++b) {
        const size_t to = to0 + static_cast<size_t>(b * kTile);
        xd[to] = x[b].d;
        if (halves) {
          xs0[to] = PackedActs::half_offset_factor(x[b], c, 0);
          xs1[to] = PackedActs::half_offset_factor(x[b], c, 1);
        } else {
          xs0[to] = PackedActs::offset_factor(x[b], f);
        }
      }
    }
  }
};

// Tokens [j0, j0 + 16) x one panel (16 rows) over all nb blocks; w: B of block b at w + 512 b.
template <bool kM, bool k6>
void tile_pass(const uint8_t* w, const Line* dm, int64_t nb, const BlockQ8A* X, const TileActs& f, int64_t j0,
               float* Y, int64_t ldy, int64_t row0, __mmask16 rows_mask) {
  constexpr int kParts = k6 ? 2 : 1;  // products per block (Q6_K: one per 16-element half)
  const int64_t products = nb * kParts;
  const BlockQ8A* xt = X + j0 * nb;  // A of block b: xt[b].qs, rows nb blocks apart
  const int64_t stride = nb * static_cast<int64_t>(sizeof(BlockQ8A));
  const float* xd = f.xd.data() + j0 * nb;  // + 16 b: block b of the tile's tokens
  const float* xs0 = f.xs0.data() + j0 * nb;
  const float* xs1 = (k6 ? f.xs1 : f.xs0).data() + j0 * nb;
  // C of product p goes to c[p % 2] and is scaled one product later: vector loads right behind the
  // tile store of the same lines stall until the store completes (no forwarding).
  alignas(64) int32_t c[2][kTile][16];
  __m512 acc[kTile];
  for (auto& v : acc) v = _mm512_setzero_ps();
  auto issue = [&](int64_t p) {
    const int64_t b = p / kParts, part = p % kParts;
    issue_product(p, xt[b].qs + 16 * part, stride, w + 512 * b + 256 * part);
  };
  auto scale = [&](int64_t p) {
    const int64_t b = p / kParts;
    const __m512 d = _mm512_load_ps(dm[2 * b].bytes), m = _mm512_load_ps(dm[2 * b + 1].bytes);
    const float* bxd = xd + 16 * b;
    const float* bxs = (k6 && p % 2 ? xs1 : xs0) + 16 * b;
    const int32_t(*cp)[16] = c[p % 2];
    for (int t = 0; t < kTile; ++t) {
      const __m512i idot = _mm512_load_si512(cp[t]);
      if constexpr (k6) {
        acc[t] = add_half_dot(acc[t], idot, p % 2 ? m : d, bxd[t], bxs[t]);
      } else if constexpr (kM) {
        acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(idot), _mm512_mul_ps(d, _mm512_set1_ps(bxd[t])), acc[t]);
        acc[t] = _mm512_fmadd_ps(m, _mm512_set1_ps(bxs[t]), acc[t]);
      } else {
        acc[t] = _mm512_fmadd_ps(
            d, _mm512_fmsub_ps(_mm512_cvtepi32_ps(idot), _mm512_set1_ps(bxd[t]), _mm512_set1_ps(bxs[t])), acc[t]);
      }
    }
  };
  issue(0);
  if (products > 1) issue(1);
  for (int64_t p = 0; p < products; p += 2) {  // two at a time: products p + 2, p + 3 run while p, p + 1 scale
    const bool two = p + 1 < products;
    store_product(p, &c[0][0][0]);
    if (two) store_product(p + 1, &c[1][0][0]);
    if (p + 2 < products) issue(p + 2);  // its A and B tiles are free once product p is stored
    if (p + 3 < products) issue(p + 3);
    scale(p);
    if (two) scale(p + 1);
  }
  for (int t = 0; t < kTile; ++t) _mm512_mask_storeu_ps(Y + (j0 + t) * ldy + row0, rows_mask, acc[t]);
}

template <int kSteps, bool kQh, bool kM, bool kK = false, bool k6 = false>
void run(const PackedWeight& w, int64_t r0, int64_t r1, const BlockQ8A* X, int64_t n, float* Y, int64_t ldy) {
  const PanelLayout l = panel_layout(w.type, w.k);
  const int64_t nb = w.k / 32;
  thread_local TileActs f;
  thread_local PanelScratch s;
  f.fill(X, n, nb, kM, l.c, k6);
  // Static: ldtilecfg's asm operand names only the first 8 bytes, so a local's other stores could be
  // dropped; and the barrier: the tile loads below read X and the scratch behind the compiler's back.
  static const TileConfig cfg = tile_config(k6 ? 16 : 32);
  asm volatile("" ::: "memory");
  _tile_loadconfig(&cfg);
  const int64_t chunk = chunk_tokens(w.k);
  for (int64_t jc = 0; jc < n; jc += chunk) {
    const int64_t je = std::min(n, jc + chunk);
    for (int64_t row0 = r0; row0 < r1; row0 += kPanelRows) {
      const uint8_t* panel = w.panel(row0 / kPanelRows);
      unpack_panel<kSteps, kQh, kM, kK, k6>(panel, l, nb, s);
      const uint8_t* wb = kSteps == 8 ? panel + l.qs_off : reinterpret_cast<const uint8_t*>(s.w.data());
      for (int64_t j = jc; j < je; j += kTile)
        tile_pass<kM, k6>(wb, s.dm.data(), nb, X, f, j, Y, ldy, row0, panel_rows_mask(row0, r1));
    }
  }
  _tile_release();
}

}  // namespace

bool matmul_packed_amx(const PackedWeight& w, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y,
                       int64_t ldy) {
  if (n % kTile != 0) return false;
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  return with_packed_type(w.type, [&]<int kSteps, bool kQh, bool kM, bool kK, bool k6>() {
    run<kSteps, kQh, kM, kK, k6>(w, r0, r1, X, n, Y, ldy);
  });
}

}  // namespace parley::llm::quant::detail
