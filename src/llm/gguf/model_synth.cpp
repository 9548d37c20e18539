#include "llm/gguf/model_synth.hpp"

#include <cmath>
#include <stdexcept>

#include "core/thread_pool.hpp"
#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/gguf_writer.hpp"
#include "llm/gguf/tensor_convert.hpp"

namespace parley::llm::gguf {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t hash_name(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Approximately standard normal: Irwin-Hall sum of four 16-bit uniforms, rescaled to unit variance
// (tails end at +-3.46 sigma, which keeps random activations tame). One generator call per value.
inline float normal_from(uint64_t r) {
  const float sum =
      static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
  constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3) / 2^16: variance 4/12 -> 1
  return (sum - 2.0f * 65535.0f) * kScale;
}

void fill_row(TensorRole role, uint64_t seed, int64_t row, float* buf, int64_t n,
              const std::vector<float>& rope) {
  uint64_t state = seed ^ (static_cast<uint64_t>(row) * 0xd1342543de82ef95ull);
  splitmix64(state);
  switch (role) {
    case TensorRole::RopeFreqs:
      for (int64_t i = 0; i < n; ++i) buf[i] = rope[static_cast<size_t>(i)];
      return;
    case TensorRole::Norm:
      for (int64_t i = 0; i < n; ++i) buf[i] = 1.0f + 0.02f * normal_from(splitmix64(state));
      return;
    default:
      for (int64_t i = 0; i < n; ++i) buf[i] = 0.02f * normal_from(splitmix64(state));
      return;
  }
}

void set_shape_metadata(GgufWriter& w, const ModelShape& s, int64_t n_layers, FileType ft) {
  const std::string a = s.architecture;
  w.set_string("general.architecture", a);
  w.set_string("general.name", "parley synthetic " + s.name + " (random weights)");
  w.set_u32("general.file_type", static_cast<uint32_t>(ft));
  if (ft != FileType::ALL_F32 && ft != FileType::MOSTLY_F16 && ft != FileType::MOSTLY_BF16)
    w.set_u32("general.quantization_version", 2);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(s.n_ctx_train));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(n_layers));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_f32(a + ".rope.freq_base", s.rope_theta);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_u32(a + ".rope.dimension_count", static_cast<uint32_t>(s.head_dim()));
  w.set_u32(a + ".attention.key_length", static_cast<uint32_t>(s.head_dim()));
  w.set_u32(a + ".attention.value_length", static_cast<uint32_t>(s.head_dim()));
  w.set_u32(a + ".vocab_size", static_cast<uint32_t>(s.n_vocab));
}

}  // namespace

std::vector<SynthTensor> plan_synth(const ModelShape& shape, FileType ft, int64_t n_layers) {
  if (n_layers < 0 || n_layers > shape.n_layer) n_layers = shape.n_layer;
  MixtureContext ctx{n_layers, !shape.tied_embeddings};
  std::vector<SynthTensor> out;
  for (auto& t : plan_tensors(shape, n_layers)) {
    TensorType type = choose_tensor_type(ft, t.name, t.shape, ctx, TensorType::F32);
    uint64_t nbytes = tensor_nbytes(type, t.shape);
    out.push_back({std::move(t), type, nbytes});
  }
  return out;
}

uint64_t total_bytes(const std::vector<SynthTensor>& plan) {
  uint64_t n = 0;
  for (const auto& t : plan) n += t.nbytes;
  return n;
}

void synthesize_model(const SynthOptions& opt) {
  auto shape = find_shape(opt.shape);
  if (!shape) throw std::invalid_argument("unknown model shape '" + opt.shape + "'");
  synthesize_model(*shape, opt);
}

void synthesize_model(const ModelShape& shape_in, const SynthOptions& opt) {
  const ModelShape* shape = &shape_in;
  const int64_t n_layers = opt.n_layers < 0 || opt.n_layers > shape->n_layer ? shape->n_layer : opt.n_layers;
  if (n_layers == 0) throw std::invalid_argument("a model needs at least one layer");

  GgufFile vocab = GgufFile::open(opt.vocab_path);
  const MetaEntry* tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->is_array())
    throw GgufError(opt.vocab_path + ": no tokenizer.ggml.tokens array (not a vocabulary file)");
  if (static_cast<int64_t>(tokens->count) != shape->n_vocab)
    throw GgufError(opt.vocab_path + ": the vocabulary has " + std::to_string(tokens->count) + " tokens, " +
                    shape->name + " has " + std::to_string(shape->n_vocab));

  GgufWriter w;
  set_shape_metadata(w, *shape, n_layers, opt.type);
  for (const auto& e : vocab.metadata())
    if (e.key.rfind("tokenizer.", 0) == 0) w.copy_entry(e);

  std::vector<SynthTensor> plan = plan_synth(*shape, opt.type, n_layers);
  for (const auto& t : plan) w.add_tensor(t.tensor.name, t.type, t.tensor.shape);
  const std::vector<float> rope =
      shape->rope_scale_factor > 0 ? llama3_rope_factors(*shape) : std::vector<float>{};

  ThreadPool pool(opt.threads);
  w.write(opt.out_path, [&](size_t i, std::span<uint8_t> out) {
    const SynthTensor& t = plan[i];
    const int64_t row_len = t.tensor.shape[0];
    int64_t n_rows = 1;
    for (size_t d = 1; d < t.tensor.shape.size(); ++d) n_rows *= t.tensor.shape[d];
    const uint64_t seed = opt.seed * 0x9e3779b97f4a7c15ull ^ hash_name(t.tensor.name);
    convert_rows(
        pool, t.type, row_len, n_rows,
        [&](int64_t row, float* buf) { fill_row(t.tensor.role, seed, row, buf, row_len, rope); }, out);
  });
}

}  // namespace parley::llm::gguf
