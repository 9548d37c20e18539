// Internal: the per-ISA entry points behind kernels.hpp. The scalar functions are the reference; an
// ISA function returns false for a type it has no fast path for, and the dispatcher falls back.
#pragma once

#include <cstddef>
#include <cstdint>

#include "llm/quant/types.hpp"

namespace parley::llm::quant::detail {

void quantize_activations_scalar(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq);
void matmul_scalar(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end,
                   const void* Xq, int64_t n_tokens, float* Y, int64_t ldy);

bool quantize_activations_avx2(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq);
bool matmul_avx2(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end,
                 const void* Xq, int64_t n_tokens, float* Y, int64_t ldy);

bool quantize_activations_avx512(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq);
bool matmul_avx512(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end,
                   const void* Xq, int64_t n_tokens, float* Y, int64_t ldy);

// Activation blocks share one scale over this many consecutive 32-blocks: 8 (a 256 super-block) for
// K-quant weights, so their kernels can sum the 8 sub-blocks in integers; 1 for the legacy types.
inline int64_t activation_group_blocks(TensorType wt) {
  return wt == TensorType::Q4_K || wt == TensorType::Q5_K || wt == TensorType::Q6_K ? 8 : 1;
}

// K-quant direct kernels for 1..3 tokens (matmul_kquant_avx512.cpp); false when not applicable.
bool kquant_direct_avx512(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end,
                          const void* Xq, int64_t n_tokens, float* Y, int64_t ldy);

// 32-block-type direct kernels for 1..3 tokens (matmul_legacy_avx512.cpp); false when not applicable.
bool legacy_direct_avx512(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end,
                          const void* Xq, int64_t n_tokens, float* Y, int64_t ldy);

// Generation kernels stream each weight row once, R rows side by side; the hardware prefetchers stop at
// 4 KB page boundaries, so the kernels also prefetch (into L2) the same position a few row groups
// ahead: distance = the first multiple of the group's bytes (R * row bytes) that is >= 8 KB.
inline size_t prefetch_distance(size_t group_bytes) {
  return (8192 + group_bytes - 1) / group_bytes * group_bytes;
}

// Prefetch the cache lines of [p + distance, + bytes).
inline void prefetch_ahead(const void* p, size_t distance, size_t bytes) {
  const char* c = static_cast<const char*>(p) + distance;
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 2);
}

inline bool is_float_type(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
}

}  // namespace parley::llm::quant::detail
