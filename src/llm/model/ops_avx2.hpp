// Helpers shared by the AVX2 (+FMA) kernels of the forward pass; include only from files compiled
// with the AVX2 flags (*_avx2.cpp, *_avx512.cpp).
#pragma once

#include <immintrin.h>

namespace parley::llm::ops {

// e^x for 8 floats within ~2 ulp (degree-6 polynomial); x clamped to [-87.3, 88.3]; e^0 is exactly 1.
__m256 exp_avx2(__m256 x);

}  // namespace parley::llm::ops
