// The properties the UI form fuzz target checks (ui_forms_fuzz), shared with the regression tests
// (tests/services/fuzz_regressions_test.cpp).
//
// Input: byte 0 picks the check, the rest is the data:
//   0  an arbitrary form body: parse_form gives, for every name, the first value a reference
//      decoder written here finds (split on '&' then the first '=', %XX and '+' decoded, empty names
//      dropped);
//   1  name/value pairs (separated by \0) written with percent_encode: parse_form reads each first
//      value back; percent_encode gives only unreserved characters and %XX, and percent_decode
//      undoes it;
//   2  a Cookie header with other cookies around parley_session: cookie_value finds exactly its value;
//   3  the temperature field: parse_double accepts only a decimal number (or inf / nan), whole.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "fuzz/fuzz_input.hpp"
#include "net/http.hpp"
#include "services/ui/forms.hpp"

namespace parley::fuzz {

inline int ref_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline std::string ref_form_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && ref_hex(s[i + 1]) >= 0 && ref_hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

inline std::vector<std::pair<std::string, std::string>> ref_parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string_view pair = body.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    if (!name.empty())
      out.emplace_back(ref_form_decode(name), eq == std::string_view::npos ? "" : ref_form_decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

inline std::string check_form_matches(const services::ui::Form& form,
                                      const std::vector<std::pair<std::string, std::string>>& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    bool first = true;
    for (size_t j = 0; j < i; ++j) first = first && expected[j].first != expected[i].first;
    if (!first) continue;
    auto got = form.find(expected[i].first);
    if (!got) return "parse_form lost the field '" + preview(expected[i].first) + "'";
    if (*got != expected[i].second)
      return "parse_form gave '" + preview(*got) + "' for field '" + preview(expected[i].first) + "', expected '" +
             preview(expected[i].second) + "'";
  }
  return {};
}

// Decimal float as std::from_chars (general format) reads it: [-]digits[.digits][e[+-]digits], or
// inf / infinity / nan / nan(chars).
inline bool is_decimal_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  std::string rest;
  for (size_t k = i; k < s.size(); ++k) rest.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(s[k]))));
  if (rest == "inf" || rest == "infinity" || rest == "nan") return true;
  if (rest.starts_with("nan(") && rest.back() == ')') return true;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

inline std::string check_ui_forms_input(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  const uint8_t kind = in.byte() % 4;
  if (kind == 0) {
    std::string_view body = in.rest();
    return check_form_matches(services::ui::parse_form(body), ref_parse_form(body));
  }
  if (kind == 1) {
    std::vector<std::pair<std::string, std::string>> pairs;
    std::string body;
    while (!in.empty()) {
      std::string name(in.until('\0'));
      std::string value(in.until('\0'));
      for (const std::string& s : {name, value}) {
        const std::string enc = net::percent_encode(s);
        for (size_t i = 0; i < enc.size(); ++i) {
          char c = enc[i];
          bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' ||
                    (c == '%' && i + 2 < enc.size() && ref_hex(enc[i + 1]) >= 0 && ref_hex(enc[i + 2]) >= 0);
          if (!ok) return "percent_encode left '" + preview(std::string_view(&c, 1)) + "' in " + preview(enc);
        }
        if (net::percent_decode(enc) != s) return "percent_decode(percent_encode(x)) != x for " + preview(s);
        if (net::percent_decode(enc, true) != s) return "percent_decode(.., plus) of an encoded text changed it";
      }
      if (name.empty()) continue;
      if (!body.empty()) body += '&';
      body += net::percent_encode(name) + "=" + net::percent_encode(value);
      pairs.emplace_back(std::move(name), std::move(value));
    }
    return check_form_matches(services::ui::parse_form(body), pairs);
  }
  if (kind == 2) {
    // Around the session cookie: names/values without ';' '=' (so no other part is named parley_session).
    std::string before(in.until('\0')), value(in.until('\0')), after(in.rest());
    for (std::string* s : {&before, &after})
      for (char& c : *s)
        if (c == ';' || c == '=') c = 'x';
    std::string clean;
    for (char c : value)
      if (c != ';' && c != ' ' && c != '"') clean.push_back(c);
    std::string_view first_name = before;
    while (!first_name.empty() && first_name.front() == ' ') first_name.remove_prefix(1);
    if (first_name == "parley_session") return {};  // the first cookie is the one asked for
    const std::string header = before + "=1; parley_session=" + clean + "; " + after + "=2";
    std::string_view got = services::ui::cookie_value(header, "parley_session");
    if (got != clean) return "cookie_value gave '" + preview(got) + "' for '" + preview(clean) + "' in " + preview(header);
    return {};
  }
  std::string_view text = in.rest();
  auto v = parse_double(text);
  std::string_view trimmed = text;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) trimmed.remove_suffix(1);
  if (v && !is_decimal_number(trimmed)) return "parse_double accepted '" + preview(text) + "'";
  return {};
}

}  // namespace parley::fuzz
