#include "llm/model/tiny_model.hpp"

#include <cmath>
#include <random>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/gguf/gguf_writer.hpp"
#include "llm/quant/kernels.hpp"

namespace parley::llm::testing {
namespace {

using Matrix = std::vector<float>;  // row-major [rows, cols]

std::vector<uint8_t> encode(TensorType t, const Matrix& m, int64_t rows, int64_t cols) {
  const size_t rb = quant::row_bytes(t, cols);
  std::vector<uint8_t> out(rb * rows);
  for (int64_t r = 0; r < rows; ++r) quant::quantize_row(t, m.data() + r * cols, out.data() + r * rb, cols);
  return out;
}

Matrix load(const gguf::GgufFile& f, const std::string& name, int64_t* rows_out = nullptr) {
  const gguf::TensorInfo* t = f.find_tensor(name);
  if (!t) return {};
  const int64_t cols = t->shape[0], rows = t->n_rows();
  Matrix m(rows * cols);
  const size_t rb = quant::row_bytes(t->type, cols);
  for (int64_t r = 0; r < rows; ++r) quant::dequantize_row(t->type, t->data + r * rb, m.data() + r * cols, cols);
  if (rows_out) *rows_out = rows;
  return m;
}

// y[rows] = W[rows, cols] x[cols]
std::vector<float> mv(const Matrix& w, const std::vector<float>& x) {
  const size_t cols = x.size(), rows = w.size() / cols;
  std::vector<float> y(rows);
  for (size_t r = 0; r < rows; ++r) {
    double s = 0;
    for (size_t c = 0; c < cols; ++c) s += static_cast<double>(w[r * cols + c]) * x[c];
    y[r] = static_cast<float>(s);
  }
  return y;
}

std::vector<float> rms(const std::vector<float>& x, const Matrix& w, float eps) {
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  const double s = 1.0 / std::sqrt(ss / x.size() + eps);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(x[i] * s * w[i]);
  return y;
}

void rope(std::vector<float>& v, int64_t heads, int64_t hd, int pos, double theta, bool neox) {
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < hd / 2; ++i) {
      const double a = pos * std::pow(theta, -2.0 * i / hd);
      const int64_t i0 = h * hd + (neox ? i : 2 * i), i1 = h * hd + (neox ? i + hd / 2 : 2 * i + 1);
      const double x0 = v[i0], x1 = v[i1];
      v[i0] = static_cast<float>(x0 * std::cos(a) - x1 * std::sin(a));
      v[i1] = static_cast<float>(x0 * std::sin(a) + x1 * std::cos(a));
    }
}

}  // namespace

void write_tiny_model(const std::string& path, const TinySpec& s) {
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto random = [&](int64_t rows, int64_t cols, float std) {
    Matrix m(rows * cols);
    for (auto& v : m) v = normal(rng) * std;
    return m;
  };
  gguf::GgufWriter w;
  const std::string a = s.arch + ".";
  const int64_t hd = s.n_embd / s.n_head;
  w.set_string("general.architecture", s.arch);
  w.set_u32(a + "embedding_length", s.n_embd);
  w.set_u32(a + "block_count", s.n_layer);
  w.set_u32(a + "attention.head_count", s.n_head);
  w.set_u32(a + "attention.head_count_kv", s.n_head_kv);
  w.set_u32(a + "feed_forward_length", s.n_ff);
  w.set_u32(a + "context_length", 512);
  w.set_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_f32(a + "rope.freq_base", s.arch == "qwen2" ? 1000000.0f : 10000.0f);
  std::vector<std::string> tokens;
  for (int64_t i = 0; i < s.n_vocab; ++i) tokens.push_back(std::string("t").append(std::to_string(i)));
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string_array("tokenizer.ggml.tokens", tokens);

  auto add = [&](const std::string& name, TensorType t, const Matrix& m, int64_t rows, int64_t cols) {
    std::vector<int64_t> shape = rows == 1 ? std::vector<int64_t>{cols} : std::vector<int64_t>{cols, rows};
    w.add_tensor(name, t, shape, encode(t, m, rows, cols));
  };
  auto ones_ish = [&](int64_t n) {
    Matrix m(n);
    for (auto& v : m) v = 1.0f + 0.1f * normal(rng);
    return m;
  };
  add("token_embd.weight", s.type, random(s.n_vocab, s.n_embd, 1.0f), s.n_vocab, s.n_embd);
  add("output_norm.weight", TensorType::F32, ones_ish(s.n_embd), 1, s.n_embd);
  if (s.arch == "llama") add("output.weight", s.type, random(s.n_vocab, s.n_embd, 0.05f), s.n_vocab, s.n_embd);
  const float ws = 1.0f / std::sqrt(static_cast<float>(s.n_embd));
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_norm.weight", TensorType::F32, ones_ish(s.n_embd), 1, s.n_embd);
    add(p + "attn_q.weight", s.type, random(s.n_head * hd, s.n_embd, ws * 2), s.n_head * hd, s.n_embd);
    add(p + "attn_k.weight", s.type, random(s.n_head_kv * hd, s.n_embd, ws * 2), s.n_head_kv * hd, s.n_embd);
    add(p + "attn_v.weight", s.type, random(s.n_head_kv * hd, s.n_embd, ws), s.n_head_kv * hd, s.n_embd);
    add(p + "attn_output.weight", s.type, random(s.n_embd, s.n_head * hd, ws), s.n_embd, s.n_head * hd);
    if (s.arch == "qwen2") {
      add(p + "attn_q.bias", TensorType::F32, random(1, s.n_head * hd, 0.1f), 1, s.n_head * hd);
      add(p + "attn_k.bias", TensorType::F32, random(1, s.n_head_kv * hd, 0.1f), 1, s.n_head_kv * hd);
      add(p + "attn_v.bias", TensorType::F32, random(1, s.n_head_kv * hd, 0.1f), 1, s.n_head_kv * hd);
    }
    add(p + "ffn_norm.weight", TensorType::F32, ones_ish(s.n_embd), 1, s.n_embd);
    add(p + "ffn_gate.weight", s.type, random(s.n_ff, s.n_embd, ws), s.n_ff, s.n_embd);
    add(p + "ffn_up.weight", s.type, random(s.n_ff, s.n_embd, ws), s.n_ff, s.n_embd);
    add(p + "ffn_down.weight", s.type, random(s.n_embd, s.n_ff, 1.0f / std::sqrt(static_cast<float>(s.n_ff))),
        s.n_embd, s.n_ff);
  }
  w.write(path);
}

