// Unicode helpers for the tokenizers: strict UTF-8 decoding (with "maximal subpart" error handling,
// as the Unicode standard recommends for U+FFFD substitution), the letter / number / whitespace
// classes the BPE pre-tokenizer regexes need (\p{L}, \p{N}, \s), and GPT-2's byte <-> code point map.
//
// Costs: utf8_step is O(1); is_letter / is_number are a binary search over ~650 / ~130 ranges
// (ASCII and Latin-1 short-circuit); the byte map is a table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::llm::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// One step of UTF-8 decoding at the start of [p, p+n), n >= 1.
struct Utf8Step {
  enum Kind : uint8_t {
    complete,    // a whole well-formed character: `cp`, `len` bytes
    invalid,     // `len` (>= 1) bytes form an ill-formed maximal subpart: one U+FFFD replaces them
    incomplete,  // all n bytes are a well-formed prefix of a character that needs more bytes
  };
  Kind kind;
  uint8_t len;
  uint32_t cp;
};
Utf8Step utf8_step(const uint8_t* p, size_t n);
inline Utf8Step utf8_step(std::string_view s, size_t pos) {
  return utf8_step(reinterpret_cast<const uint8_t*>(s.data()) + pos, s.size() - pos);
}

void append_utf8(std::string& out, uint32_t cp);

// Replaces every ill-formed sequence by U+FFFD (an incomplete tail as well). O(n).
std::string sanitize_utf8(std::string_view s);

bool is_letter(uint32_t cp);      // general category L*
bool is_number(uint32_t cp);      // general category N*
bool is_whitespace(uint32_t cp);  // Unicode White_Space property (what \s matches)

// GPT-2 byte-level BPE: each byte is shown as a printable code point (bytes that are printable
// Latin-1 map to themselves, the others to U+0100...). The UTF-8 text of byte b's code point:
const std::string& byte_to_unicode_utf8(uint8_t b);
// The byte a code point stands for, or -1 when it is not one of the 256 mapped code points.
int unicode_to_byte(uint32_t cp);

namespace detail {
struct CodepointRange {
  uint32_t first, last;  // inclusive
};
extern const CodepointRange kLetterRanges[];
extern const size_t kLetterRanges_count;
extern const CodepointRange kNumberRanges[];
extern const size_t kNumberRanges_count;
}  // namespace detail

}  // namespace parley::llm::tokenizer
