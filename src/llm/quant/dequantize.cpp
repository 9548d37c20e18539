// Scalar dequantizers: one row of blocks -> f32, with ggml's arithmetic (same order of operations).
#include <cassert>
#include <cstring>
#include <stdexcept>
#include <string>

#include "llm/quant/blocks.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::quant {
namespace {

void deq_q8_0(const BlockQ8_0* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_fp32(x[i].d);
    for (int e = 0; e < 32; ++e) y[e] = static_cast<float>(x[i].qs[e]) * d;
  }
}

template <class B, bool kHasMin>
void deq_q4(const B* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_fp32(x[i].d);
    for (int e = 0; e < 16; ++e) {
      if constexpr (kHasMin) {
        const float m = fp16_to_fp32(x[i].m);
        y[e] = static_cast<float>(x[i].qs[e] & 0xf) * d + m;
        y[e + 16] = static_cast<float>(x[i].qs[e] >> 4) * d + m;
      } else {
        y[e] = static_cast<float>((x[i].qs[e] & 0xf) - 8) * d;
        y[e + 16] = static_cast<float>((x[i].qs[e] >> 4) - 8) * d;
      }
    }
  }
}

template <class B, bool kHasMin>
void deq_q5(const B* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_fp32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int e = 0; e < 16; ++e) {
      const int q0 = (x[i].qs[e] & 0xf) | static_cast<int>(((qh >> e) & 1u) << 4);
      const int q1 = (x[i].qs[e] >> 4) | static_cast<int>(((qh >> (e + 16)) & 1u) << 4);
      if constexpr (kHasMin) {
        const float m = fp16_to_fp32(x[i].m);
        y[e] = static_cast<float>(q0) * d + m;
        y[e + 16] = static_cast<float>(q1) * d + m;
      } else {
        y[e] = static_cast<float>(q0 - 16) * d;
        y[e + 16] = static_cast<float>(q1 - 16) * d;
      }
    }
  }
}

template <class B, bool kFiveBit>
void deq_qk(const B* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
    for (int j = 0; j < 8; ++j, y += 32) {
      int sc, mn;
      scale_min_k4(j, x[i].scales, sc, mn);
      const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(mn);
      const uint8_t* qs = x[i].qs + 32 * (j / 2);
      const int shift = 4 * (j & 1);
      for (int l = 0; l < 32; ++l) {
        int q = (qs[l] >> shift) & 0xf;
        if constexpr (kFiveBit) q += ((x[i].qh[l] >> j) & 1) ? 16 : 0;
        y[l] = d1 * static_cast<float>(q) - m1;
      }
    }
  }
}

void deq_q6_k(const BlockQ6_K* x, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int n = 0; n < 2; ++n, y += 128) {
      const uint8_t* ql = x[i].ql + 64 * n;
      const uint8_t* qh = x[i].qh + 32 * n;
      const int8_t* sc = x[i].scales + 8 * n;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

}  // namespace

void dequantize_row(TensorType t, const void* src, float* dst, int64_t n) {
  const int64_t bs = type_info(t).block_size;
  assert(n % bs == 0);
  const int64_t nb = n / bs;
  switch (t) {
    case TensorType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case TensorType::F16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(s[i]);
      return;
    }
    case TensorType::BF16: {
      const auto* s = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
      return;
    }
    case TensorType::Q8_0: deq_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb); return;
    case TensorType::Q4_0: deq_q4<BlockQ4_0, false>(static_cast<const BlockQ4_0*>(src), dst, nb); return;
    case TensorType::Q4_1: deq_q4<BlockQ4_1, true>(static_cast<const BlockQ4_1*>(src), dst, nb); return;
    case TensorType::Q5_0: deq_q5<BlockQ5_0, false>(static_cast<const BlockQ5_0*>(src), dst, nb); return;
    case TensorType::Q5_1: deq_q5<BlockQ5_1, true>(static_cast<const BlockQ5_1*>(src), dst, nb); return;
    case TensorType::Q4_K: deq_qk<BlockQ4_K, false>(static_cast<const BlockQ4_K*>(src), dst, nb); return;
    case TensorType::Q5_K: deq_qk<BlockQ5_K, true>(static_cast<const BlockQ5_K*>(src), dst, nb); return;
    case TensorType::Q6_K: deq_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb); return;
    default: break;
  }
  throw std::invalid_argument("dequantize_row: unsupported tensor type " + std::string(type_info(t).name));
}

}  // namespace parley::llm::quant
