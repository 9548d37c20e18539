// Packing (model load) and the scalar reference matmul on packed weights; dispatch to AVX-512.
#include "llm/quant/packed.hpp"

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/decode.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::quant {
namespace detail {

PanelLayout panel_layout(TensorType t, int64_t k) {
  PanelLayout l;
  const size_t nb = static_cast<size_t>(k / 32);
  switch (t) {
    case TensorType::Q8_0: l.steps = 8, l.c = 128; break;
    case TensorType::Q4_0: l.steps = 4, l.c = 8; break;
    case TensorType::Q4_1: l.steps = 4, l.has_m = true; break;
    case TensorType::Q5_0: l.steps = 4, l.has_qh = true, l.c = 16; break;
    case TensorType::Q5_1: l.steps = 4, l.has_qh = true, l.has_m = true; break;
    case TensorType::Q4_K: l.steps = 4, l.has_m = true, l.kquant = true; break;
    case TensorType::Q5_K: l.steps = 4, l.has_qh = true, l.has_m = true, l.kquant = true; break;
    case TensorType::Q6_K: l.steps = 4, l.six = true, l.c = 32; break;
    default: throw std::invalid_argument("panel_layout: type " + std::string(type_info(t).name) + " is not packable");
  }
  l.qs_block = static_cast<size_t>(l.steps) * 64;
  size_t off = 0;
  l.qs_off = off, off += nb * l.qs_block;
  l.qh_off = off, off += l.has_qh ? nb * 64 : l.six ? nb * 128 : 0;
  const size_t scale_blocks = l.kquant || l.six ? nb / 8 : nb;
  l.d_off = off, off += scale_blocks * 32;
  l.m_off = off, off += l.has_m ? scale_blocks * 32 : 0;
  l.sc_off = off, off += l.kquant ? nb * 16 : l.six ? nb * 32 : 0;
  l.mn_off = off, off += l.kquant ? nb * 16 : 0;
  l.panel_bytes = (off + 63) / 64 * 64;
  return l;
}

namespace {

uint16_t raw_d(TensorType t, const uint8_t* row, int64_t b) {
  // Every legacy block starts with its fp16 scale d; Q4_1 / Q5_1 follow it with the fp16 minimum m.
  uint16_t d;
  std::memcpy(&d, row + static_cast<size_t>(b) * type_info(t).type_size, 2);
  return d;
}
uint16_t raw_m(TensorType t, const uint8_t* row, int64_t b) {
  uint16_t m;
  std::memcpy(&m, row + static_cast<size_t>(b) * type_info(t).type_size + 2, 2);
  return m;
}

void decode_any(TensorType t, const uint8_t* row, int64_t b, Decoded32& o) {
  switch (t) {
    case TensorType::Q8_0: decode_block32<TensorType::Q8_0>(row, b, o); break;
    case TensorType::Q4_0: decode_block32<TensorType::Q4_0>(row, b, o); break;
    case TensorType::Q4_1: decode_block32<TensorType::Q4_1>(row, b, o); break;
    case TensorType::Q5_0: decode_block32<TensorType::Q5_0>(row, b, o); break;
    case TensorType::Q5_1: decode_block32<TensorType::Q5_1>(row, b, o); break;
    case TensorType::Q4_K: decode_block32<TensorType::Q4_K>(row, b, o); break;
    case TensorType::Q5_K: decode_block32<TensorType::Q5_K>(row, b, o); break;
    case TensorType::Q6_K: decode_block32<TensorType::Q6_K>(row, b, o); break;
    default: assert(false);
  }
}

// Unsigned q[32] of row r (0..15), block b of a packed panel.
void unpack_q(const PanelLayout& l, const uint8_t* panel, int64_t b, int r, uint8_t* q) {
  const uint8_t* qs = panel + l.qs_off + static_cast<size_t>(b) * l.qs_block;
  if (l.steps == 8) {
    for (int s = 0; s < 8; ++s)
      for (int j = 0; j < 4; ++j) q[4 * s + j] = qs[(s * 16 + r) * 4 + j];
    return;
  }
  if (l.six) {
    const uint8_t* qh6 = panel + l.qh_off + static_cast<size_t>(b) * 128;
    for (int s = 0; s < 4; ++s)
      for (int j = 0; j < 4; ++j) {
        const uint8_t v = qs[(s * 16 + r) * 4 + j];
        const uint8_t h = qh6[((s % 2) * 16 + r) * 4 + j];
        const int shift = s < 2 ? 0 : 2;
        q[4 * s + j] = static_cast<uint8_t>((v & 0xf) | (((h >> shift) & 3) << 4));
        q[16 + 4 * s + j] = static_cast<uint8_t>((v >> 4) | (((h >> (4 + shift)) & 3) << 4));
      }
    return;
  }
  uint64_t qh[4][2] = {};
  if (l.has_qh) std::memcpy(qh, panel + l.qh_off + static_cast<size_t>(b) * 64, 64);
  for (int s = 0; s < 4; ++s)
    for (int j = 0; j < 4; ++j) {
      const uint8_t v = qs[(s * 16 + r) * 4 + j];
      const int bit = 4 * r + j;
      q[4 * s + j] = static_cast<uint8_t>((v & 0xf) | (((qh[s][0] >> bit) & 1) << 4));
      q[16 + 4 * s + j] = static_cast<uint8_t>((v >> 4) | (((qh[s][1] >> bit) & 1) << 4));
    }
}

void free_aligned(uint8_t* p) { std::free(p); }

// Scale d and offset m of row r, block b: w = d * q + m.
void block_scale(const PanelLayout& l, const uint8_t* panel, int64_t b, int r, float& d, float& m) {
  const int64_t sb = l.kquant ? b / 8 : b;
  uint16_t dh, mh = 0;
  std::memcpy(&dh, panel + l.d_off + static_cast<size_t>(sb * 16 + r) * 2, 2);
  if (l.has_m) std::memcpy(&mh, panel + l.m_off + static_cast<size_t>(sb * 16 + r) * 2, 2);
  d = fp16_to_fp32(dh);
  if (l.kquant) {
    m = -fp16_to_fp32(mh) * static_cast<float>(panel[l.mn_off + static_cast<size_t>(b * 16 + r)]);
    d *= static_cast<float>(panel[l.sc_off + static_cast<size_t>(b * 16 + r)]);
  } else {
    m = l.has_m ? fp16_to_fp32(mh) : -l.c * d;
  }
}

}  // namespace

// Reference: unpack every weight from the panel layout and dot in integers (as matmul_scalar does on the
// original blocks).
void matmul_packed_scalar(const PackedWeight& w, int64_t r0, int64_t r1, const void* Xq, int64_t n, float* Y,
                          int64_t ldy) {
  const PanelLayout l = panel_layout(w.type, w.k);
  const int64_t nb = w.k / 32;
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  std::vector<double> acc(static_cast<size_t>(n));
  uint8_t q[32];
  for (int64_t i = r0; i < r1; ++i) {
    const uint8_t* panel = w.panel(i / kPanelRows);
    const int r = static_cast<int>(i % kPanelRows);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t b = 0; b < nb; ++b) {
      unpack_q(l, panel, b, r, q);
      float d[2], m[2];
      if (l.six) {
        uint16_t dh;
        std::memcpy(&dh, panel + l.d_off + static_cast<size_t>(b / 8 * 16 + r) * 2, 2);
        for (int h = 0; h < 2; ++h) {
          const auto sc = static_cast<int8_t>(panel[l.sc_off + static_cast<size_t>((b * 2 + h) * 16 + r)]);
          d[h] = fp16_to_fp32(dh) * static_cast<float>(sc);
          m[h] = -32.0f * d[h];
        }
      } else {
        block_scale(l, panel, b, r, d[0], m[0]);
        d[1] = d[0], m[1] = m[0];
      }
      for (int64_t j = 0; j < n; ++j) {
        const BlockQ8A& x = X[j * nb + b];
        float part = 0;
        for (int h = 0; h < 2; ++h) {
          int dot = 0;
          for (int e = 16 * h; e < 16 * h + 16; ++e) dot += static_cast<int>(q[e]) * x.qs[e];
          part += d[h] * static_cast<float>(dot) + m[h] * static_cast<float>(x.sum[h]);
        }
        acc[static_cast<size_t>(j)] += static_cast<double>(x.d * part);
      }
    }
    for (int64_t j = 0; j < n; ++j) Y[j * ldy + i] = static_cast<float>(acc[static_cast<size_t>(j)]);
  }
}

}  // namespace detail

