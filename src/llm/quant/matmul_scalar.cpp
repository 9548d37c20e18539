// Scalar reference: activation quantization and the matmul, written for clarity. Quantized weights are
// decoded block by block to the uniform (q, s, m) view of decode.hpp and dotted in integers; each weight
// block is decoded once and used for every token.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/decode.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {
namespace {

// x[32] -> one activation block: d = amax / 127, qs = round-to-nearest-even(x * 127 / amax), where amax
// is the largest |x| of the block's group (the block itself, or its 256-element super-block for K-quants).
void quantize_block_q8a(const float* x, float amax, BlockQ8A& b) {
  const float id = amax > 0 ? 127.0f / amax : 0.0f;
  b.d = amax / 127.0f;
  int s0 = 0, s1 = 0;
  for (int e = 0; e < 32; ++e) {
    const int q = static_cast<int>(std::nearbyint(x[e] * id));
    b.qs[e] = static_cast<int8_t>(q);
    (e < 16 ? s0 : s1) += q;
  }
  b.sum[0] = static_cast<int16_t>(s0);
  b.sum[1] = static_cast<int16_t>(s1);
}

template <TensorType T>
void matmul_quant(const uint8_t* W, int64_t k, int64_t r0, int64_t r1, const BlockQ8A* X, int64_t n,
                  float* Y, int64_t ldy) {
  const int64_t nb = k / 32;
  const size_t rb = row_bytes(T, k);
  std::vector<double> acc(static_cast<size_t>(n));
  Decoded32 w;
  for (int64_t i = r0; i < r1; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    const uint8_t* row = W + static_cast<size_t>(i) * rb;
    for (int64_t b = 0; b < nb; ++b) {
      decode_block32<T>(row, b, w);
      for (int64_t j = 0; j < n; ++j) {
        const BlockQ8A& x = X[j * nb + b];
        float part = 0;
        for (int h = 0; h < 2; ++h) {
          int dot = 0;
          for (int e = 16 * h; e < 16 * h + 16; ++e) dot += static_cast<int>(w.q[e]) * x.qs[e];
          part += w.s[h] * static_cast<float>(dot) + w.m[h] * static_cast<float>(x.sum[h]);
        }
        acc[static_cast<size_t>(j)] += static_cast<double>(x.d * part);
      }
    }
    for (int64_t j = 0; j < n; ++j) Y[j * ldy + i] = static_cast<float>(acc[static_cast<size_t>(j)]);
  }
}

template <class Convert>
void matmul_float(const uint8_t* W, size_t elem_bytes, Convert cvt, int64_t k, int64_t r0, int64_t r1,
                  const float* X, int64_t n, float* Y, int64_t ldy) {
  std::vector<float> w(static_cast<size_t>(k));
  for (int64_t i = r0; i < r1; ++i) {
    const uint8_t* row = W + static_cast<size_t>(i) * k * elem_bytes;
    for (int64_t e = 0; e < k; ++e) w[static_cast<size_t>(e)] = cvt(row + e * elem_bytes);
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t e = 0; e < k; ++e) acc += static_cast<double>(w[static_cast<size_t>(e)] * X[j * k + e]);
      Y[j * ldy + i] = static_cast<float>(acc);
    }
  }
}

}  // namespace

void quantize_activations_scalar(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq) {
  if (is_float_type(wt)) {
    std::memcpy(Xq, X, static_cast<size_t>(k * n_tokens) * sizeof(float));
    return;
  }
  assert(k % 32 == 0);
  auto* out = static_cast<BlockQ8A*>(Xq);
  const int64_t group = activation_group_blocks(wt);
  for (int64_t i = 0; i < k * n_tokens / 32; i += group) {
    float amax = 0;
    for (int64_t e = 0; e < 32 * group; ++e) amax = std::max(amax, std::fabs(X[32 * i + e]));
    for (int64_t g = 0; g < group; ++g) quantize_block_q8a(X + 32 * (i + g), amax, out[i + g]);
  }
}

void matmul_scalar(TensorType wt, const void* Wv, int64_t k, int64_t r0, int64_t r1, const void* Xq,
                   int64_t n, float* Y, int64_t ldy) {
  const auto* W = static_cast<const uint8_t*>(Wv);
  const auto* X = static_cast<const BlockQ8A*>(Xq);
  const auto* Xf = static_cast<const float*>(Xq);
  switch (wt) {
    case TensorType::F32:
      return matmul_float(W, 4, [](const uint8_t* p) { float f; std::memcpy(&f, p, 4); return f; }, k, r0, r1, Xf, n, Y, ldy);
    case TensorType::F16:
      return matmul_float(W, 2, [](const uint8_t* p) { uint16_t h; std::memcpy(&h, p, 2); return fp16_to_fp32(h); }, k, r0, r1, Xf, n, Y, ldy);
    case TensorType::BF16:
      return matmul_float(W, 2, [](const uint8_t* p) { uint16_t h; std::memcpy(&h, p, 2); return bf16_to_fp32(h); }, k, r0, r1, Xf, n, Y, ldy);
    case TensorType::Q8_0: return matmul_quant<TensorType::Q8_0>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q4_0: return matmul_quant<TensorType::Q4_0>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q4_1: return matmul_quant<TensorType::Q4_1>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q5_0: return matmul_quant<TensorType::Q5_0>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q5_1: return matmul_quant<TensorType::Q5_1>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q4_K: return matmul_quant<TensorType::Q4_K>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q5_K: return matmul_quant<TensorType::Q5_K>(W, k, r0, r1, X, n, Y, ldy);
    case TensorType::Q6_K: return matmul_quant<TensorType::Q6_K>(W, k, r0, r1, X, n, Y, ldy);
    default: break;
  }
  throw std::invalid_argument("matmul: unsupported tensor type " + std::string(type_info(wt).name));
}

}  // namespace parley::llm::quant::detail
