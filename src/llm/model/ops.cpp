// Scalar reference versions of the forward-pass operations, and the start-up dispatch.
#include "llm/model/ops.hpp"

#include <cmath>

#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::ops {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float s = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * w[i];
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* inv_freq, int32_t pos,
          bool adjacent_pairs) {
  const int64_t half = n_rot / 2;
  float cs[512], sn[512];  // half <= head_dim / 2 <= 512 (hparams validation)
  for (int64_t i = 0; i < half; ++i) {
    const float a = static_cast<float>(pos) * inv_freq[i];
    cs[i] = std::cos(a);
    sn[i] = std::sin(a);
  }
  for (int64_t h = 0; h < n_heads; ++h) {
    float* v = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      float* a = adjacent_pairs ? v + 2 * i : v + i;
      float* b = adjacent_pairs ? v + 2 * i + 1 : v + i + half;
      const float x0 = *a, x1 = *b;
      *a = x0 * cs[i] - x1 * sn[i];
      *b = x0 * sn[i] + x1 * cs[i];
    }
  }
}

void softmax(float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

namespace {
float dot_f16_scalar(const float* q, const uint16_t* k, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += q[i] * quant::fp16_to_fp32(k[i]);
  return s;
}
void axpy_f16_scalar(float a, const uint16_t* v, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * quant::fp16_to_fp32(v[i]);
}
void to_f16_scalar(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = quant::fp32_to_fp16(x[i]);
}
void scores_f16_scalar(const float* q, int64_t group, int64_t hd, const uint16_t* k, int64_t stride,
                       int64_t n_pos, float scale, float* s, int64_t s_stride) {
  for (int64_t j = 0; j < n_pos; ++j)
    for (int64_t g = 0; g < group; ++g)
      s[g * s_stride + j] = dot_f16_scalar(q + g * hd, k + j * stride, hd) * scale;
}
void mix_f16_scalar(const float* p, int64_t p_stride, int64_t group, int64_t hd, const uint16_t* v,
                    int64_t stride, int64_t n_pos, float* out) {
  for (int64_t j = 0; j < n_pos; ++j)
    for (int64_t g = 0; g < group; ++g)
      axpy_f16_scalar(p[g * p_stride + j], v + j * stride, out + g * hd, hd);
}
constexpr AttentionKernels kScalar{dot_f16_scalar, axpy_f16_scalar, to_f16_scalar, scores_f16_scalar,
                                   mix_f16_scalar, softmax,         swiglu};
}  // namespace

const AttentionKernels& attention_kernels_scalar() { return kScalar; }

const AttentionKernels& attention_kernels() {
  // Follows the quant kernels' instruction-set choice (PARLEY_ISA, quant::set_isa).
  const AttentionKernels* k = quant::active_isa() != quant::Isa::Scalar ? attention_kernels_avx2() : nullptr;
  return k ? *k : kScalar;
}

}  // namespace parley::llm::ops
