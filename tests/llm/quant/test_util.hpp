// Shared helpers for the quant kernel tests: deterministic data, RMS, tensor type lists.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "llm/quant/blocks.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::quant::test {

// Restores the ISA that was active when it was made.
class IsaGuard {
 public:
  IsaGuard() : saved_(active_isa()) {}
  ~IsaGuard() { set_isa(saved_); }

 private:
  Isa saved_;
};

// The types with a packed layout (packed.hpp); K-quants need k in multiples of 256.
inline const std::vector<TensorType>& packed_types() {
  static const std::vector<TensorType> t = {TensorType::Q8_0, TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0,
                                            TensorType::Q5_1, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
  return t;
}
inline bool is_kquant(TensorType t) {
  return t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K;
}

// sum |w x| of one output: k dequantized weights of a row and the Q8A blocks of one token (as quantized).
inline double abs_dot(const float* w, const BlockQ8A* x, int64_t k) {
  double m = 0;
  for (int64_t e = 0; e < k; ++e) m += std::fabs(static_cast<double>(w[e]) * x[e / 32].d * x[e / 32].qs[e % 32]);
  return m;
}

inline const std::vector<TensorType>& all_types() {
  static const std::vector<TensorType> t = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q8_0,
                                            TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                                            TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};
  return t;
}

// Normal(0,1) values with a few larger outliers and a per-32 varying scale, like real weights.
inline std::vector<float> random_data(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  float scale = 1;
  for (int64_t i = 0; i < n; ++i) {
    if (i % 32 == 0) scale = 0.02f + std::fabs(nd(rng)) * 0.05f;
    v[static_cast<size_t>(i)] = nd(rng) * scale * ((rng() % 97) == 0 ? 4.0f : 1.0f);
  }
  return v;
}

inline double rms(const float* v, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(v[i]) * v[i];
  return std::sqrt(s / static_cast<double>(n));
}

inline std::vector<uint8_t> quantize_matrix(TensorType t, const std::vector<float>& w, int64_t rows, int64_t k) {
  // Exact size (no padding): AddressSanitizer builds catch any read past the last row.
  std::vector<uint8_t> q(row_bytes(t, k) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) quantize_row(t, w.data() + r * k, q.data() + row_bytes(t, k) * r, k);
  return q;
}

}  // namespace parley::llm::quant::test
