// AVX2 + FMA + F16C versions of the attention inner loops (compiled with -mavx2 -mfma -mf16c).
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "llm/model/ops.hpp"
#include "llm/model/ops_avx2.hpp"
#include "llm/quant/fp16.hpp"

namespace parley::llm::ops {
namespace {

float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float dot_f16_avx2(const float* q, const uint16_t* k, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i)));
    __m256 k1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i + 8)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), k0, acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), k1, acc1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 k0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + i)));
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), k0, acc0);
  }
  float s = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += q[i] * quant::fp16_to_fp32(k[i]);
  return s;
}

void axpy_f16_avx2(float a, const uint16_t* v, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + i)));
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, v0, _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * quant::fp16_to_fp32(v[i]);
}

void to_f16_avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) y[i] = quant::fp32_to_fp16(x[i]);
}

// Each k_j (hd <= 256, a multiple of 8: the usual head sizes) is converted to f32 once, in registers or
// L1, and dotted with every query of the group; other head sizes take the plain loops.
void scores_f16_avx2(const float* q, int64_t group, int64_t hd, const uint16_t* k, int64_t stride,
                     int64_t n_pos, float scale, float* s, int64_t s_stride) {
  if (hd % 8 != 0 || hd > 256) {
    for (int64_t j = 0; j < n_pos; ++j)
      for (int64_t g = 0; g < group; ++g)
        s[g * s_stride + j] = dot_f16_avx2(q + g * hd, k + j * stride, hd) * scale;
    return;
  }
  const int64_t nv = hd / 8;
  __m256 kf[32];
  for (int64_t j = 0; j < n_pos; ++j) {
    const uint16_t* kj = k + j * stride;
    for (int64_t i = 0; i < nv; ++i)
      kf[i] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kj + 8 * i)));
    for (int64_t g = 0; g < group; ++g) {
      const float* qg = q + g * hd;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
      int64_t i = 0;
      for (; i + 2 <= nv; i += 2) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + 8 * i), kf[i], a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + 8 * i + 8), kf[i + 1], a1);
      }
      if (i < nv) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + 8 * i), kf[i], a0);
      s[g * s_stride + j] = hsum(_mm256_add_ps(a0, a1)) * scale;
    }
  }
}

// 8 output dimensions at a time for up to 8 heads of the group, accumulated in registers over all
// positions (j ascending, as the scalar loop), each v_j slice converted once.
void mix_f16_avx2(const float* p, int64_t p_stride, int64_t group, int64_t hd, const uint16_t* v,
                  int64_t stride, int64_t n_pos, float* out) {
  if (hd % 8 != 0) {
    for (int64_t j = 0; j < n_pos; ++j)
      for (int64_t g = 0; g < group; ++g)
        axpy_f16_avx2(p[g * p_stride + j], v + j * stride, out + g * hd, hd);
    return;
  }
  for (int64_t g0 = 0; g0 < group; g0 += 8) {
    const int64_t ng = std::min<int64_t>(8, group - g0);
    for (int64_t d = 0; d < hd; d += 8) {
      __m256 acc[8];
      for (int64_t g = 0; g < ng; ++g) acc[g] = _mm256_loadu_ps(out + (g0 + g) * hd + d);
      for (int64_t j = 0; j < n_pos; ++j) {
        const __m256 vj =
            _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + j * stride + d)));
        for (int64_t g = 0; g < ng; ++g)
          acc[g] = _mm256_fmadd_ps(_mm256_set1_ps(p[(g0 + g) * p_stride + j]), vj, acc[g]);
      }
      for (int64_t g = 0; g < ng; ++g) _mm256_storeu_ps(out + (g0 + g) * hd + d, acc[g]);
    }
  }
}

void softmax_avx2(float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  double sum = hsum(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const __m256 inv = _mm256_set1_ps(static_cast<float>(1.0 / sum));
  i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
  for (; i < n; ++i) x[i] *= static_cast<float>(1.0 / sum);
}

void swiglu_avx2(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(out + i,
                     _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

constexpr AttentionKernels kAvx2{dot_f16_avx2, axpy_f16_avx2, to_f16_avx2, scores_f16_avx2,
                                 mix_f16_avx2, softmax_avx2,  swiglu_avx2};

}  // namespace

const AttentionKernels* attention_kernels_avx2() {
  static const bool ok =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return ok ? &kAvx2 : nullptr;
}

}  // namespace parley::llm::ops
