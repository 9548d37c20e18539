// Element-wise and attention operations of the forward pass (f32 activations, f16 KV cache).
// Each has a scalar reference (ops_scalar.cpp); the hot inner loops also have AVX2 (+F16C/FMA)
// versions (ops_avx2.cpp), chosen once at start-up from CPUID. tests/llm/model/ops_test.cpp
// compares them.
#pragma once

#include <cstdint>

namespace parley::llm::ops {

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]; n elements.
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);

// out[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + e^-z); in place on gate allowed.
void swiglu(const float* gate, const float* up, float* out, int64_t n);

// Rotates n_heads vectors of head_dim (stride head_dim) by position-dependent angles:
// angle_i = pos * inv_freq[i] for the first n_rot dimensions, pairing (2i, 2i+1) when adjacent
// or (i, i + n_rot/2) otherwise.
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* inv_freq, int32_t pos,
          bool adjacent_pairs);

// The two inner loops of attention over an f16 cache.
struct AttentionKernels {
  float (*dot_f16)(const float* q, const uint16_t* k, int64_t n);     // sum q[i] * k[i]
  void (*axpy_f16)(float a, const uint16_t* v, float* y, int64_t n);  // y[i] += a * v[i]
  void (*to_f16)(const float* x, uint16_t* y, int64_t n);             // round to nearest even
  // The same loops for a group of query heads sharing one KV head, over n_pos consecutive cache slots
  // (k_j = k + j * stride, q_g = q + g * hd): each cached vector is converted once for the whole group.
  // s[g * s_stride + j] = scale * (q_g . k_j)
  void (*scores_f16)(const float* q, int64_t group, int64_t hd, const uint16_t* k, int64_t stride,
                     int64_t n_pos, float scale, float* s, int64_t s_stride);
  // out[g * hd + i] += sum_j p[g * p_stride + j] * v_j[i], j ascending
  void (*mix_f16)(const float* p, int64_t p_stride, int64_t group, int64_t hd, const uint16_t* v,
                  int64_t stride, int64_t n_pos, float* out);
  // softmax() and swiglu() below (the vector versions use a polynomial exp within ~2 ulp).
  void (*softmax)(float* x, int64_t n);
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
};
const AttentionKernels& attention_kernels();         // fastest for this CPU
const AttentionKernels& attention_kernels_scalar();  // the reference
const AttentionKernels* attention_kernels_avx2();    // nullptr when the CPU lacks AVX2/F16C/FMA

// Numerically stable softmax in place over n scores.
void softmax(float* x, int64_t n);

}  // namespace parley::llm::ops
