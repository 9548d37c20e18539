#include "llm/gguf/quant_mixture.hpp"

#include <cctype>
#include <cstdio>

namespace parley::llm::gguf {

namespace {

struct FileTypeEntry {
  FileType ft;
  const char* name;
  TensorType type;
};

constexpr FileTypeEntry kFileTypes[] = {
    {FileType::ALL_F32, "f32", TensorType::F32},
    {FileType::MOSTLY_F16, "f16", TensorType::F16},
    {FileType::MOSTLY_BF16, "bf16", TensorType::BF16},
    {FileType::MOSTLY_Q8_0, "q8_0", TensorType::Q8_0},
    {FileType::MOSTLY_Q4_0, "q4_0", TensorType::Q4_0},
    {FileType::MOSTLY_Q4_1, "q4_1", TensorType::Q4_1},
    {FileType::MOSTLY_Q5_0, "q5_0", TensorType::Q5_0},
    {FileType::MOSTLY_Q5_1, "q5_1", TensorType::Q5_1},
    {FileType::MOSTLY_Q4_K_S, "q4_k_s", TensorType::Q4_K},
    {FileType::MOSTLY_Q4_K_M, "q4_k_m", TensorType::Q4_K},
    {FileType::MOSTLY_Q5_K_S, "q5_k_s", TensorType::Q5_K},
    {FileType::MOSTLY_Q5_K_M, "q5_k_m", TensorType::Q5_K},
    {FileType::MOSTLY_Q6_K, "q6_k", TensorType::Q6_K},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

int64_t layer_of(std::string_view name) {
  int layer = -1;
  std::string n(name);
  if (n.rfind("blk.", 0) == 0 && std::sscanf(n.c_str(), "blk.%d.", &layer) != 1) layer = -1;
  return layer;
}

bool is_k_quant(TensorType t) {
  return t == TensorType::Q2_K || t == TensorType::Q3_K || t == TensorType::Q4_K || t == TensorType::Q5_K ||
         t == TensorType::Q6_K;
}

}  // namespace

std::optional<FileType> file_type_from_name(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "q4_k") lower = "q4_k_m";
  if (lower == "q5_k") lower = "q5_k_m";
  for (const auto& e : kFileTypes)
    if (lower == e.name) return e.ft;
  return std::nullopt;
}

std::string file_type_name(FileType ft) {
  for (const auto& e : kFileTypes)
    if (e.ft == ft) return e.name;
  return "file type " + std::to_string(static_cast<uint32_t>(ft));
}

std::string file_type_names() {
  std::string out;
  for (const auto& e : kFileTypes) out += (out.empty() ? "" : ", ") + std::string(e.name);
  return out;
}

TensorType default_tensor_type(FileType ft) {
  for (const auto& e : kFileTypes)
    if (e.ft == ft) return e.type;
  return TensorType::F32;
}

bool is_quantizable(std::string_view name, size_t n_dims) {
  return ends_with(name, "weight") && n_dims >= 2 && !contains(name, "_norm.weight");
}

bool use_more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

TensorType choose_tensor_type(FileType ft, std::string_view name, std::span<const int64_t> shape,
                              const MixtureContext& ctx, TensorType current) {
  if (!is_quantizable(name, shape.size())) return current;
  TensorType t = default_tensor_type(ft);
  const bool float_file =
      ft == FileType::ALL_F32 || ft == FileType::MOSTLY_F16 || ft == FileType::MOSTLY_BF16;
  const int64_t nx = shape[0];
  if (!float_file) {
    const bool k_m = ft == FileType::MOSTLY_Q4_K_M || ft == FileType::MOSTLY_Q5_K_M;
    const int64_t layer = layer_of(name), n_layer = ctx.n_layer;
    if (name == "output.weight" || (!ctx.has_output && name == "token_embd.weight")) {
      if (nx % type_info(t).block_size != 0)
        t = TensorType::Q8_0;
      else if (t != TensorType::Q8_0)
        t = TensorType::Q6_K;
    } else if (contains(name, "attn_v.weight")) {
      if (k_m && use_more_bits(layer, n_layer))
        t = TensorType::Q6_K;
      else if (ft == FileType::MOSTLY_Q4_K_S && layer < 4)
        t = TensorType::Q5_K;
    } else if (contains(name, "ffn_down")) {
      if (k_m && use_more_bits(layer, n_layer))
        t = TensorType::Q6_K;
      else if (ft == FileType::MOSTLY_Q4_K_S && layer < n_layer / 8)
        t = TensorType::Q5_K;
    }
  }
  // Row lengths that do not fit the type's blocks: K-quants fall back to 32-blocks, anything else to F16.
  if (nx % type_info(t).block_size != 0) {
    if (is_k_quant(t)) {
      t = t == TensorType::Q4_K   ? TensorType::Q5_0
          : t == TensorType::Q5_K ? TensorType::Q5_1
          : t == TensorType::Q6_K ? TensorType::Q8_0
                                  : TensorType::F16;
    }
    if (nx % type_info(t).block_size != 0) t = TensorType::F16;
  }
  return t;
}

}  // namespace parley::llm::gguf
