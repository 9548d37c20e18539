#include "llm/tokenizer/unicode.hpp"

#include <algorithm>
#include <array>

namespace parley::llm::tokenizer {

Utf8Step utf8_step(const uint8_t* p, size_t n) {
  const uint8_t b0 = p[0];
  if (b0 < 0x80) return {Utf8Step::complete, 1, b0};
  // Length and the allowed range of the second byte (the first continuation byte is restricted for
  // E0 / ED / F0 / F4 so that overlong forms, surrogates and code points > U+10FFFF are ill-formed).
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {Utf8Step::invalid, 1, kReplacementChar};  // continuation byte or C0, C1, F5..FF
  }
  for (size_t i = 1; i < len; ++i) {
    if (i >= n) return {Utf8Step::incomplete, static_cast<uint8_t>(n), 0};
    const uint8_t b = p[i];
    if (b < lo || b > hi) return {Utf8Step::invalid, static_cast<uint8_t>(i), kReplacementChar};
    lo = 0x80, hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return {Utf8Step::complete, static_cast<uint8_t>(len), cp};
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const Utf8Step st = utf8_step(s, i);
    if (st.kind == Utf8Step::complete) {
      out.append(s.data() + i, st.len);
    } else {
      append_utf8(out, kReplacementChar);
    }
    i += st.len;
  }
  return out;
}

namespace {

bool in_ranges(const detail::CodepointRange* r, size_t n, uint32_t cp) {
  const detail::CodepointRange* end = r + n;
  // First range whose last >= cp.
  const auto* it =
      std::lower_bound(r, end, cp, [](const detail::CodepointRange& a, uint32_t v) { return a.last < v; });
  return it != end && it->first <= cp;
}

}  // namespace

bool is_letter(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(detail::kLetterRanges, detail::kLetterRanges_count, cp);
}

bool is_number(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(detail::kNumberRanges, detail::kNumberRanges_count, cp);
}

bool is_whitespace(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

namespace {

struct ByteMap {
  std::array<std::string, 256> utf8;
  std::array<int16_t, 324> back;  // code points 0..323 cover every mapped value

  ByteMap() {
    back.fill(-1);
    auto printable = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; };
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const uint32_t cp = printable(b) ? static_cast<uint32_t>(b) : next++;
      append_utf8(utf8[b], cp);
      back[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

const std::string& byte_to_unicode_utf8(uint8_t b) { return byte_map().utf8[b]; }

int unicode_to_byte(uint32_t cp) {
  const ByteMap& m = byte_map();
  return cp < m.back.size() ? m.back[cp] : -1;
}

}  // namespace parley::llm::tokenizer
