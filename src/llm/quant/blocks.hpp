// Block layouts, bit-exact with the GGUF files written by llama.cpp / ggml.
// Every struct is 2-byte aligned and unpadded (sizes checked below), so a row is a plain array of blocks.
#pragma once

#include <cstdint>

namespace parley::llm::quant {

constexpr int kQK = 32;    // elements per legacy block
constexpr int kQKK = 256;  // elements per K-quant super-block

// w = d * (q - 8), q in [0,16); element j < 16 in the low nibble of qs[j], element j + 16 in its high nibble.
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
// w = d * q + m, q in [0,16).
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };
// w = d * (q - 16), q in [0,32): low 4 bits as Q4_0, bit 4 of element j is bit j of the little-endian qh.
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
// w = d * q + m, q in [0,32).
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
// w = d * q.
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
// 8 sub-blocks of 32: w = d * sc[j] * q - dmin * mn[j], q in [0,16); 6-bit sc/mn packed in scales[12]
// (see scale_min_k4). Sub-blocks 2p and 2p+1 share qs[32p .. 32p+31] (low / high nibble).
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
// As Q4_K with a fifth bit: bit j of qh[l] is bit 4 of element l of sub-block j.
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
// 16 sub-blocks of 16: w = d * scales[e / 16] * (q - 32), q in [0,64). For half n (128 elements) and
// l < 32: elements l, l+32, l+64, l+96 take the low nibble of ql[64n+l], low of ql[64n+l+32], high of
// ql[64n+l], high of ql[64n+l+32], and bits 0-1, 2-3, 4-5, 6-7 of qh[32n+l] as bits 4-5.
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };

// Activation block (this engine's own format, never stored in files): x = d * qs, qs in [-127,127],
// d shared by the 8 blocks of a 256 super-block when the weights are K-quants,
// sum[h] = qs[16h] + ... + qs[16h+15]. One per 32 activations, for every quantized weight type.
struct BlockQ8A { int8_t qs[32]; float d; int16_t sum[2]; };

// Token-major copy of the activations, built inside the tiled matmul (n_tokens >= kTileMinTokens): per
// group of 16 tokens and per 32-block, qs[s][t] holds elements 4s..4s+3 of token t (so one 64-byte load
// feeds vpdpbusd with 16 tokens), d[t] its scale and xs[h][t] = d[t] * sum[h] of token t. Missing tokens
// of the last group are zero.
struct TileQ8A { int8_t qs[8][16][4]; float d[16]; float xs[2][16]; };
constexpr int64_t kTileMinTokens = 4;

static_assert(sizeof(TileQ8A) == 704);
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8A) == 40);

// 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block.
inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& mn) {
  if (j < 4) {
    sc = q[j] & 63;
    mn = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4);
    mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace parley::llm::quant
