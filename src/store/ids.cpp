#include "store/ids.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "core/ids.hpp"

namespace parley::store {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

}  // namespace

std::string new_chat_id() { return "chat_" + random_id(); }
std::string new_message_id() { return "msg_" + random_id(); }

TimeMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_time(TimeMs ms) {
  std::time_t seconds = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int millis = static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::optional<TimeMs> parse_time(std::string_view t) {
  int year, month, day, hour, minute, second, millis = 0;
  if (!parse_digits(t, 0, 4, year) || t.size() < 20 || t[4] != '-' || !parse_digits(t, 5, 2, month) ||
      t[7] != '-' || !parse_digits(t, 8, 2, day) || (t[10] != 'T' && t[10] != 't') ||
      !parse_digits(t, 11, 2, hour) || t[13] != ':' || !parse_digits(t, 14, 2, minute) || t[16] != ':' ||
      !parse_digits(t, 17, 2, second))
    return std::nullopt;
  size_t pos = 19;
  if (t[pos] == '.') {
    size_t start = ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
    std::string frac(t.substr(start, std::min<size_t>(pos - start, 3)));
    while (frac.size() < 3) frac.push_back('0');
    millis = std::stoi(frac);
  }
  if (pos + 1 != t.size() || (t[pos] != 'Z' && t[pos] != 'z')) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60000 + static_cast<int64_t>(second) * 1000 + millis;
}

}  // namespace parley::store
