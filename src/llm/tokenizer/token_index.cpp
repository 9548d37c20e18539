#include "llm/tokenizer/token_index.hpp"

#include <cstring>

namespace parley::llm::tokenizer {

namespace {
constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;
}  // namespace

uint64_t TokenIndex::fnv(std::string_view s, uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

uint64_t TokenIndex::mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

void TokenIndex::build(const std::vector<std::string>& tokens) {
  tokens_ = &tokens;
  size_t cap = 16;
  while (cap < tokens.size() * 2) cap *= 2;
  slots_.assign(cap, Slot{0, kNoToken});
  mask_ = cap - 1;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const uint64_t h = mix(fnv(tokens[i], kFnvOffset));
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
      Slot& s = slots_[pos];
      if (s.id == kNoToken) {
        s = {tag, static_cast<TokenId>(i)};
        break;
      }
      if (s.tag == tag && tokens[static_cast<size_t>(s.id)] == tokens[i]) {
        s.id = static_cast<TokenId>(i);  // duplicate text: the last id wins
        break;
      }
    }
  }
}

TokenId TokenIndex::find_concat(std::string_view a, std::string_view b) const {
  if (slots_.empty()) return kNoToken;
  const uint64_t h = mix(fnv(b, fnv(a, kFnvOffset)));
  const auto tag = static_cast<uint32_t>(h >> 32);
  for (uint64_t pos = h & mask_;; pos = (pos + 1) & mask_) {
    const Slot& s = slots_[pos];
    if (s.id == kNoToken) return kNoToken;
    if (s.tag != tag) continue;
    const std::string& t = (*tokens_)[static_cast<size_t>(s.id)];
    if (t.size() == a.size() + b.size() && (a.empty() || std::memcmp(t.data(), a.data(), a.size()) == 0) &&
        (b.empty() || std::memcmp(t.data() + a.size(), b.data(), b.size()) == 0)) {
      return s.id;
    }
  }
}

}  // namespace parley::llm::tokenizer
