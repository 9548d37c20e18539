// Quantized tensor kernels: row (de)quantization and the weight x activation matrix product that the
// forward pass runs on. Every operation has a scalar reference (kernels_scalar / the Isa::Scalar path)
// and AVX2 / AVX-512 VNNI (+ AMX-INT8 for prompt tiles on packed weights) versions chosen once at start-up
// from CPUID (override: env PARLEY_ISA=scalar|avx2|avx512|amx, or set_isa() in tests).
//
// Typical use for Y = X W^T with W [m rows, k] in type wt and X [n_tokens, k] f32:
//   std::vector<std::byte> xq(activation_bytes(wt, k, n));
//   quantize_activations(wt, X, k, n, xq.data());            // once per matmul, shared by all threads
//   matmul(wt, W, k, row_begin, row_end, xq.data(), n, Y, m);  // each thread its own row range
#pragma once

#include <cstddef>
#include <cstdint>

#include "llm/quant/types.hpp"

namespace parley::llm::quant {

using parley::llm::TensorType;

// True for the types these kernels compute with: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
// Q5_K, Q6_K.
bool is_supported(TensorType t);

// Bytes of one row of n elements (n must be a multiple of the type's block size).
size_t row_bytes(TensorType t, int64_t n);

// src: one row of n elements in type t -> dst[n] f32. Same arithmetic as ggml's dequantizers.
void dequantize_row(TensorType t, const void* src, float* dst, int64_t n);

// Reference quantizer: src[n] f32 -> one row of type t (row_bytes(t, n) bytes). K-quants search the
// sub-block scales/mins to minimise the squared error. Cost: O(n) for legacy types, ~O(20 n) for K-quants.
void quantize_row(TensorType t, const float* src, void* dst, int64_t n);

// Activations for a matmul against weights of type wt, converted once per matmul:
// quantized weights -> BlockQ8A blocks (blocks.hpp: 32 int8 + f32 scale + two 16-element sums);
// F32 / F16 / BF16 weights -> f32 rows (copied). X: [n_tokens, k] row-major f32.
// The layout is token-major and per-token contiguous: activation_bytes(wt, k, n) == n *
// activation_bytes(wt, k, 1), and token j starts at byte j * activation_bytes(wt, k, 1), so token ranges
// may be quantized separately (e.g. by several threads) into one buffer.
size_t activation_bytes(TensorType wt, int64_t k, int64_t n_tokens);
void quantize_activations(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq);

// Y[j*ldy + i] = sum_k W[i][k] * X[j][k] for rows i in [row_begin, row_end), tokens j in [0, n_tokens).
// W: rows of k elements in type wt, row stride row_bytes(wt, k); Xq from quantize_activations(wt, ...).
// Single-threaded; reads rows [row_begin, row_end) of W once (n_tokens > 1 is tiled over tokens).
void matmul(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end, const void* Xq,
            int64_t n_tokens, float* Y, int64_t ldy);

// Instruction-set selection (process-wide). detected_isa(): best the CPU supports; active_isa(): the one
// in use (detected, or PARLEY_ISA, or set_isa()). set_isa() clamps to what the CPU supports and returns
// what it set; meant for tests and benchmarks. Amx = AVX-512 VNNI plus AMX-INT8 tiles (used by
// matmul_packed for full 16-token tiles); detected only when the kernel grants the process the tile state
// (arch_prctl ARCH_REQ_XCOMP_PERM), so everything that checks >= Avx512 also holds for it. For now
// active_isa() starts at Amx on AMX machines (PARLEY_ISA=avx512 to stay on VNNI).
enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2, Amx = 3 };
Isa detected_isa();
Isa active_isa();
Isa set_isa(Isa isa);
const char* isa_name(Isa isa);

}  // namespace parley::llm::quant
