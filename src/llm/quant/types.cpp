#include "llm/quant/types.hpp"

#include <array>
#include <cctype>

namespace parley::llm {
namespace {
constexpr std::array kTypes = {
    TypeInfo{TensorType::F32, "f32", 1, 4, true},
    TypeInfo{TensorType::F16, "f16", 1, 2, true},
    TypeInfo{TensorType::Q4_0, "q4_0", 32, 18, true},
    TypeInfo{TensorType::Q4_1, "q4_1", 32, 20, true},
    TypeInfo{TensorType::Q5_0, "q5_0", 32, 22, true},
    TypeInfo{TensorType::Q5_1, "q5_1", 32, 24, true},
    TypeInfo{TensorType::Q8_0, "q8_0", 32, 34, true},
    TypeInfo{TensorType::Q8_1, "q8_1", 32, 36, false},
    TypeInfo{TensorType::Q2_K, "q2_k", 256, 84, false},
    TypeInfo{TensorType::Q3_K, "q3_k", 256, 110, false},
    TypeInfo{TensorType::Q4_K, "q4_k", 256, 144, true},
    TypeInfo{TensorType::Q5_K, "q5_k", 256, 176, true},
    TypeInfo{TensorType::Q6_K, "q6_k", 256, 210, true},
    TypeInfo{TensorType::Q8_K, "q8_k", 256, 292, false},
    TypeInfo{TensorType::BF16, "bf16", 1, 2, true},
};
}  // namespace

const TypeInfo* type_info(uint32_t raw_type) {
  for (const auto& t : kTypes)
    if (static_cast<uint32_t>(t.type) == raw_type) return &t;
  return nullptr;
}

std::optional<TensorType> type_from_name(std::string_view name) {
  for (const auto& t : kTypes) {
    if (t.name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size(); ++i)
      eq = eq && std::tolower(static_cast<unsigned char>(name[i])) == t.name[i];
    if (eq) return t.type;
  }
  return std::nullopt;
}

}  // namespace parley::llm
