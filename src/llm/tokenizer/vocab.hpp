// Vocab: everything a tokenizer needs, as plain data. Built from a GGUF file's tokenizer.* keys by
// load_vocab(), or by hand in tests. The Tokenizer (tokenizer.hpp) is constructed from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace parley::llm::gguf {
class GgufFile;
}

namespace parley::llm::tokenizer {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// tokenizer.ggml.model: "llama" is SentencePiece-style (score-driven merges, byte fallback),
// "gpt2" is byte-level BPE (ranked merges).
enum class VocabModel { spm, bpe };

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,  // <s>, <|im_end|>, ...: rendered only on request, matched in text only with parse_special
  user_defined = 4,  // added tokens that are ordinary text (<tool_call>)
  unused = 5,
  byte = 6,  // SPM byte fallback <0xXX>
};

struct Vocab {
  VocabModel model = VocabModel::spm;
  std::string pre = "default";         // tokenizer.ggml.pre as written (BPE pre-tokenizer name)
  std::vector<std::string> tokens;     // [n_tokens] token text (SPM: U+2581 for space; BPE: byte-mapped)
  std::vector<float> scores;           // [n_tokens] SPM merge scores, or empty
  std::vector<TokenType> token_types;  // [n_tokens], or empty (all normal)
  std::vector<std::string> merges;     // BPE: "left right", best (rank 0) first
  TokenId bos = kNoToken;
  TokenId eos = kNoToken;
  TokenId eot = kNoToken;  // end of turn (<|eot_id|>), if the file names one
  TokenId eom = kNoToken;  // end of message (<|eom_id|>)
  TokenId pad = kNoToken;
  TokenId unk = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;  // SPM: a space is put before the text ("Hi" -> "▁Hi")
  std::string chat_template;     // tokenizer.chat_template (Jinja text), may be empty

  int32_t n_tokens() const { return static_cast<int32_t>(tokens.size()); }
  TokenType type_of(TokenId id) const {
    return token_types.empty() ? TokenType::normal : token_types[static_cast<size_t>(id)];
  }
};

// Reads the tokenizer keys of a GGUF file: tokenizer.ggml.{model, pre, tokens, scores, token_type,
// merges, bos_token_id, eos_token_id, eot_token_id, eom_token_id, unknown_token_id,
// padding_token_id, add_bos_token, add_eos_token, add_space_prefix} and tokenizer.chat_template.
// Defaults where a key is absent follow the reference engine (SPM: bos 1, eos 2, unk 0, add_bos;
// BPE: add_bos only for the llama3 pre-tokenizer). Errors (values): unsupported model type, no
// tokens, arrays whose lengths disagree with the token list, special ids out of range.
Result<Vocab> load_vocab(const gguf::GgufFile& file);

// Checks the invariants load_vocab guarantees (for hand-built vocabularies).
Status validate_vocab(const Vocab& vocab);

}  // namespace parley::llm::tokenizer
