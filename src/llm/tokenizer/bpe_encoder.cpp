// Byte-level BPE encoding of one raw-text fragment.
//
// The fragment is split into words by the pre-tokenizer; in each word every byte starts as the
// token of its mapped code point, and adjacent pairs that have a merge go into a heap ordered by
// merge rank (lowest first, leftmost on ties). Popping applies the merge if neither side changed
// since and offers the new neighbour pairs. With ignore_merges (llama3), a word that is a token as
// a whole is emitted directly.
// Cost: O(w log w) per word of w bytes; pairs are looked up by (left id, right id) in a hash map,
// no strings are built while merging.
#include <algorithm>

#include "llm/tokenizer/tokenizer_impl.hpp"
#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {

namespace {

struct Symbol {
  TokenId id;    // kNoToken if this byte's code point is not a token
  uint32_t len;  // bytes of the word; 0 once merged into its left neighbour
  int32_t prev, next;
};

struct Candidate {
  int32_t rank;
  int32_t left, right;  // symbol indices
  TokenId left_id, right_id, result;
};

struct Later {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::Impl::encode_bpe(std::string_view text, std::vector<TokenId>& out) const {
  std::vector<Symbol> syms;
  std::vector<Candidate> heap;  // binary heap (std::push_heap / pop_heap), reused across words
  std::string mapped;
  for (std::string_view word : pre_tokenize(pre, text)) {
    if (ignore_merges && word.size() > 1) {
      mapped.clear();
      for (char c : word) mapped += byte_to_unicode_utf8(static_cast<uint8_t>(c));
      const TokenId whole = find(mapped);
      if (whole != kNoToken) {
        out.push_back(whole);
        continue;
      }
    }
    syms.clear();
    for (size_t i = 0; i < word.size(); ++i) {
      const auto idx = static_cast<int32_t>(i);
      syms.push_back(
          {bpe_byte_tokens[static_cast<uint8_t>(word[i])], 1, idx - 1, i + 1 < word.size() ? idx + 1 : -1});
    }
    heap.clear();
    auto offer = [&](int32_t l, int32_t r) {
      if (l < 0 || r < 0) return;
      const TokenId a = syms[static_cast<size_t>(l)].id, b = syms[static_cast<size_t>(r)].id;
      if (a == kNoToken || b == kNoToken) return;
      const auto it =
          merges.find((static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b));
      if (it == merges.end()) return;
      heap.push_back({it->second.rank, l, r, a, b, it->second.result});
      std::push_heap(heap.begin(), heap.end(), Later{});
    };
    for (size_t i = 1; i < syms.size(); ++i) offer(static_cast<int32_t>(i) - 1, static_cast<int32_t>(i));

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), Later{});
      const Candidate c = heap.back();
      heap.pop_back();
      Symbol& a = syms[static_cast<size_t>(c.left)];
      Symbol& b = syms[static_cast<size_t>(c.right)];
      if (a.len == 0 || b.len == 0 || a.next != c.right || a.id != c.left_id || b.id != c.right_id) continue;
      a.id = c.result;
      a.len += b.len;
      b.len = 0;
      a.next = b.next;
      if (b.next >= 0) syms[static_cast<size_t>(b.next)].prev = c.left;
      offer(a.prev, c.left);
      offer(c.left, a.next);
    }

    for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[static_cast<size_t>(i)].next) {
      const TokenId id = syms[static_cast<size_t>(i)].id;
      if (id != kNoToken) {
        out.push_back(id);
      } else if (vocab.unk != kNoToken) {
        out.push_back(vocab.unk);  // a byte whose code point is not in the vocabulary
      }
    }
  }
}

}  // namespace parley::llm::tokenizer
