// SentencePiece-style encoding of one raw-text fragment.
//
// The text (spaces shown as U+2581, optionally prefixed by one) is split into UTF-8 characters
// (ill-formed bytes stand alone, so a stray lead byte never swallows the next character);
// every adjacent pair whose concatenation is a token goes into a heap ordered by that token's
// score (highest first, leftmost on ties). Popping merges the pair if neither side changed since,
// and offers the merged piece's new neighbour pairs. Remaining pieces are tokens, or characters
// that are not: those fall back to their <0xXX> byte tokens.
// Cost: O(n log n) for n characters; one hash lookup per candidate pair.
#include <algorithm>
#include <queue>

#include "llm/tokenizer/tokenizer_impl.hpp"
#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {

namespace {

struct Piece {
  uint32_t start, len;  // bytes of the escaped text; len 0 once merged into its left neighbour
  int32_t prev, next;   // neighbours, -1 at the ends
};

struct Candidate {
  float score;
  int32_t left, right;  // piece indices
  uint32_t len;         // bytes of left + right when the candidate was made
};

struct Lower {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

void Tokenizer::Impl::encode_spm(std::string_view text, bool space_prefix, std::vector<TokenId>& out) const {
  static constexpr std::string_view kSpace = "\xE2\x96\x81";
  std::string s;
  s.reserve(text.size() + 3 + std::count(text.begin(), text.end(), ' ') * 2);
  if (space_prefix) s += kSpace;
  for (char c : text) {
    if (c == ' ') {
      s += kSpace;
    } else {
      s += c;
    }
  }

  std::vector<Piece> pieces;
  pieces.reserve(s.size());
  for (size_t off = 0; off < s.size();) {
    // Characters; an ill-formed subpart is its own piece (its bytes fall back to byte tokens).
    const size_t len = utf8_step(s, off).len;
    const auto idx = static_cast<int32_t>(pieces.size());
    pieces.push_back({static_cast<uint32_t>(off), static_cast<uint32_t>(len), idx - 1, -1});
    if (idx > 0) pieces[static_cast<size_t>(idx) - 1].next = idx;
    off += len;
  }

  std::vector<Candidate> storage;
  storage.reserve(pieces.size());
  std::priority_queue<Candidate, std::vector<Candidate>, Lower> heap(Lower{}, std::move(storage));
  auto offer = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const Piece& a = pieces[static_cast<size_t>(l)];
    const Piece& b = pieces[static_cast<size_t>(r)];
    const TokenId id = find(std::string_view(s).substr(a.start, a.len + b.len));
    if (id == kNoToken) return;
    const float score = vocab.scores.empty() ? 0.0f : vocab.scores[static_cast<size_t>(id)];
    heap.push({score, l, r, a.len + b.len});
  };
  for (size_t i = 1; i < pieces.size(); ++i) offer(static_cast<int32_t>(i) - 1, static_cast<int32_t>(i));

  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    Piece& a = pieces[static_cast<size_t>(c.left)];
    Piece& b = pieces[static_cast<size_t>(c.right)];
    if (a.len == 0 || b.len == 0 || a.len + b.len != c.len) continue;  // stale
    a.len += b.len;
    b.len = 0;
    a.next = b.next;
    if (b.next >= 0) pieces[static_cast<size_t>(b.next)].prev = c.left;
    offer(a.prev, c.left);
    offer(c.left, a.next);
  }

  // A merged piece is always a token; a piece that is not is a single character: byte fallback.
  for (int32_t i = pieces.empty() ? -1 : 0; i >= 0; i = pieces[static_cast<size_t>(i)].next) {
    const Piece& p = pieces[static_cast<size_t>(i)];
    const std::string_view piece = std::string_view(s).substr(p.start, p.len);
    const TokenId id = find(piece);
    if (id != kNoToken) {
      out.push_back(id);
      continue;
    }
    for (char byte : piece) {
      const TokenId bt = byte_tokens[static_cast<uint8_t>(byte)];
      if (bt != kNoToken) out.push_back(bt);
    }
  }
}

}  // namespace parley::llm::tokenizer
