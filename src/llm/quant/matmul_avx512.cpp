// avx512 kernels (compiled with the avx512 flags; only called when CPUID reports them).
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {

bool quantize_activations_avx512(TensorType, const float*, int64_t, int64_t, void*) { return false; }
bool matmul_avx512(TensorType, const void*, int64_t, int64_t, int64_t, const void*, int64_t, float*, int64_t) {
  return false;
}

}  // namespace parley::llm::quant::detail
