// The shapes of real models that `parley gguf synth` reproduces with random weights, and the list of
// tensors (GGUF names and shapes, in llama.cpp's order) of a llama/qwen2-family model of a given shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::llm::gguf {

// Hyperparameters as the model's GGUF metadata states them (llama.cpp key names in comments).
struct ModelShape {
  std::string name;          // "qwen2.5-0.5b"
  std::string architecture;  // general.architecture: "qwen2" or "llama"
  int64_t n_embd;            // {arch}.embedding_length
  int64_t n_layer;           // {arch}.block_count
  int64_t n_head;            // {arch}.attention.head_count
  int64_t n_head_kv;         // {arch}.attention.head_count_kv
  int64_t n_ff;              // {arch}.feed_forward_length
  int64_t n_vocab;           // {arch}.vocab_size, rows of token_embd
  int64_t n_ctx_train;       // {arch}.context_length
  float rope_theta;          // {arch}.rope.freq_base
  float rms_eps;             // {arch}.attention.layer_norm_rms_epsilon
  bool tied_embeddings;      // no output.weight: the output projection reuses token_embd
  bool qkv_bias;             // attn_q/k/v have biases (qwen2)
  // Llama 3 rope scaling, stored as the rope_freqs.weight tensor (factor per rotary pair); 0: none.
  float rope_scale_factor = 0;
  float rope_low_freq_factor = 0;
  float rope_high_freq_factor = 0;
  int64_t rope_original_ctx = 0;

  int64_t head_dim() const { return n_embd / n_head; }
};

// The built-in shapes: qwen2.5-0.5b, tinyllama-1.1b, llama3.2-1b.
const std::vector<ModelShape>& known_shapes();
std::optional<ModelShape> find_shape(std::string_view name);

// What a tensor holds, which decides how synth initializes it.
enum class TensorRole { Embedding, Matrix, Norm, Bias, RopeFreqs };

struct PlannedTensor {
  std::string name;
  std::vector<int64_t> shape;  // GGUF order: shape[0] is the row length
  TensorRole role;
};

// The tensors of a model of this shape with its first n_layers layers, sorted as llama.cpp's
// quantizer writes them (non-layer tensors first, then by layer number, then by name).
std::vector<PlannedTensor> plan_tensors(const ModelShape& shape, int64_t n_layers);

// The llama3 rope frequency factors (rope_freqs.weight): head_dim / 2 values, 1 for high frequencies,
// the scale factor for low ones, interpolated between.
std::vector<float> llama3_rope_factors(const ModelShape& shape);

// Sorts tensor names as llama.cpp's model loader does: by "blk.N." layer (-1 for none), then by name.
bool llama_weight_order(const std::string& a, const std::string& b);

}  // namespace parley::llm::gguf
