// Reference quantizers: f32 row -> blocks. Legacy types follow ggml's reference rules (absmax or
// min/max per 32); K-quants search each sub-block's scale (and min) among ~20 candidates, refit by
// least squares, then quantize the sub-block scales to 6 (Q4_K/Q5_K) or 8 (Q6_K) bits.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "llm/quant/blocks.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::quant {
namespace {

inline int nearest(float x) { return static_cast<int>(std::nearbyint(x)); }

void q8_0(const float* x, BlockQ8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float amax = 0;
    for (int e = 0; e < 32; ++e) amax = std::max(amax, std::fabs(x[e]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int e = 0; e < 32; ++e) y[i].qs[e] = static_cast<int8_t>(nearest(x[e] * id));
  }
}

// Q4_0 / Q5_0: d = (signed value of largest magnitude) / -2^(bits-1), q = x/d + 2^(bits-1).
template <class B, int kBits>
void q_sym(const float* x, B* y, int64_t nb) {
  constexpr int kHalf = 1 << (kBits - 1), kMax = (1 << kBits) - 1;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float amax = 0, vmax = 0;
    for (int e = 0; e < 32; ++e)
      if (std::fabs(x[e]) > amax) amax = std::fabs(x[e]), vmax = x[e];
    const float d = vmax / -static_cast<float>(kHalf), id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint8_t q[32];
    for (int e = 0; e < 32; ++e) q[e] = static_cast<uint8_t>(std::min(kMax, static_cast<int>(x[e] * id + kHalf + 0.5f)));
    for (int e = 0; e < 16; ++e) y[i].qs[e] = static_cast<uint8_t>((q[e] & 0xf) | ((q[e + 16] & 0xf) << 4));
    if constexpr (kBits == 5) {
      uint32_t qh = 0;
      for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>(q[e] >> 4) << e;
      std::memcpy(y[i].qh, &qh, 4);
    }
  }
}

// Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min.
template <class B, int kBits>
void q_affine(const float* x, B* y, int64_t nb) {
  constexpr int kMax = (1 << kBits) - 1;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    float lo = x[0], hi = x[0];
    for (int e = 1; e < 32; ++e) lo = std::min(lo, x[e]), hi = std::max(hi, x[e]);
    const float d = (hi - lo) / kMax, id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(lo);
    uint8_t q[32];
    for (int e = 0; e < 32; ++e) q[e] = static_cast<uint8_t>(std::min(kMax, static_cast<int>((x[e] - lo) * id + 0.5f)));
    for (int e = 0; e < 16; ++e) y[i].qs[e] = static_cast<uint8_t>((q[e] & 0xf) | ((q[e + 16] & 0xf) << 4));
    if constexpr (kBits == 5) {
      uint32_t qh = 0;
      for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>(q[e] >> 4) << e;
      std::memcpy(y[i].qh, &qh, 4);
    }
  }
}

// Best (scale, min) with x ~ scale * q - min, q in [0, nmax], min >= 0, over n values.
void fit_scale_min(const float* x, int n, int nmax, float& scale, float& min_out) {
  float lo = x[0], hi = x[0];
  for (int e = 1; e < n; ++e) lo = std::min(lo, x[e]), hi = std::max(hi, x[e]);
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    scale = 0;
    min_out = -lo;
    return;
  }
  float best_err = INFINITY;
  scale = (hi - lo) / nmax;
  min_out = -lo;
  for (int step = -9; step <= 10; ++step) {
    const float iscale = (nmax + 0.1f * step) / (hi - lo);
    float sq = 0, sq2 = 0, sx = 0, sqx = 0;
    int q[32];
    for (int e = 0; e < n; ++e) {
      q[e] = std::clamp(nearest(iscale * (x[e] - lo)), 0, nmax);
      sq += q[e], sq2 += static_cast<float>(q[e]) * q[e], sx += x[e], sqx += q[e] * x[e];
    }
    // Least squares for x = s q + m: [sq2 sq; sq n] [s m]' = [sqx sx]'.
    const float det = n * sq2 - sq * sq;
    if (det <= 0) continue;
    float s = (n * sqx - sq * sx) / det, m = (sq2 * sx - sq * sqx) / det;
    if (m > 0) m = 0, s = sq2 > 0 ? sqx / sq2 : 0;
    if (s <= 0) continue;
    float err = 0;
    for (int e = 0; e < n; ++e) {
      const float r = s * q[e] + m - x[e];
      err += r * r;
    }
    if (err < best_err) best_err = err, scale = s, min_out = -m;
  }
}

