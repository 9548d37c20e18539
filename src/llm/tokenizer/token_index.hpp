// TokenIndex: token text -> id, an open-addressing hash table over the vocabulary's strings.
// One slot is 8 bytes (a 32-bit tag of the hash + the id) in a power-of-two array at most half
// full, so a lookup usually touches one slot and one token string. FNV-1a is sequential, so the
// text of two adjacent pieces can be looked up without building their concatenation.
// Cost: build O(n); find O(length). The index points into `tokens`, which must outlive it unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "llm/tokenizer/vocab.hpp"

namespace parley::llm::tokenizer {

class TokenIndex {
 public:
  // On duplicate texts the last id wins (as the reference engine).
  void build(const std::vector<std::string>& tokens);
  TokenId find(std::string_view text) const { return find_concat(text, {}); }
  // The id of the text a + b.
  TokenId find_concat(std::string_view a, std::string_view b) const;

 private:
  struct Slot {
    uint32_t tag;
    TokenId id;  // kNoToken: empty
  };
  static uint64_t fnv(std::string_view s, uint64_t h);
  static uint64_t mix(uint64_t h);

  const std::vector<std::string>* tokens_ = nullptr;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
};

}  // namespace parley::llm::tokenizer
