// avx2 kernels (compiled with the avx2 flags; only called when CPUID reports them).
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant::detail {

bool quantize_activations_avx2(TensorType, const float*, int64_t, int64_t, void*) { return false; }
bool matmul_avx2(TensorType, const void*, int64_t, int64_t, int64_t, const void*, int64_t, float*, int64_t) {
  return false;
}

}  // namespace parley::llm::quant::detail