// Q4_K / Q5_K super-block of 256.
template <class B, int kBits>
void q_k45(const float* x, B* y, int64_t nb) {
  constexpr int kMax = (1 << kBits) - 1;
  for (int64_t i = 0; i < nb; ++i, x += 256) {
    float scales[8], mins[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
      fit_scale_min(x + 32 * j, 32, kMax, scales[j], mins[j]);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    const float inv_s = max_scale > 0 ? 63.0f / max_scale : 0.0f, inv_m = max_min > 0 ? 63.0f / max_min : 0.0f;
    B& b = y[i];
    std::memset(&b, 0, sizeof(B));
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
      ls[j] = static_cast<uint8_t>(std::min(63, nearest(inv_s * scales[j])));
      lm[j] = static_cast<uint8_t>(std::min(63, nearest(inv_m * mins[j])));
      if (j < 4) {
        b.scales[j] = ls[j];
        b.scales[j + 4] = lm[j];
      } else {
        b.scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
        b.scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
        b.scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
      }
    }
    b.d = fp32_to_fp16(max_scale / 63.0f);
    b.dmin = fp32_to_fp16(max_min / 63.0f);
    const float d = fp16_to_fp32(b.d), dmin = fp16_to_fp32(b.dmin);
    for (int j = 0; j < 8; ++j) {
      const float sd = d * ls[j], md = dmin * lm[j];
      for (int l = 0; l < 32; ++l) {
        const int q = sd > 0 ? std::clamp(nearest((x[32 * j + l] + md) / sd), 0, kMax) : 0;
        b.qs[32 * (j / 2) + l] |= static_cast<uint8_t>((q & 0xf) << (4 * (j & 1)));
        if constexpr (kBits == 5) b.qh[l] |= static_cast<uint8_t>((q >> 4) << j);
      }
    }
  }
}

// Best signed scale for x ~ s * q, q in [-32, 31], over 16 values.
float fit_scale_q6(const float* x) {
  float amax = 0, vmax = 0;
  for (int e = 0; e < 16; ++e)
    if (std::fabs(x[e]) > amax) amax = std::fabs(x[e]), vmax = x[e];
  if (amax == 0) return 0;
  float best_err = INFINITY, best = vmax / -32.0f;
  for (int step = -9; step <= 9; ++step) {
    const float iscale = -(32.0f + 0.1f * step) / vmax;
    float sqx = 0, sq2 = 0;
    int q[16];
    for (int e = 0; e < 16; ++e) {
      q[e] = std::clamp(nearest(iscale * x[e]), -32, 31);
      sqx += q[e] * x[e], sq2 += static_cast<float>(q[e]) * q[e];
    }
    if (sq2 <= 0) continue;
    const float s = sqx / sq2;
    float err = 0;
    for (int e = 0; e < 16; ++e) err += (s * q[e] - x[e]) * (s * q[e] - x[e]);
    if (err < best_err) best_err = err, best = s;
  }
  return best;
}

void q6_k(const float* x, BlockQ6_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 256) {
    float scales[16], max_abs = 0, max_scale = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_scale_q6(x + 16 * j);
      if (std::fabs(scales[j]) > max_abs) max_abs = std::fabs(scales[j]), max_scale = scales[j];
    }
    BlockQ6_K& b = y[i];
    std::memset(&b, 0, sizeof(b));
    if (max_abs == 0) continue;
    const float iscale = -128.0f / max_scale;
    b.d = fp32_to_fp16(1.0f / iscale);
    for (int j = 0; j < 16; ++j) b.scales[j] = static_cast<int8_t>(std::min(127, nearest(iscale * scales[j])));
    const float d = fp16_to_fp32(b.d);
    for (int e = 0; e < 256; ++e) {
      const float sd = d * b.scales[e / 16];
      const int q = sd != 0 ? std::clamp(nearest(x[e] / sd), -32, 31) + 32 : 32;
      const int n = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
      b.ql[64 * n + l + 32 * (quarter & 1)] |= static_cast<uint8_t>((q & 0xf) << (quarter >= 2 ? 4 : 0));
      b.qh[32 * n + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
    }
  }
}

}  // namespace

void quantize_row(TensorType t, const float* src, void* dst, int64_t n) {
  const int64_t bs = type_info(t).block_size;
  assert(n % bs == 0);
  const int64_t nb = n / bs;
  switch (t) {
    case TensorType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case TensorType::F16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_fp16(src[i]);
      return;
    }
    case TensorType::BF16: {
      auto* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
      return;
    }
    case TensorType::Q8_0: q8_0(src, static_cast<BlockQ8_0*>(dst), nb); return;
    case TensorType::Q4_0: q_sym<BlockQ4_0, 4>(src, static_cast<BlockQ4_0*>(dst), nb); return;
    case TensorType::Q5_0: q_sym<BlockQ5_0, 5>(src, static_cast<BlockQ5_0*>(dst), nb); return;
    case TensorType::Q4_1: q_affine<BlockQ4_1, 4>(src, static_cast<BlockQ4_1*>(dst), nb); return;
    case TensorType::Q5_1: q_affine<BlockQ5_1, 5>(src, static_cast<BlockQ5_1*>(dst), nb); return;
    case TensorType::Q4_K: q_k45<BlockQ4_K, 4>(src, static_cast<BlockQ4_K*>(dst), nb); return;
    case TensorType::Q5_K: q_k45<BlockQ5_K, 5>(src, static_cast<BlockQ5_K*>(dst), nb); return;
    case TensorType::Q6_K: q6_k(src, static_cast<BlockQ6_K*>(dst), nb); return;
    default: break;
  }
  throw std::invalid_argument("quantize_row: unsupported tensor type " + std::string(type_info(t).name));
}

}  // namespace parley::llm::quant
