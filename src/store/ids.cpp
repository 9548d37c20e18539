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
  // Civil date from days since the epoch (Howard Hinnant's algorithm); no locale, no printf.
  int64_t days = ms >= 0 ? ms / 86'400'000 : (ms - 86'399'999) / 86'400'000;
  int64_t rem = ms - days * 86'400'000;  // [0, 86'400'000)
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
  auto hour = static_cast<unsigned>(rem / 3'600'000), minute = static_cast<unsigned>(rem / 60'000 % 60);
  auto second = static_cast<unsigned>(rem / 1000 % 60), millis = static_cast<unsigned>(rem % 1000);
  if (year < 0 || year > 9999) return "0000-01-01T00:00:00.000Z";  // outside RFC 3339's range
  char buf[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&](int pos, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) buf[pos + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<unsigned>(year), 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, hour, 2);
  put(14, minute, 2);
  put(17, second, 2);
  put(20, millis, 3);
  return std::string(buf, 24);
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
