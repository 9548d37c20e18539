// Synthetic models: random weights in the exact shape, metadata and tensor-type mixture of a real
// model (model_shapes.hpp, quant_mixture.hpp), with the tokenizer copied from a vocabulary GGUF.
// Tests and benchmarks make their large models with this; no model file is committed.
//
// Weights: matrices and embeddings ~ N(0, 0.02^2), norm gains 1 +- 0.02, biases ~ N(0, 0.02^2),
// llama3 rope factors computed from the shape. Deterministic for a seed (independent of threads).
// Cost: one pass of quantize_row over every weight (K-quants dominate), on all threads; memory: the
// largest tensor in its stored type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llm/gguf/model_shapes.hpp"
#include "llm/gguf/quant_mixture.hpp"

namespace parley::llm::gguf {

struct SynthTensor {
  PlannedTensor tensor;
  TensorType type;
  uint64_t nbytes;
};

// The tensors of a synthetic model and their types (n_layers < 0: all layers of the shape).
std::vector<SynthTensor> plan_synth(const ModelShape& shape, FileType ft, int64_t n_layers = -1);
uint64_t total_bytes(const std::vector<SynthTensor>& plan);

struct SynthOptions {
  std::string shape;  // a known_shapes() name
  FileType type = FileType::MOSTLY_F16;
  std::string vocab_path;  // GGUF with tokenizer.* metadata; its token count must equal the shape's vocab
  std::string out_path;
  uint64_t seed = 1;
  int64_t n_layers = -1;  // fewer layers than the real model (tests); < 0: all
  int threads = 0;        // 0: physical cores
};

// Writes the model; throws GgufError (bad vocabulary file, I/O) or std::invalid_argument (unknown shape).
void synthesize_model(const SynthOptions& opt);
// The same for a shape that is not built in (opt.shape is ignored); tests use small ones.
void synthesize_model(const ModelShape& shape, const SynthOptions& opt);

}  // namespace parley::llm::gguf
