#include "llm/model/hparams.hpp"

#include <stdexcept>
#include <string>

#include "llm/gguf/gguf_reader.hpp"

namespace parley::llm {
namespace {

int64_t require_int(const gguf::GgufFile& f, const std::string& key) {
  auto v = f.get_uint(key);
  if (!v) throw std::runtime_error("model metadata lacks " + key);
  if (*v == 0 || *v > (1ull << 31)) throw std::runtime_error("model metadata " + key + " is out of range");
  return static_cast<int64_t>(*v);
}

}  // namespace

HParams read_hparams(const gguf::GgufFile& f) {
  HParams hp;
  auto arch = f.get_string("general.architecture");
  if (!arch) throw std::runtime_error("model metadata lacks general.architecture");
  hp.arch_name = *arch;
  if (*arch == "llama") {
    hp.arch = Architecture::llama;
    hp.rope_style = RopeStyle::adjacent_pairs;
  } else if (*arch == "qwen2") {
    hp.arch = Architecture::qwen2;
    hp.rope_style = RopeStyle::halves;
  } else {
    throw std::runtime_error("unsupported model architecture '" + *arch + "' (supported: llama, qwen2)");
  }
  const std::string a = *arch + ".";
  hp.n_embd = require_int(f, a + "embedding_length");
  hp.n_layer = require_int(f, a + "block_count");
  hp.n_head = require_int(f, a + "attention.head_count");
  hp.n_head_kv = f.get_uint(a + "attention.head_count_kv").value_or(hp.n_head);
  hp.n_ff = require_int(f, a + "feed_forward_length");
  hp.n_ctx_train = f.get_uint(a + "context_length").value_or(2048);
  hp.head_dim = f.get_uint(a + "attention.key_length").value_or(hp.n_embd / hp.n_head);
  hp.n_rot = f.get_uint(a + "rope.dimension_count").value_or(hp.head_dim);
  hp.rope_theta = static_cast<float>(f.get_float(a + "rope.freq_base").value_or(10000.0));
  hp.rms_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
  if (auto type = f.get_string(a + "rope.scaling.type"); type && *type == "linear") {
    hp.rope_scale_linear = static_cast<float>(f.get_float(a + "rope.scaling.factor").value_or(1.0));
    if (!(hp.rope_scale_linear > 0)) hp.rope_scale_linear = 1.0f;
  }
  // Vocabulary size: the token list is authoritative; vocab_size is optional metadata.
  const gguf::MetaEntry* tokens = f.find("tokenizer.ggml.tokens");
  hp.n_vocab = tokens && tokens->is_array() ? static_cast<int64_t>(tokens->count) : 0;
  if (hp.n_vocab == 0) hp.n_vocab = f.get_uint(a + "vocab_size").value_or(0);

  if (hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0)
    throw std::runtime_error("attention.head_count (" + std::to_string(hp.n_head) +
                             ") is not a multiple of head_count_kv (" + std::to_string(hp.n_head_kv) + ")");
  if (hp.head_dim <= 0 || hp.head_dim % 2 != 0 || hp.head_dim > 1024)
    throw std::runtime_error("unsupported head dimension " + std::to_string(hp.head_dim));
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0)
    throw std::runtime_error("unsupported rope.dimension_count " + std::to_string(hp.n_rot));
  if (hp.n_vocab <= 0) throw std::runtime_error("model has no vocabulary (tokenizer.ggml.tokens)");
  return hp;
}

}  // namespace parley::llm
