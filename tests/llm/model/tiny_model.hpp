// Small random models of each architecture and weight type, written with GgufWriter, and a plain
// f32 reference forward pass (dequantized weights, f32 KV, one sequence) to check the engine against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "llm/quant/types.hpp"

namespace parley::llm::testing {

struct TinySpec {
  std::string arch = "llama";  // or "qwen2"
  TensorType type = TensorType::F32;
  int64_t n_embd = 256, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 512, n_vocab = 320;
  uint64_t seed = 1;
};

// Writes a model file to `path`.
void write_tiny_model(const std::string& path, const TinySpec& spec);

// Logits [n_tokens, n_vocab] for every position of `tokens`, by the obvious f32 computation.
std::vector<float> reference_logits(const std::string& path, const std::vector<int32_t>& tokens);

// Relative L2 error of a against the reference b over n values; NaN or inf anywhere is the largest
// error (std::max(worst, NaN) would keep worst).
inline double rel_error(const float* a, const float* b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  if (!std::isfinite(num) || !std::isfinite(den)) return std::numeric_limits<double>::infinity();
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace parley::llm::testing
