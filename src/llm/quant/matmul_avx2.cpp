// AVX2 + FMA + F16C kernels (compiled with those flags; only called when CPUID reports them).
// All n_tokens go through the direct kernels of simd_direct.inc (4 rows x 2 tokens per pass).
#include <immintrin.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/fp16.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {
namespace {
constexpr int kDirectMaxTokens = 2;
#include "llm/quant/simd_direct.inc"
}  // namespace

bool quantize_activations_avx2(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq) {
  if (is_float_type(wt)) return false;
  quantize_q8a_rows(X, k / 32 * n_tokens, activation_group_blocks(wt), static_cast<BlockQ8A*>(Xq));
  return true;
}

bool matmul_avx2(TensorType wt, const void* W, int64_t k, int64_t r0, int64_t r1, const void* Xq, int64_t n,
                 float* Y, int64_t ldy) {
  switch (wt) {
    case TensorType::F32: float_matmul<TensorType::F32>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::F16: float_matmul<TensorType::F16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::BF16: float_matmul<TensorType::BF16>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q8_0: direct_matmul<TensorType::Q8_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_0: direct_matmul<TensorType::Q4_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_1: direct_matmul<TensorType::Q4_1>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_0: direct_matmul<TensorType::Q5_0>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_1: direct_matmul<TensorType::Q5_1>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q4_K: direct_matmul<TensorType::Q4_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q5_K: direct_matmul<TensorType::Q5_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    case TensorType::Q6_K: direct_matmul<TensorType::Q6_K>(W, k, r0, r1, Xq, n, Y, ldy); return true;
    default: return false;
  }
}

}  // namespace parley::llm::quant::detail
