// Helpers shared by the libFuzzer targets and their regression tests: a reader that cuts one fuzz
// input into fields, an independent strict UTF-8 check, and the failure convention.
//
// Every target's properties live in a <target>_check.hpp as `std::string check_...(bytes)`: "" when
// every property holds, else a sentence naming the one that failed. The fuzz target aborts on a
// non-empty answer (libFuzzer then writes the input out); the regression tests in tests/<area>/
// call the same function with the crashing input and expect "".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace parley::fuzz {

// Reads fields off the front of a fuzz input. Out of bytes: numbers are 0, strings are "".
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  explicit FuzzInput(std::string_view s) : p_(reinterpret_cast<const uint8_t*>(s.data())), n_(s.size()) {}

  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }
  uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // Bytes up to the next `sep` (not included; the separator is consumed), or the rest.
  std::string_view until(char sep) {
    std::string_view rest = this->rest_view();
    size_t at = rest.find(sep);
    std::string_view out = rest.substr(0, at);
    size_t used = at == std::string_view::npos ? rest.size() : at + 1;
    p_ += used;
    n_ -= used;
    return out;
  }
  std::string_view rest() {
    std::string_view out = rest_view();
    p_ += n_;
    n_ = 0;
    return out;
  }

 private:
  std::string_view rest_view() const { return {reinterpret_cast<const char*>(p_), n_}; }
  const uint8_t* p_;
  size_t n_;
};

// Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. Written here from
// the RFC's table so the properties do not use the code they check.
inline bool is_strict_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return false;
    if (i + len > n) return false;
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += len;
  }
  return true;
}

// A short printable form of bytes for failure messages ("ab\x01...").
inline std::string preview(std::string_view s, size_t max = 80) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// The fuzz target's reaction to a failed property.
inline void fail_if(const std::string& failure) {
  if (failure.empty()) return;
  std::fprintf(stderr, "fuzz property failed: %s\n", failure.c_str());
  std::abort();
}

}  // namespace parley::fuzz
