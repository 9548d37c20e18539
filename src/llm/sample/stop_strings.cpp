#include "llm/sample/stop_strings.hpp"

#include <algorithm>

namespace parley::llm::sample {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (s.empty()) continue;
    max_len_ = std::max(max_len_, s.size());
    stops_.push_back(std::move(s));
  }
}

StopStringMatcher::Output StopStringMatcher::push(std::string_view piece) {
  Output out;
  if (stopped_) return out;
  held_.append(piece);
  // The earliest stop string (the longest one on a tie).
  size_t best = std::string::npos;
  const std::string* which = nullptr;
  for (const std::string& s : stops_) {
    const size_t pos = held_.find(s);
    if (pos != std::string::npos && (pos < best || (pos == best && s.size() > which->size()))) {
      best = pos;
      which = &s;
    }
  }
  if (which) {
    out.text = held_.substr(0, best);
    out.stopped = true;
    out.stop = *which;
    stopped_ = true;
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t hold = 0;
  for (size_t len = std::min(held_.size(), max_len_ - 1); len > 0 && hold == 0; --len) {
    const std::string_view tail = std::string_view(held_).substr(held_.size() - len);
    for (const std::string& s : stops_) {
      if (s.size() > len && std::string_view(s).substr(0, len) == tail) {
        hold = len;
        break;
      }
    }
  }
  out.text = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopStringMatcher::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace parley::llm::sample
