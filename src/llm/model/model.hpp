// Model: the weights of a llama/qwen2 model bound to a memory-mapped GGUF file.
// Weights stay in the file's mapping in their stored block format, except the matrices whose type has
// a packed layout (quant/packed.hpp: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) on CPUs where it pays (AVX-512 VNNI):
// those are copied once at load into the packed layout, and the mapped bytes are not read again
// (the token embedding rows still are, a few per step). PARLEY_PACK=0 disables packing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llm/model/hparams.hpp"
#include "llm/quant/packed.hpp"
#include "llm/quant/types.hpp"

namespace parley::llm::gguf {
class GgufFile;
}

namespace parley::llm {

// A weight matrix [rows, cols] (cols = row length, contiguous) or vector [cols] (rows = 1).
struct Weight {
  std::string name;
  TensorType type = TensorType::F32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t bytes = 0;
  // The matrix repacked for the fast kernels at load (quant/packed.hpp), or null: when set, matmuls
  // read only this copy, never `data`.
  std::shared_ptr<const quant::PackedWeight> packed;
  explicit operator bool() const { return data != nullptr; }
};

struct LayerWeights {
  Weight attn_norm;           // [n_embd]
  Weight wq, wk, wv, wo;      // [q_dim, n_embd], [kv_dim, n_embd] x2, [n_embd, q_dim]
  Weight bq, bk, bv;          // qwen2 biases (f32 vectors) or empty
  Weight ffn_norm;            // [n_embd]
  Weight w_gate, w_up;        // [n_ff, n_embd]
  Weight w_down;              // [n_embd, n_ff]
};

class Model {
 public:
  // Opens and validates the file: architecture, every tensor's presence, shape and type.
  // Throws std::runtime_error with a message naming the problem.
  static std::shared_ptr<Model> load(const std::string& path);
  static std::shared_ptr<Model> load(const std::string& path, bool pack);

  const HParams& hparams() const { return hp_; }
  const gguf::GgufFile& file() const { return *file_; }
  const std::string& path() const { return path_; }

  const Weight& token_embd() const { return token_embd_; }  // [n_vocab, n_embd]
  const Weight& output_norm() const { return output_norm_; }
  const Weight& output() const { return output_; }           // [n_vocab, n_embd] (tied: token_embd)
  const std::vector<LayerWeights>& layers() const { return layers_; }
  const std::vector<float>& rope_freq_factors() const { return rope_freq_factors_; }  // empty or [n_rot/2]
  uint64_t weight_bytes() const { return weight_bytes_; }    // all tensors a decode step reads

  ~Model();

 private:
  Model() = default;
  std::string path_;
  std::unique_ptr<gguf::GgufFile> file_;
  HParams hp_;
  Weight token_embd_, output_norm_, output_;
  std::vector<LayerWeights> layers_;
  std::vector<float> rope_freq_factors_;
  uint64_t weight_bytes_ = 0;
};

}  // namespace parley::llm
