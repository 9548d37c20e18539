#include "llm/model/model.hpp"

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <sys/mman.h>
#include <unistd.h>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm {
namespace {

std::string shape_str(int64_t rows, int64_t cols) {
  return "[" + std::to_string(cols) + ", " + std::to_string(rows) + "]";
}

class Binder {
 public:
  explicit Binder(const gguf::GgufFile& f) : f_(f) {}

  // A matrix with `cols` elements per row and `rows` rows (GGUF shape [cols, rows]).
  Weight matrix(const std::string& name, int64_t rows, int64_t cols, bool optional = false) {
    const gguf::TensorInfo* t = f_.find_tensor(name);
    if (!t) {
      if (optional) return {};
      throw std::runtime_error("model lacks tensor " + name);
    }
    int64_t t_cols = t->shape.empty() ? 0 : t->shape[0];
    int64_t t_rows = t->shape.size() > 1 ? t->shape[1] : 1;
    for (size_t i = 2; i < t->shape.size(); ++i) t_rows *= t->shape[i];
    if (t_cols != cols || t_rows != rows)
      throw std::runtime_error("tensor " + name + " has shape " + shape_str(t_rows, t_cols) + ", expected " +
                               shape_str(rows, cols));
    const TypeInfo& ti = type_info(t->type);
    if (!ti.supported)
      throw std::runtime_error("tensor " + name + " has type " + std::string(ti.name) +
                               ", which this engine does not support");
    Weight w{name, t->type, t->data, rows, cols, static_cast<size_t>(t->nbytes)};
    return w;
  }
  Weight vector(const std::string& name, int64_t n, bool optional = false) {
    Weight w = matrix(name, 1, n, optional);
    if (w && w.type != TensorType::F32)
      throw std::runtime_error("tensor " + name + " must be f32 (it is " + std::string(type_info(w.type).name) + ")");
    return w;
  }

 private:
  const gguf::GgufFile& f_;
};

// The mapped pages of a packed matrix are not read again: drop them from this process (the page cache
// keeps or reclaims them), so the packed copy replaces the original in memory instead of doubling it.
// A tied output matrix is the token embedding, whose rows are still looked up: they fault back in.
void release_pages(const void* data, size_t bytes) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// Packs every packable matrix (two threads: packing is ~1 s per GB).
void pack_all(const std::vector<Weight*>& ws) {
  std::vector<Weight*> to_pack;
  for (Weight* w : ws)
    if (*w && quant::packable(w->type)) to_pack.push_back(w);
  auto work = [&](size_t first) {
    for (size_t i = first; i < to_pack.size(); i += 2)
    {
      to_pack[i]->packed = std::make_shared<const quant::PackedWeight>(
          quant::pack_weight(to_pack[i]->type, to_pack[i]->data, to_pack[i]->rows, to_pack[i]->cols));
      release_pages(to_pack[i]->data, to_pack[i]->bytes);
    }
  };
  std::thread second(work, 1);
  work(0);
  second.join();
}

bool pack_by_default() {
  const char* env = std::getenv("PARLEY_PACK");
  return quant::packing_pays() && !(env && std::strcmp(env, "0") == 0);
}

}  // namespace

Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& path) { return load(path, pack_by_default()); }

std::shared_ptr<Model> Model::load(const std::string& path, bool pack) {
  std::shared_ptr<Model> m(new Model());
  m->path_ = path;
  m->file_ = std::make_unique<gguf::GgufFile>(gguf::GgufFile::open(path));
  m->hp_ = read_hparams(*m->file_);
  const HParams& hp = m->hp_;
  Binder b(*m->file_);

  m->token_embd_ = b.matrix("token_embd.weight", hp.n_vocab, hp.n_embd);
  m->output_norm_ = b.vector("output_norm.weight", hp.n_embd);
  m->output_ = b.matrix("output.weight", hp.n_vocab, hp.n_embd, /*optional=*/true);
  if (!m->output_) m->output_ = m->token_embd_;  // tied embeddings (qwen2.5, llama 3.2)

  const bool bias = hp.arch == Architecture::qwen2;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
    lw.wq = b.matrix(p + "attn_q.weight", hp.q_dim(), hp.n_embd);
    lw.wk = b.matrix(p + "attn_k.weight", hp.kv_dim(), hp.n_embd);
    lw.wv = b.matrix(p + "attn_v.weight", hp.kv_dim(), hp.n_embd);
    lw.wo = b.matrix(p + "attn_output.weight", hp.n_embd, hp.q_dim());
    lw.bq = b.vector(p + "attn_q.bias", hp.q_dim(), !bias);
    lw.bk = b.vector(p + "attn_k.bias", hp.kv_dim(), !bias);
    lw.bv = b.vector(p + "attn_v.bias", hp.kv_dim(), !bias);
    lw.ffn_norm = b.vector(p + "ffn_norm.weight", hp.n_embd);
    lw.w_gate = b.matrix(p + "ffn_gate.weight", hp.n_ff, hp.n_embd);
    lw.w_up = b.matrix(p + "ffn_up.weight", hp.n_ff, hp.n_embd);
    lw.w_down = b.matrix(p + "ffn_down.weight", hp.n_embd, hp.n_ff);
    for (const Weight* w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down,
                            &lw.attn_norm, &lw.ffn_norm, &lw.bq, &lw.bk, &lw.bv})
      m->weight_bytes_ += w->bytes;
    m->layers_.push_back(std::move(lw));
  }
  m->weight_bytes_ += m->output_.bytes + m->output_norm_.bytes;

  if (pack) {
    std::vector<Weight*> ws{&m->output_};
    for (LayerWeights& lw : m->layers_)
      for (Weight* w : {&lw.wq, &lw.wk, &lw.wv, &lw.wo, &lw.w_gate, &lw.w_up, &lw.w_down}) ws.push_back(w);
    pack_all(ws);
  }

  // Llama 3.x stores its rope scaling as per-frequency divisors.
  if (Weight f = b.vector("rope_freqs.weight", hp.n_rot / 2, /*optional=*/true)) {
    const float* p = static_cast<const float*>(f.data);
    m->rope_freq_factors_.assign(p, p + hp.n_rot / 2);
  }
  return m;
}

}  // namespace parley::llm
