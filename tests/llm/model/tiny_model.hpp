// Small random models of each architecture and weight type, written with GgufWriter, and a plain
// f32 reference forward pass (dequantized weights, f32 KV, one sequence) to check the engine against.
#pragma once

#include <cstdint>
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

}  // namespace parley::llm::testing
