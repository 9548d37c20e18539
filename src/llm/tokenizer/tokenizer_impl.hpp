// Internal state of Tokenizer shared by tokenizer.cpp, spm_encoder.cpp and bpe_encoder.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llm/tokenizer/token_index.hpp"
#include "llm/tokenizer/tokenizer.hpp"

namespace parley::llm::tokenizer {

struct BpeMerge {
  int32_t rank;    // position in the merge list: lower merges first
  TokenId result;  // the token of left + right
};

struct Tokenizer::Impl {
  Vocab vocab;
  PreTokenizer pre = PreTokenizer::gpt2;
  bool ignore_merges = false;  // BPE: a word that is a token is taken whole (llama3)

  // Token text -> id; on duplicate texts the last id wins (as the reference engine). It points into
  // vocab.tokens, which never changes after construction.
  TokenIndex text_to_id;
  // Tokens cut out of text when parse_special is set, longest text first.
  std::vector<TokenId> special_tokens;
  std::vector<TokenId> eog_tokens;  // sorted
  std::vector<bool> is_eog;         // [n_tokens]

  // SPM: <0xXX> token of each byte (unk if missing).
  std::array<TokenId, 256> byte_tokens{};
  // BPE: token of each byte's mapped code point (kNoToken if missing); merges keyed by
  // (left id << 32 | right id).
  std::array<TokenId, 256> bpe_byte_tokens{};
  std::unordered_map<uint64_t, BpeMerge> merges;

  TokenId find(std::string_view text) const { return text_to_id.find(text); }

  // Encoders of one raw-text fragment (no special tokens inside), appending to out.
  void encode_spm(std::string_view text, bool space_prefix, std::vector<TokenId>& out) const;
  void encode_bpe(std::string_view text, std::vector<TokenId>& out) const;
};

}  // namespace parley::llm::tokenizer