std::vector<float> reference_logits(const std::string& path, const std::vector<int32_t>& tokens) {
  auto f = gguf::GgufFile::open(path);
  const std::string arch = *f.get_string("general.architecture"), a = arch + ".";
  const int64_t E = *f.get_uint(a + "embedding_length"), L = *f.get_uint(a + "block_count");
  const int64_t H = *f.get_uint(a + "attention.head_count"), HK = *f.get_uint(a + "attention.head_count_kv");
  const int64_t hd = E / H;
  const float eps = static_cast<float>(*f.get_float(a + "attention.layer_norm_rms_epsilon"));
  const double theta = *f.get_float(a + "rope.freq_base");
  const bool neox = arch == "qwen2";
  int64_t V = 0;
  Matrix emb = load(f, "token_embd.weight", &V);
  Matrix out = load(f, "output.weight");
  if (out.empty()) out = emb;
  Matrix out_norm = load(f, "output_norm.weight");

  const size_t T = tokens.size();
  std::vector<std::vector<std::vector<float>>> kc(L), vc(L);  // [layer][pos][kv_dim]
  std::vector<float> logits;
  for (size_t t = 0; t < T; ++t) {
    std::vector<float> x(emb.begin() + tokens[t] * E, emb.begin() + (tokens[t] + 1) * E);
    for (int64_t l = 0; l < L; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      auto xn = rms(x, load(f, p + "attn_norm.weight"), eps);
      auto q = mv(load(f, p + "attn_q.weight"), xn), k = mv(load(f, p + "attn_k.weight"), xn),
           v = mv(load(f, p + "attn_v.weight"), xn);
      if (arch == "qwen2") {
        auto bq = load(f, p + "attn_q.bias"), bk = load(f, p + "attn_k.bias"), bv = load(f, p + "attn_v.bias");
        for (size_t i = 0; i < q.size(); ++i) q[i] += bq[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += bk[i], v[i] += bv[i];
      }
      rope(q, H, hd, static_cast<int>(t), theta, neox);
      rope(k, HK, hd, static_cast<int>(t), theta, neox);
      kc[l].push_back(k);
      vc[l].push_back(v);
      std::vector<float> att(H * hd, 0.0f);
      for (int64_t h = 0; h < H; ++h) {
        const int64_t kh = h / (H / HK);
        std::vector<double> sc(t + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t i = 0; i < hd; ++i) d += static_cast<double>(q[h * hd + i]) * kc[l][j][kh * hd + i];
          sc[j] = d / std::sqrt(static_cast<double>(hd));
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        for (auto& s : sc) sum += (s = std::exp(s - mx));
        for (size_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < hd; ++i) att[h * hd + i] += static_cast<float>(sc[j] / sum * vc[l][j][kh * hd + i]);
      }
      auto o = mv(load(f, p + "attn_output.weight"), att);
      for (int64_t i = 0; i < E; ++i) x[i] += o[i];
      xn = rms(x, load(f, p + "ffn_norm.weight"), eps);
      auto g = mv(load(f, p + "ffn_gate.weight"), xn), u = mv(load(f, p + "ffn_up.weight"), xn);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
      auto d = mv(load(f, p + "ffn_down.weight"), g);
      for (int64_t i = 0; i < E; ++i) x[i] += d[i];
    }
    auto lg = mv(out, rms(x, out_norm, eps));
    logits.insert(logits.end(), lg.begin(), lg.end());
  }
  return logits;
}

}  // namespace parley::llm::testing
