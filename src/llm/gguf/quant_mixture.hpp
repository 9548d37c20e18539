// Model file types (llama.cpp's "ftype": q4_k_m, q8_0, ...) and which tensor type each tensor of a
// llama/qwen2 model gets in them. The rules follow llama.cpp's quantizer so that files weigh the same:
//  - only 2-D ".weight" tensors are converted (norms, biases, rope factors stay as they are, F32);
//  - the output projection (token_embd when embeddings are tied) gets Q6_K, or Q8_0 when its row length
//    is not a multiple of that type's block (and stays Q8_0 in q8_0 files);
//  - q4_k_m / q5_k_m: attn_v and ffn_down get Q6_K in the layers where use_more_bits() holds (the first
//    and last eighth of the layers and every third layer between); q4_k_s: attn_v of layers 0-3 and
//    ffn_down of the first eighth get Q5_K;
//  - a K-quant whose row length is not a multiple of 256 falls back to a 32-block type of about the same
//    size: Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (and any type that still does not fit -> F16).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/quant/types.hpp"

namespace parley::llm::gguf {

// Values as stored in general.file_type.
enum class FileType : uint32_t {
  ALL_F32 = 0,
  MOSTLY_F16 = 1,
  MOSTLY_Q4_0 = 2,
  MOSTLY_Q4_1 = 3,
  MOSTLY_Q8_0 = 7,
  MOSTLY_Q5_0 = 8,
  MOSTLY_Q5_1 = 9,
  MOSTLY_Q4_K_S = 14,
  MOSTLY_Q4_K_M = 15,
  MOSTLY_Q5_K_S = 16,
  MOSTLY_Q5_K_M = 17,
  MOSTLY_Q6_K = 18,
  MOSTLY_BF16 = 32,
};

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k_s", "q4_k_m", "q5_k_s",
// "q5_k_m", "q6_k" (case-insensitive; "q4_k" means q4_k_m and "q5_k" q5_k_m, as llama.cpp's tool).
std::optional<FileType> file_type_from_name(std::string_view name);
std::string file_type_name(FileType ft);
std::string file_type_names();  // "f32, f16, ..." for help and error messages
TensorType default_tensor_type(FileType ft);

// Whether a tensor is converted to the file type at all (2-D+ weights except norms).
bool is_quantizable(std::string_view name, size_t n_dims);

struct MixtureContext {
  int64_t n_layer = 0;     // layers of the model (block_count)
  bool has_output = true;  // false when the output projection is token_embd (tied embeddings)
};

// The type of tensor `name` of shape `shape` (GGUF order) in a file of type ft; for tensors that
// is_quantizable() rejects, `current` is returned unchanged.
TensorType choose_tensor_type(FileType ft, std::string_view name, std::span<const int64_t> shape,
                              const MixtureContext& ctx, TensorType current = TensorType::F32);

// llama.cpp's use_more_bits(i_layer, n_layer): which layers get the bigger type in *_k_m files.
bool use_more_bits(int64_t i_layer, int64_t n_layer);

}  // namespace parley::llm::gguf