bool packable(TensorType t) {
  return t == TensorType::Q8_0 || t == TensorType::Q4_0 || t == TensorType::Q4_1 || t == TensorType::Q5_0 ||
         t == TensorType::Q5_1 || t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K;
}

bool packing_pays() { return detected_isa() >= Isa::Avx512 && active_isa() >= Isa::Avx512; }

PackedWeight pack_weight(TensorType t, const void* Wv, int64_t rows, int64_t k) {
  if (!packable(t)) throw std::invalid_argument("pack_weight: type " + std::string(type_info(t).name) + " is not packable");
  if (k % 32 != 0 || rows <= 0) throw std::invalid_argument("pack_weight: bad shape");
  const detail::PanelLayout l = detail::panel_layout(t, k);
  PackedWeight p;
  p.type = t, p.rows = rows, p.k = k;
  p.panels = (rows + kPanelRows - 1) / kPanelRows;
  p.panel_bytes = l.panel_bytes;
  auto* mem = static_cast<uint8_t*>(std::aligned_alloc(64, p.bytes()));
  if (!mem) throw std::bad_alloc();
  p.data = std::unique_ptr<uint8_t[], void (*)(uint8_t*)>(mem, detail::free_aligned);
  std::memset(mem, 0, p.bytes());
  const auto* W = static_cast<const uint8_t*>(Wv);
  const size_t rb = row_bytes(t, k);
  const int64_t nb = k / 32;
  detail::Decoded32 o;
  for (int64_t i = 0; i < rows; ++i) {
    uint8_t* panel = mem + static_cast<size_t>(i / kPanelRows) * p.panel_bytes;
    const int r = static_cast<int>(i % kPanelRows);
    const uint8_t* row = W + static_cast<size_t>(i) * rb;
    for (int64_t b = 0; b < nb; ++b) {
      detail::decode_any(t, row, b, o);  // unsigned q (Q8_0: q + 128)
      uint8_t* qs = panel + l.qs_off + static_cast<size_t>(b) * l.qs_block;
      if (l.steps == 8) {
        for (int s = 0; s < 8; ++s)
          for (int j = 0; j < 4; ++j) qs[(s * 16 + r) * 4 + j] = o.q[4 * s + j];
      } else if (l.six) {
        uint8_t* qh6 = panel + l.qh_off + static_cast<size_t>(b) * 128;
        for (int s = 0; s < 4; ++s)
          for (int j = 0; j < 4; ++j) {
            const uint8_t lo = o.q[4 * s + j], hi = o.q[16 + 4 * s + j];
            qs[(s * 16 + r) * 4 + j] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
            const int shift = s < 2 ? 0 : 2;
            qh6[((s % 2) * 16 + r) * 4 + j] |= static_cast<uint8_t>((((lo >> 4) & 3) << shift) | (((hi >> 4) & 3) << (4 + shift)));
          }
      } else {
        uint64_t* qh = reinterpret_cast<uint64_t*>(panel + l.qh_off + static_cast<size_t>(b) * 64);
        for (int s = 0; s < 4; ++s)
          for (int j = 0; j < 4; ++j) {
            const uint8_t lo = o.q[4 * s + j], hi = o.q[16 + 4 * s + j];
            qs[(s * 16 + r) * 4 + j] = static_cast<uint8_t>((lo & 0xf) | ((hi & 0xf) << 4));
            if (l.has_qh) {
              const int bit = 4 * r + j;
              qh[2 * s] |= static_cast<uint64_t>((lo >> 4) & 1) << bit;
              qh[2 * s + 1] |= static_cast<uint64_t>((hi >> 4) & 1) << bit;
            }
          }
      }
      if (l.six) {
        const auto* x = reinterpret_cast<const BlockQ6_K*>(row) + b / 8;
        if (b % 8 == 0) std::memcpy(panel + l.d_off + static_cast<size_t>(b / 8 * 16 + r) * 2, &x->d, 2);
        const int j = static_cast<int>(b % 8), half = j / 4, quarter = j % 4;
        for (int h = 0; h < 2; ++h)
          panel[l.sc_off + static_cast<size_t>((b * 2 + h) * 16 + r)] = static_cast<uint8_t>(x->scales[8 * half + 2 * quarter + h]);
        continue;
      }
      if (l.kquant) {
        const uint8_t* sblock = row + static_cast<size_t>(b / 8) * type_info(t).type_size;
        if (b % 8 == 0) {  // d, dmin: the first two fp16 of BlockQ4_K / BlockQ5_K
          std::memcpy(panel + l.d_off + static_cast<size_t>(b / 8 * 16 + r) * 2, sblock, 2);
          std::memcpy(panel + l.m_off + static_cast<size_t>(b / 8 * 16 + r) * 2, sblock + 2, 2);
        }
        int sc, mn;
        scale_min_k4(static_cast<int>(b % 8), sblock + 4, sc, mn);
        panel[l.sc_off + static_cast<size_t>(b * 16 + r)] = static_cast<uint8_t>(sc);
        panel[l.mn_off + static_cast<size_t>(b * 16 + r)] = static_cast<uint8_t>(mn);
        continue;
      }
      const uint16_t d = detail::raw_d(t, row, b);
      std::memcpy(panel + l.d_off + static_cast<size_t>(b * 16 + r) * 2, &d, 2);
      if (l.has_m) {
        const uint16_t m = detail::raw_m(t, row, b);
        std::memcpy(panel + l.m_off + static_cast<size_t>(b * 16 + r) * 2, &m, 2);
      }
    }
  }
  return p;
}

void matmul_packed(const PackedWeight& w, int64_t row_begin, int64_t row_end, const void* Xq, int64_t n_tokens,
                   float* Y, int64_t ldy) {
  assert(row_begin % kPanelRows == 0 && row_end <= w.rows);
  if (row_end <= row_begin || n_tokens <= 0) return;
  // AMX: the full 16-token tiles; the rest (generation, a prompt's last < 16 tokens) on AVX-512.
  constexpr int64_t kAmxTile = 16;
  if (const int64_t done = n_tokens / kAmxTile * kAmxTile;
      active_isa() >= Isa::Amx && done > 0 && detail::matmul_packed_amx(w, row_begin, row_end, Xq, done, Y, ldy)) {
    if (done == n_tokens) return;
    Xq = static_cast<const BlockQ8A*>(Xq) + done * (w.k / 32);
    Y += done * ldy;
    n_tokens -= done;
  }
  if (active_isa() >= Isa::Avx512 && detail::matmul_packed_avx512(w, row_begin, row_end, Xq, n_tokens, Y, ldy)) return;
  detail::matmul_packed_scalar(w, row_begin, row_end, Xq, n_tokens, Y, ldy);
}

}  // namespace parley::llm::quant
