#include "core/config.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace parley {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad_value(const char* name, const std::string& value, const char* expected) {
  throw std::invalid_argument(std::string("environment variable ") + name + "=\"" + value + "\" is not " +
                              expected);
}

}  // namespace

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> first_env(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto v = env(n)) return v;
  return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view text) {
  text = trim(text);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string t = lower(trim(text));
  if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t == "0" || t == "false" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  auto number = parse_double(text.substr(0, i));
  if (!number || *number < 0) return std::nullopt;
  std::string unit = lower(trim(text.substr(i)));
  double ms = 0;
  if (unit.empty() || unit == "s") ms = *number * 1e3;
  else if (unit == "ms") ms = *number;
  else if (unit == "m" || unit == "min") ms = *number * 60e3;
  else if (unit == "h") ms = *number * 3600e3;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms + 0.5));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  auto number = parse_int(text.substr(0, i));
  if (!number || *number < 0) return std::nullopt;
  std::string unit = lower(trim(text.substr(i)));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else return std::nullopt;
  return static_cast<uint64_t>(*number) * mult;
}

std::string env_string(const char* name, std::string_view fallback) {
  if (auto v = env(name)) return *v;
  return std::string(fallback);
}

int64_t env_int(const char* name, int64_t fallback) {
  auto v = env(name);
  if (!v) return fallback;
  auto parsed = parse_int(*v);
  if (!parsed) bad_value(name, *v, "an integer");
  return *parsed;
}

double env_double(const char* name, double fallback) {
  auto v = env(name);
  if (!v) return fallback;
  auto parsed = parse_double(*v);
  if (!parsed) bad_value(name, *v, "a number");
  return *parsed;
}

bool env_bool(const char* name, bool fallback) {
  auto v = env(name);
  if (!v) return fallback;
  auto parsed = parse_bool(*v);
  if (!parsed) bad_value(name, *v, "a boolean (true/false)");
  return *parsed;
}

std::chrono::milliseconds env_duration(const char* name, std::chrono::milliseconds fallback) {
  auto v = env(name);
  if (!v) return fallback;
  auto parsed = parse_duration(*v);
  if (!parsed) bad_value(name, *v, "a duration (e.g. 250ms, 10s, 2m)");
  return *parsed;
}

uint64_t env_size(const char* name, uint64_t fallback) {
  auto v = env(name);
  if (!v) return fallback;
  auto parsed = parse_size(*v);
  if (!parsed) bad_value(name, *v, "a size (e.g. 512, 64KiB, 1MiB)");
  return *parsed;
}

}  // namespace parley
