#include "llm/tokenizer/pre_tokenizer.hpp"

#include <cstdint>

#include "llm/tokenizer/unicode.hpp"

namespace parley::llm::tokenizer {

PreTokenizer pre_tokenizer_from_name(std::string_view name) {
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") return PreTokenizer::llama3;
  if (name == "qwen2") return PreTokenizer::qwen2;
  if (name == "smollm") return PreTokenizer::smollm;
  return PreTokenizer::gpt2;
}

std::string_view pre_tokenizer_name(PreTokenizer p) {
  switch (p) {
    case PreTokenizer::gpt2:
      return "gpt2";
    case PreTokenizer::llama3:
      return "llama3";
    case PreTokenizer::qwen2:
      return "qwen2";
    case PreTokenizer::smollm:
      return "smollm";
  }
  return "?";
}

namespace {

constexpr uint32_t kOther = 0xFFFFFFFF;  // an ill-formed byte: not a letter, number or space

// The text as code points, with the byte offset of each (offsets has one extra entry: the end).
struct Codepoints {
  std::vector<uint32_t> cps;
  std::vector<size_t> offsets;

  explicit Codepoints(std::string_view text) {
    cps.reserve(text.size());
    offsets.reserve(text.size() + 1);
    size_t i = 0;
    while (i < text.size()) {
      const Utf8Step st = utf8_step(text, i);
      offsets.push_back(i);
      cps.push_back(st.kind == Utf8Step::complete ? st.cp : kOther);
      i += st.len;
    }
    offsets.push_back(text.size());
  }
  size_t size() const { return cps.size(); }
};

// Character classes, computed once per code point.
enum : uint8_t { kLetter = 1, kNumber = 2, kSpace = 4, kNewline = 8 };

std::vector<uint8_t> classify(const std::vector<uint32_t>& cps) {
  std::vector<uint8_t> cls(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t c = cps[i];
    if (c == kOther) continue;
    uint8_t f = 0;
    if (is_letter(c))
      f |= kLetter;
    else if (is_number(c))
      f |= kNumber;
    else if (is_whitespace(c))
      f |= kSpace;
    if (c == '\r' || c == '\n') f |= kNewline;
    cls[i] = f;
  }
  return cls;
}

// Length (in code points) of a contraction 's 't 're 've 'm 'll 'd at i, or 0.
size_t contraction_len(const std::vector<uint32_t>& cp, size_t i, size_t end, bool ignore_case) {
  if (cp[i] != '\'' || i + 1 >= end) return 0;
  auto lower = [&](size_t k) -> uint32_t {
    const uint32_t c = cp[k];
    return (ignore_case && c >= 'A' && c <= 'Z') ? c + 32 : c;
  };
  const uint32_t a = lower(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= end) return 0;
  const uint32_t b = lower(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Whitespace alternatives shared by all regexes, at i where cls[i] is whitespace:
// `\s+(?!\S)|\s+` (gpt2) or `\s*[\r\n]+|\s+(?!\S)|\s+` (llama3 / qwen2). Returns the match end.
size_t match_whitespace(const std::vector<uint8_t>& cls, size_t i, size_t end, bool newline_rule) {
  size_t k = i;
  while (k < end && (cls[k] & kSpace)) ++k;  // [i, k) is the whole whitespace run
  if (newline_rule) {
    size_t last_nl = k;
    for (size_t j = k; j-- > i;) {
      if (cls[j] & kNewline) {
        last_nl = j;
        break;
      }
    }
    if (last_nl != k) return last_nl + 1;  // \s*[\r\n]+ ends after the run's last newline
  }
  if (k == end) return k;        // \s+(?!\S) at the end of the text
  if (k - i >= 2) return k - 1;  // \s+(?!\S): leave the last space to prefix the next word
  return k;                      // \s+
}

// gpt2 over cps[begin, end), appending match boundaries (code point indices) to `cuts`.
void split_gpt2(const std::vector<uint32_t>& cp, const std::vector<uint8_t>& cls, size_t begin, size_t end,
                std::vector<size_t>& cuts) {
  size_t i = begin;
  while (i < end) {
    size_t m = contraction_len(cp, i, end, false);
    if (m) {
      i += m;
    } else {
      const size_t j = i + (cp[i] == ' ' && i + 1 < end ? 1 : 0);
      const uint8_t c = cls[j];
      if (j < end && (c & kLetter)) {
        i = j + 1;
        while (i < end && (cls[i] & kLetter)) ++i;
      } else if (j < end && (c & kNumber)) {
        i = j + 1;
        while (i < end && (cls[i] & kNumber)) ++i;
      } else if (j < end && !(c & (kLetter | kNumber | kSpace))) {
        i = j + 1;
        while (i < end && !(cls[i] & (kLetter | kNumber | kSpace))) ++i;
      } else {
        i = match_whitespace(cls, i, end, false);
      }
    }
    cuts.push_back(i);
  }
}

// llama3 (max_digits 3) and qwen2 (max_digits 1) over cps[begin, end).
void split_llama3(const std::vector<uint32_t>& cp, const std::vector<uint8_t>& cls, size_t begin, size_t end,
                  size_t max_digits, std::vector<size_t>& cuts) {
  size_t i = begin;
  while (i < end) {
    const uint8_t c = cls[i];
    size_t m = contraction_len(cp, i, end, true);
    if (m) {
      i += m;
    } else if ((c & kLetter) || (!(c & (kNewline | kNumber)) && i + 1 < end && (cls[i + 1] & kLetter))) {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      i += (c & kLetter) ? 0 : 1;
      while (i < end && (cls[i] & kLetter)) ++i;
    } else if (c & kNumber) {
      const size_t stop = i + max_digits;
      while (i < end && i < stop && (cls[i] & kNumber)) ++i;
    } else {
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      const size_t j = i + (cp[i] == ' ' && i + 1 < end ? 1 : 0);
      if (!(cls[j] & (kLetter | kNumber | kSpace))) {
        i = j + 1;
        while (i < end && !(cls[i] & (kLetter | kNumber | kSpace))) ++i;
        while (i < end && (cls[i] & kNewline)) ++i;
      } else {
        i = match_whitespace(cls, i, end, true);
      }
    }
    cuts.push_back(i);
  }
}

}  // namespace

std::vector<std::string_view> pre_tokenize(PreTokenizer p, std::string_view text) {
  std::vector<std::string_view> words;
  if (text.empty()) return words;
  const Codepoints cp(text);
  const std::vector<uint8_t> cls = classify(cp.cps);
  const size_t n = cp.size();
  std::vector<size_t> cuts;  // end (code point index) of each word
  cuts.reserve(n / 3 + 4);
  switch (p) {
    case PreTokenizer::gpt2:
      split_gpt2(cp.cps, cls, 0, n, cuts);
      break;
    case PreTokenizer::llama3:
      split_llama3(cp.cps, cls, 0, n, 3, cuts);
      break;
    case PreTokenizer::qwen2:
      split_llama3(cp.cps, cls, 0, n, 1, cuts);
      break;
    case PreTokenizer::smollm: {
      size_t seg = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!(cls[i] & kNumber)) continue;
        if (seg < i) split_gpt2(cp.cps, cls, seg, i, cuts);
        cuts.push_back(i + 1);
        seg = i + 1;
      }
      if (seg < n) split_gpt2(cp.cps, cls, seg, n, cuts);
      break;
    }
  }
  words.reserve(cuts.size());
  size_t prev = 0;
  for (size_t c : cuts) {
    const size_t b = cp.offsets[prev], e = cp.offsets[c];
    words.push_back(text.substr(b, e - b));
    prev = c;
  }
  return words;
}

}  // namespace parley::llm::tokenizer
