// Tokenizer: text <-> token ids for SentencePiece-style ("llama") and byte-level BPE ("gpt2")
// vocabularies, built from a Vocab (vocab.hpp).
//
// encode() follows the reference engine token for token:
//   - special tokens (control, user-defined, unknown types) are cut out of the text only when
//     parse_special is true (chat prompts); otherwise their text is tokenized as ordinary text;
//   - SPM: spaces become U+2581, a space is put before each text fragment that starts the input or
//     follows a special token (add_space_prefix), adjacent pieces merge best score first, and
//     characters that are not tokens fall back to <0xXX> byte tokens;
//   - BPE: the text is split by the vocabulary's pre-tokenizer (pre_tokenizer.hpp), each word's
//     bytes are mapped to printable code points and merged lowest rank first (llama3 first takes a
//     whole word when it is a token).
//   - add_special adds BOS (and EOS) as the vocabulary asks (add_bos / add_eos).
// Cost: BPE merges are a hash map of (left id, right id) -> (rank, merged id) and each word is
// merged with a heap: O(w log w) for a word of w bytes, so O(n log n) worst case for a text of n
// bytes. SPM is the same with scores. Thread safety: all const methods may be called concurrently.
// Copies are cheap (shared immutable state).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer/pre_tokenizer.hpp"
#include "llm/tokenizer/vocab.hpp"

namespace parley::llm::tokenizer {

class Tokenizer {
 public:
  // Throws std::invalid_argument when validate_vocab(vocab) fails.
  explicit Tokenizer(Vocab vocab);

  const Vocab& vocab() const;
  int32_t n_tokens() const;
  PreTokenizer pre_tokenizer() const;  // BPE only

  std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const;
  // Appends to `out`.
  void encode(std::string_view text, bool add_special, bool parse_special, std::vector<TokenId>& out) const;

  // The bytes a token stands for (not necessarily whole UTF-8 characters: byte tokens and BPE
  // pieces can split a character). Control / unknown / unused tokens give "" unless render_special
  // (then their text). Ids out of range give "".
  std::string token_to_piece(TokenId id, bool render_special = false) const;
  // All pieces concatenated, ill-formed UTF-8 replaced by U+FFFD.
  std::string decode(std::span<const TokenId> ids, bool render_special = false) const;

  // The id whose text is exactly `text` (the token text as stored: U+2581 / byte-mapped forms).
  std::optional<TokenId> find_token(std::string_view text) const;
  const std::string& token_text(TokenId id) const;
  TokenType token_type(TokenId id) const;

  TokenId bos() const;
  TokenId eos() const;
  // End of generation: eos, eot, eom and the control tokens that end a turn in the usual chat
  // formats (<|im_end|>, <|eot_id|>, <|end|>, <end_of_turn>, <|endoftext|>, ...).
  bool is_end_of_generation(TokenId id) const;
  const std::vector<TokenId>& end_of_generation_tokens() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace parley::llm::tokenizer
