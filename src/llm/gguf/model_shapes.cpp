#include "llm/gguf/model_shapes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace parley::llm::gguf {

const std::vector<ModelShape>& known_shapes() {
  // Values from the models' published configs (config.json) as llama.cpp converts them.
  static const std::vector<ModelShape> shapes = [] {
    std::vector<ModelShape> v;
    // Qwen/Qwen2.5-0.5B(-Instruct): 896 wide, 24 layers, 14 heads / 2 KV heads of 64, SwiGLU 4864,
    // vocab 151936, theta 1e6, eps 1e-6, tied embeddings, biases on Q/K/V.
    v.push_back({"qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1e6f, 1e-6f, true, true});
    // TinyLlama/TinyLlama-1.1B-Chat-v1.0: 2048 wide, 22 layers, 32 heads / 4 KV heads, 5632, vocab 32000.
    v.push_back(
        {"tinyllama-1.1b", "llama", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.0f, 1e-5f, false, false});
    // meta-llama/Llama-3.2-1B(-Instruct): 2048 wide, 16 layers, 32 heads / 8 KV heads, 8192, vocab 128256,
    // theta 500000, tied embeddings, llama3 rope scaling (factor 32, low 1, high 4, original 8192).
    ModelShape l{"llama3.2-1b", "llama", 2048,      16,    32,   8,    8192,
                 128256,        131072,  500000.0f, 1e-5f, true, false};
    l.rope_scale_factor = 32.0f;
    l.rope_low_freq_factor = 1.0f;
    l.rope_high_freq_factor = 4.0f;
    l.rope_original_ctx = 8192;
    v.push_back(l);
    return v;
  }();
  return shapes;
}

std::optional<ModelShape> find_shape(std::string_view name) {
  for (const auto& s : known_shapes())
    if (s.name == name) return s;
  return std::nullopt;
}

namespace {
int layer_of(const std::string& name) {
  int layer = -1;
  if (name.rfind("blk.", 0) == 0 && std::sscanf(name.c_str(), "blk.%d.", &layer) != 1) layer = -1;
  return layer;
}
}  // namespace

bool llama_weight_order(const std::string& a, const std::string& b) {
  int la = layer_of(a), lb = layer_of(b);
  if (la != lb) return la < lb;
  return a < b;
}

std::vector<PlannedTensor> plan_tensors(const ModelShape& s, int64_t n_layers) {
  const int64_t q_dim = s.n_head * s.head_dim(), kv_dim = s.n_head_kv * s.head_dim();
  std::vector<PlannedTensor> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, TensorRole::Embedding});
  t.push_back({"output_norm.weight", {s.n_embd}, TensorRole::Norm});
  if (!s.tied_embeddings) t.push_back({"output.weight", {s.n_embd, s.n_vocab}, TensorRole::Matrix});
  if (s.rope_scale_factor > 0) t.push_back({"rope_freqs.weight", {s.head_dim() / 2}, TensorRole::RopeFreqs});
  for (int64_t i = 0; i < n_layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    t.push_back({p + "attn_norm.weight", {s.n_embd}, TensorRole::Norm});
    t.push_back({p + "attn_q.weight", {s.n_embd, q_dim}, TensorRole::Matrix});
    t.push_back({p + "attn_k.weight", {s.n_embd, kv_dim}, TensorRole::Matrix});
    t.push_back({p + "attn_v.weight", {s.n_embd, kv_dim}, TensorRole::Matrix});
    if (s.qkv_bias) {
      t.push_back({p + "attn_q.bias", {q_dim}, TensorRole::Bias});
      t.push_back({p + "attn_k.bias", {kv_dim}, TensorRole::Bias});
      t.push_back({p + "attn_v.bias", {kv_dim}, TensorRole::Bias});
    }
    t.push_back({p + "attn_output.weight", {q_dim, s.n_embd}, TensorRole::Matrix});
    t.push_back({p + "ffn_norm.weight", {s.n_embd}, TensorRole::Norm});
    t.push_back({p + "ffn_gate.weight", {s.n_embd, s.n_ff}, TensorRole::Matrix});
    t.push_back({p + "ffn_up.weight", {s.n_embd, s.n_ff}, TensorRole::Matrix});
    t.push_back({p + "ffn_down.weight", {s.n_ff, s.n_embd}, TensorRole::Matrix});
  }
  std::stable_sort(t.begin(), t.end(), [](const PlannedTensor& a, const PlannedTensor& b) {
    return llama_weight_order(a.name, b.name);
  });
  return t;
}

std::vector<float> llama3_rope_factors(const ModelShape& s) {
  const int64_t dim = s.head_dim();
  const double pi = 3.14159265358979323846;
  const double low_wavelen = s.rope_original_ctx / s.rope_low_freq_factor;
  const double high_wavelen = s.rope_original_ctx / s.rope_high_freq_factor;
  std::vector<float> f;
  for (int64_t i = 0; i < dim; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(s.rope_theta), static_cast<double>(i) / dim);
    const double wavelen = 2 * pi / freq;
    if (wavelen < high_wavelen) {
      f.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      f.push_back(s.rope_scale_factor);
    } else {
      const double smooth = (s.rope_original_ctx / wavelen - s.rope_low_freq_factor) /
                            (s.rope_high_freq_factor - s.rope_low_freq_factor);
      f.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.rope_scale_factor + smooth)));
    }
  }
  return f;
}

}  // namespace parley::llm::gguf
