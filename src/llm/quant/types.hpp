// Tensor element types as numbered in GGUF files, with their block geometry.
// A row of n elements of a block type is n / block_size blocks of type_size bytes each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::llm {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct TypeInfo {
  TensorType type;
  std::string_view name;  // "q4_k", as llama.cpp's tools print it, lower case
  int64_t block_size;     // elements per block
  size_t type_size;       // bytes per block
  bool supported;         // this engine can compute with it
};

// nullptr for a type number this engine does not know.
const TypeInfo* type_info(uint32_t raw_type);
inline const TypeInfo& type_info(TensorType t) { return *type_info(static_cast<uint32_t>(t)); }
std::optional<TensorType> type_from_name(std::string_view name);  // "q8_0" -> Q8_0 (case-insensitive)

}  // namespace parley::llm
