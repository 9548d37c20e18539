// Packed weights: a copy of a quantized weight matrix rearranged at model load for the AVX-512 VNNI
// kernels, so one vpdpbusd multiplies 16 rows at once with no horizontal sums and no per-row set-up.
//
// Layout (kPanelRows = 16 rows per panel, rows padded with zeros to a multiple of 16; nb = k / 32):
//   panel p = rows [16p, 16p + 16), panel_bytes apart (a multiple of 64), made of sections
//     qs  [nb][steps][16 rows][4 bytes]  unsigned weights; lane (row) r of step s holds
//                                        Q8_0: bytes q[4s .. 4s+3] + 128 (steps = 8);
//                                        4/5-bit types: byte j = q[4s+j] (low nibble, bits 0-3)
//                                        | q[16+4s+j] (bits 0-3) << 4 (steps = 4)
//     qh  [nb][4 steps][2] uint64        Q5_0/Q5_1 only: bit 4r+j of [s][0] = bit 4 of q[4s+j],
//                                        of [s][1] = bit 4 of q[16+4s+j] (row r)
//     d   [nb][16] fp16                  the block scale of each row
//     m   [nb][16] fp16                  Q4_1/Q5_1 only: the block minimum of each row
//   Q4_K / Q5_K (qs and qh as above, per 32-element sub-block) keep their super-block scales instead:
//     d   [nb/8][16] fp16, m [nb/8][16] fp16 (d and dmin of each row's super-block), then
//     sc  [nb][16] uint8, mn [nb][16] uint8 (the 6-bit scale and min of each row's sub-block),
//     so the block scale is d * sc and the minimum -dmin * mn, both exact in f32.
//   Q6_K: qs holds bits 0-3 as above; bits 4-5 live in
//     qh6 [nb][2 pairs][16 rows][4 bytes]: pair p, byte j of row r: bits 0-1 = high bits of q[4p+j],
//         2-3 of q[4(p+2)+j], 4-5 of q[16+4p+j], 6-7 of q[16+4(p+2)+j]
//     d   [nb/8][16] fp16 (each row's super-block d), sc [nb][2 halves][16] int8 (16-element scales),
//     so w = d * sc * (q - 32) per 16-element half; the size equals the original's.
//   so the weight of row r, element e of block b is d * q + m (Q4_1/Q5_1) or d * (q - c) with
//   c = 128 (Q8_0), 8 (Q4_0), 16 (Q5_0). Bytes per panel = 16 x the original row bytes (+ padding).
//
// Use: pack once (Model::load), then per matmul quantize the activations as for the original type
// (quantize_activations(w.type, ...)) and call matmul_packed on row ranges that start at a multiple of
// 16. The original bytes are not read again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "llm/quant/types.hpp"

namespace parley::llm::quant {

constexpr int64_t kPanelRows = 16;

struct PackedWeight {
  TensorType type = TensorType::F32;  // the original block type
  int64_t rows = 0, k = 0;
  int64_t panels = 0;                  // ceil(rows / 16)
  size_t panel_bytes = 0;
  std::unique_ptr<uint8_t[], void (*)(uint8_t*)> data{nullptr, nullptr};  // 64-byte aligned
  size_t bytes() const { return static_cast<size_t>(panels) * panel_bytes; }
  const uint8_t* panel(int64_t p) const { return data.get() + static_cast<size_t>(p) * panel_bytes; }
};

// True for the types with a packed layout (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K).
bool packable(TensorType t);
// True when packing makes matmuls faster on this CPU (the packed kernels are AVX-512 VNNI; elsewhere
// only the scalar reference runs on packed weights).
bool packing_pays();

// W: rows x k in type t (row stride row_bytes(t, k)). Cost: one pass over W.
PackedWeight pack_weight(TensorType t, const void* W, int64_t rows, int64_t k);

// Y[j*ldy + i] = sum_k W[i][k] X[j][k] for rows i in [row_begin, row_end), tokens j in [0, n_tokens);
// row_begin must be a multiple of 16. Xq from quantize_activations(w.type, X, w.k, n_tokens, Xq).
// Single-threaded; reads the panels of the row range once per 64 tokens.
void matmul_packed(const PackedWeight& w, int64_t row_begin, int64_t row_end, const void* Xq, int64_t n_tokens,
                   float* Y, int64_t ldy);

namespace detail {
void matmul_packed_scalar(const PackedWeight& w, int64_t row_begin, int64_t row_end, const void* Xq,
                          int64_t n_tokens, float* Y, int64_t ldy);
bool matmul_packed_avx512(const PackedWeight& w, int64_t row_begin, int64_t row_end, const void* Xq,
                          int64_t n_tokens, float* Y, int64_t ldy);
// AMX-INT8 (TDPBSUD): n_tokens must be a multiple of 16 (full tiles); false for a type it does not cover.
// Configures the calling thread's tiles on entry and releases them on return.
bool matmul_packed_amx(const PackedWeight& w, int64_t row_begin, int64_t row_end, const void* Xq,
                       int64_t n_tokens, float* Y, int64_t ldy);

// Section geometry of one panel (see the layout above).
struct PanelLayout {
  int steps = 0;          // 8 (Q8_0) or 4
  size_t qs_block = 0;    // bytes of qs per block: steps * 64
  bool has_qh = false, has_m = false;
  bool kquant = false;    // Q4_K / Q5_K: super-block d/dmin + per-block sc/mn sections
  bool six = false;       // Q6_K: qh6 section, d per super-block, int8 scales per 16
  float c = 0;            // symmetric offset (0 when has_m)
  size_t qs_off = 0, qh_off = 0, d_off = 0, m_off = 0, sc_off = 0, mn_off = 0;  // section offsets
  size_t panel_bytes = 0;
};
PanelLayout panel_layout(TensorType t, int64_t k);
}  // namespace detail

}  // namespace parley::llm::quant
