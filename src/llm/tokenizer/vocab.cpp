#include "llm/tokenizer/vocab.hpp"

#include <cstdint>
#include <string>

#include "llm/gguf/gguf_reader.hpp"
#include "llm/tokenizer/pre_tokenizer.hpp"

namespace parley::llm::tokenizer {

namespace {

Error vocab_error(const std::string& what) {
  return make_error(ErrorCode::invalid_argument, "tokenizer: " + what);
}

}  // namespace

Status validate_vocab(const Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) return vocab_error("the vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) return vocab_error("too many tokens");
  if (!v.scores.empty() && v.scores.size() != n) {
    return vocab_error("scores has " + std::to_string(v.scores.size()) + " entries for " + std::to_string(n) +
                       " tokens");
  }
  if (!v.token_types.empty() && v.token_types.size() != n) {
    return vocab_error("token_type has " + std::to_string(v.token_types.size()) + " entries for " +
                       std::to_string(n) + " tokens");
  }
  for (TokenType t : v.token_types) {
    if (static_cast<int32_t>(t) < 0 || static_cast<int32_t>(t) > 6) {
      return vocab_error("unknown token type " + std::to_string(static_cast<int32_t>(t)));
    }
  }
  const std::pair<const char*, TokenId> ids[] = {{"bos", v.bos}, {"eos", v.eos}, {"eot", v.eot},
                                                 {"eom", v.eom}, {"pad", v.pad}, {"unk", v.unk}};
  for (const auto& [name, id] : ids) {
    if (id != kNoToken && (id < 0 || id >= static_cast<TokenId>(n))) {
      return vocab_error(std::string(name) + " token id " + std::to_string(id) + " is out of range (" +
                         std::to_string(n) + " tokens)");
    }
  }
  return ok_status();
}

Result<Vocab> load_vocab(const gguf::GgufFile& f) {
  Vocab v;
  const std::string model = f.get_string("tokenizer.ggml.model").value_or("");
  if (model == "llama") {
    v.model = VocabModel::spm;
  } else if (model == "gpt2") {
    v.model = VocabModel::bpe;
  } else if (model.empty()) {
    return vocab_error("the file has no tokenizer (tokenizer.ggml.model is missing)");
  } else {
    return vocab_error("unsupported tokenizer model '" + model + "' (supported: llama, gpt2)");
  }
  v.pre = f.get_string("tokenizer.ggml.pre").value_or("default");
  v.tokens = f.get_string_array("tokenizer.ggml.tokens");
  v.scores = f.get_float_array("tokenizer.ggml.scores");
  for (int64_t t : f.get_int_array("tokenizer.ggml.token_type")) {
    v.token_types.push_back(static_cast<TokenType>(t < 0 || t > 6 ? -1 : t));
  }
  v.merges = f.get_string_array("tokenizer.ggml.merges");

  if (v.model == VocabModel::spm) {
    v.bos = 1, v.eos = 2, v.unk = 0;
    v.add_bos = true;
    v.add_space_prefix = true;
  } else {
    v.add_bos = pre_tokenizer_from_name(v.pre) == PreTokenizer::llama3;
    v.add_space_prefix = false;
  }
  // An id outside the vocabulary (stories260K stores 4294967295 for "none") means no such token,
  // as in the reference engine, rather than an unusable file.
  auto read_id = [&](const char* key, TokenId& out) {
    if (auto x = f.get_int(key)) out = (*x < 0 || *x >= v.n_tokens()) ? kNoToken : static_cast<TokenId>(*x);
  };
  read_id("tokenizer.ggml.bos_token_id", v.bos);
  read_id("tokenizer.ggml.eos_token_id", v.eos);
  read_id("tokenizer.ggml.eot_token_id", v.eot);
  read_id("tokenizer.ggml.eom_token_id", v.eom);
  read_id("tokenizer.ggml.unknown_token_id", v.unk);
  read_id("tokenizer.ggml.padding_token_id", v.pad);
  if (auto b = f.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
  if (auto b = f.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;
  v.chat_template = f.get_string("tokenizer.chat_template").value_or("");

  if (Status s = validate_vocab(v); !s) return s.error();
  return v;
}

}  // namespace parley::llm::tokenizer
