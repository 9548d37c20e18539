// Hyperparameters of a llama- or qwen2-family model, read from GGUF metadata ("<arch>.*" keys).
#pragma once

#include <cstdint>
#include <string>

namespace parley::llm::gguf {
class GgufFile;
}

namespace parley::llm {

enum class Architecture { llama, qwen2 };

// How RoPE pairs the dimensions of a head: llama's GGUF weights are permuted for adjacent pairs
// (x[2i], x[2i+1]); qwen2 rotates halves (x[i], x[i + head_dim/2]), "neox" style.
enum class RopeStyle { adjacent_pairs, halves };

struct HParams {
  Architecture arch = Architecture::llama;
  std::string arch_name;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;   // n_embd / n_head unless attention.key_length says otherwise
  int64_t n_ff = 0;
  int64_t n_ctx_train = 0;
  int64_t n_rot = 0;      // rope.dimension_count (<= head_dim)
  float rope_theta = 10000.0f;
  float rope_scale_linear = 1.0f;  // positions are divided by this ("linear" rope scaling)
  float rms_eps = 1e-5f;
  RopeStyle rope_style = RopeStyle::adjacent_pairs;

  int64_t q_dim() const { return n_head * head_dim; }
  int64_t kv_dim() const { return n_head_kv * head_dim; }
};

// Reads and validates the hyperparameters; throws std::runtime_error naming what is missing or
// inconsistent (unsupported architecture, heads that do not divide, ...).
HParams read_hparams(const gguf::GgufFile& file);

}  // namespace parley::llm
