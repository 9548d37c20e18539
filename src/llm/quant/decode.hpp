// Internal: the uniform view of a 32-element block of any quantized weight type, used by the scalar
// reference matmul and by the SIMD tile decoders' tests:
//   w[e] = s[e / 16] * q[e] + m[e / 16],   q[e] an unsigned integer in [0, 256).
// A dot with an activation block (x = dx * qx) is then exactly
//   dx * sum_h (s[h] * sum_{e in h} q[e] qx[e] + m[h] * sum[h]).
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "llm/quant/blocks.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/types.hpp"

namespace parley::llm::quant::detail {

struct Decoded32 {
  uint8_t q[32];
  float s[2];
  float m[2];
};

// Block b (counted in 32-element units) of a row of type T.
template <TensorType T>
inline void decode_block32(const uint8_t* row, int64_t b, Decoded32& o) {
  if constexpr (T == TensorType::Q8_0) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(row) + b;
    const float d = fp16_to_fp32(x->d);
    for (int e = 0; e < 32; ++e) o.q[e] = static_cast<uint8_t>(x->qs[e] + 128);
    o.s[0] = o.s[1] = d;
    o.m[0] = o.m[1] = -128.0f * d;
  } else if constexpr (T == TensorType::Q4_0 || T == TensorType::Q4_1) {
    using B = std::conditional_t<T == TensorType::Q4_0, BlockQ4_0, BlockQ4_1>;
    const auto* x = reinterpret_cast<const B*>(row) + b;
    const float d = fp16_to_fp32(x->d);
    for (int e = 0; e < 16; ++e) {
      o.q[e] = x->qs[e] & 0xf;
      o.q[e + 16] = x->qs[e] >> 4;
    }
    o.s[0] = o.s[1] = d;
    if constexpr (T == TensorType::Q4_0) o.m[0] = o.m[1] = -8.0f * d;
    else o.m[0] = o.m[1] = fp16_to_fp32(x->m);
  } else if constexpr (T == TensorType::Q5_0 || T == TensorType::Q5_1) {
    using B = std::conditional_t<T == TensorType::Q5_0, BlockQ5_0, BlockQ5_1>;
    const auto* x = reinterpret_cast<const B*>(row) + b;
    const float d = fp16_to_fp32(x->d);
    uint32_t qh;
    std::memcpy(&qh, x->qh, 4);
    for (int e = 0; e < 16; ++e) {
      o.q[e] = static_cast<uint8_t>((x->qs[e] & 0xf) | (((qh >> e) & 1u) << 4));
      o.q[e + 16] = static_cast<uint8_t>((x->qs[e] >> 4) | (((qh >> (e + 16)) & 1u) << 4));
    }
    o.s[0] = o.s[1] = d;
    if constexpr (T == TensorType::Q5_0) o.m[0] = o.m[1] = -16.0f * d;
    else o.m[0] = o.m[1] = fp16_to_fp32(x->m);
  } else if constexpr (T == TensorType::Q4_K || T == TensorType::Q5_K) {
    using B = std::conditional_t<T == TensorType::Q4_K, BlockQ4_K, BlockQ5_K>;
    const auto* x = reinterpret_cast<const B*>(row) + b / 8;
    const int j = static_cast<int>(b % 8);
    int sc, mn;
    scale_min_k4(j, x->scales, sc, mn);
    const uint8_t* qs = x->qs + 32 * (j / 2);
    const int shift = 4 * (j & 1);
    for (int l = 0; l < 32; ++l) {
      int q = (qs[l] >> shift) & 0xf;
      if constexpr (T == TensorType::Q5_K) q |= ((x->qh[l] >> j) & 1) << 4;
      o.q[l] = static_cast<uint8_t>(q);
    }
    o.s[0] = o.s[1] = fp16_to_fp32(x->d) * static_cast<float>(sc);
    o.m[0] = o.m[1] = -fp16_to_fp32(x->dmin) * static_cast<float>(mn);
  } else if constexpr (T == TensorType::Q6_K) {
    const auto* x = reinterpret_cast<const BlockQ6_K*>(row) + b / 8;
    const int j = static_cast<int>(b % 8), n = j / 4, quarter = j % 4;
    const uint8_t* ql = x->ql + 64 * n + 32 * (quarter & 1);
    const uint8_t* qh = x->qh + 32 * n;
    const int lshift = quarter >= 2 ? 4 : 0;
    for (int l = 0; l < 32; ++l)
      o.q[l] = static_cast<uint8_t>(((ql[l] >> lshift) & 0xf) | (((qh[l] >> (2 * quarter)) & 3) << 4));
    const float d = fp16_to_fp32(x->d);
    for (int h = 0; h < 2; ++h) {
      o.s[h] = d * static_cast<float>(x->scales[8 * n + 2 * quarter + h]);
      o.m[h] = -32.0f * o.s[h];
    }
  } else {
    static_assert(T == TensorType::Q8_0, "not a quantized block type");
  }
}

}  // namespace parley::llm::quant::detail
