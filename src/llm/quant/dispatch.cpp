// Public entry points: sizes, ISA selection (CPUID once, PARLEY_ISA override, set_isa for tests) and
// dispatch to the per-ISA kernels with fallback to the scalar reference.
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"
#include "llm/quant/kernels_impl.hpp"

namespace parley::llm::quant {
namespace {

// AMX-TILE and AMX-INT8 (CPUID.(7,0):EDX bits 24, 25), and the kernel's permission for this process to
// use the tile data state (Linux >= 5.16; without it the first tile instruction faults). Idempotent.
bool amx_usable() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  if (!((edx >> 24) & 1) || !((edx >> 25) & 1)) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

Isa detect() {
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bf16");
  if (avx512 && amx_usable()) return Isa::Amx;
  return avx512 ? Isa::Avx512 : avx2 ? Isa::Avx2 : Isa::Scalar;
}

// AMX is used wherever the CPU and kernel allow it (PARLEY_ISA=avx512 turns it off). Everything that
// selects a kernel by active_isa() must treat Isa::Amx as Avx512 (llm/model's tiled_attention() has the
// case; without it prompts fell back to per-token attention, which cancelled the gain).
Isa initial_isa() {
  const Isa detected = detect();
  Isa want = detected;
  if (const char* env = std::getenv("PARLEY_ISA")) {
    const std::string v = env;
    want = v == "scalar"   ? Isa::Scalar
           : v == "avx2"   ? Isa::Avx2
           : v == "avx512" ? Isa::Avx512
           : v == "amx"    ? Isa::Amx
                           : want;
  }
  return want < detected ? want : detected;
}

std::atomic<Isa>& current() {
  static std::atomic<Isa> isa{initial_isa()};
  return isa;
}

void check_type(TensorType t, const char* what) {
  if (!is_supported(t))
    throw std::invalid_argument(std::string(what) + ": unsupported tensor type " + std::string(type_info(t).name));
}

}  // namespace

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}
Isa active_isa() { return current().load(std::memory_order_relaxed); }
Isa set_isa(Isa isa) {
  if (isa > detected_isa()) isa = detected_isa();
  current().store(isa);
  return isa;
}
const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Amx: return "amx";
  }
  return "?";
}

bool is_supported(TensorType t) {
  switch (t) {
    case TensorType::F32: case TensorType::F16: case TensorType::BF16: case TensorType::Q8_0:
    case TensorType::Q4_0: case TensorType::Q4_1: case TensorType::Q5_0: case TensorType::Q5_1:
    case TensorType::Q4_K: case TensorType::Q5_K: case TensorType::Q6_K:
      return true;
    default:
      return false;
  }
}

size_t row_bytes(TensorType t, int64_t n) {
  const TypeInfo& info = type_info(t);
  assert(n % info.block_size == 0);
  return static_cast<size_t>(n / info.block_size) * info.type_size;
}

size_t activation_bytes(TensorType wt, int64_t k, int64_t n_tokens) {
  if (detail::is_float_type(wt)) return static_cast<size_t>(k * n_tokens) * sizeof(float);
  return static_cast<size_t>(k / 32 * n_tokens) * sizeof(BlockQ8A);
}

void quantize_activations(TensorType wt, const float* X, int64_t k, int64_t n_tokens, void* Xq) {
  check_type(wt, "quantize_activations");
  if (k % type_info(wt).block_size != 0) throw std::invalid_argument("quantize_activations: k not a block multiple");
  const Isa isa = active_isa();
  if (!(isa >= Isa::Avx512 && detail::quantize_activations_avx512(wt, X, k, n_tokens, Xq)) &&
      !(isa >= Isa::Avx2 && detail::quantize_activations_avx2(wt, X, k, n_tokens, Xq)))
    detail::quantize_activations_scalar(wt, X, k, n_tokens, Xq);
}

void matmul(TensorType wt, const void* W, int64_t k, int64_t row_begin, int64_t row_end, const void* Xq,
            int64_t n_tokens, float* Y, int64_t ldy) {
  check_type(wt, "matmul");
  if (row_end <= row_begin || n_tokens <= 0) return;
  const Isa isa = active_isa();
  if (isa >= Isa::Avx512 && detail::matmul_avx512(wt, W, k, row_begin, row_end, Xq, n_tokens, Y, ldy)) return;
  if (isa >= Isa::Avx2 && detail::matmul_avx2(wt, W, k, row_begin, row_end, Xq, n_tokens, Y, ldy)) return;
  detail::matmul_scalar(wt, W, k, row_begin, row_end, Xq, n_tokens, Y, ldy);
}

}  // namespace parley::llm::quant
