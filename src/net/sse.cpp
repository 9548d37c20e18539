#include "net/sse.hpp"

#include "core/config.hpp"

namespace parley::net {

std::string sse_event(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + 16);
  if (!event.empty()) {
    out.append("event: ").append(event).push_back('\n');
  }
  if (!id.empty()) {
    out.append("id: ").append(id).push_back('\n');
  }
  // Each line of data (split on \n, \r\n or \r) becomes one "data:" line.
  size_t start = 0;
  for (size_t i = 0; i <= data.size(); ++i) {
    if (i == data.size() || data[i] == '\n' || data[i] == '\r') {
      out.append("data: ").append(data.substr(start, i - start)).push_back('\n');
      if (i < data.size() && data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  out.push_back('\n');
  return out;
}

std::string sse_comment(std::string_view text) {
  std::string out(": ");
  out.append(text).append("\n\n");
  return out;
}

void SseParser::feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event) {
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (c == '\n' && last_was_cr_) {  // the \n of a \r\n split or not across feeds
      last_was_cr_ = false;
      start = i + 1;
      continue;
    }
    last_was_cr_ = false;
    if (c == '\n' || c == '\r') {
      if (line_.empty()) {
        line(bytes.substr(start, i - start), on_event);
      } else {
        line_.append(bytes.substr(start, i - start));
        line(line_, on_event);
        line_.clear();
      }
      last_was_cr_ = c == '\r';
      start = i + 1;
    }
  }
  if (start < bytes.size()) line_.append(bytes.substr(start));
}

void SseParser::line(std::string_view l, const std::function<void(const SseEvent&)>& on_event) {
  if (first_line_) {
    first_line_ = false;
    if (l.substr(0, 3) == "\xEF\xBB\xBF") l.remove_prefix(3);  // BOM
  }
  if (l.empty()) {  // dispatch
    if (has_data_) {
      SseEvent e;
      e.event = event_.empty() ? "message" : event_;
      e.data = std::move(data_);
      e.id = id_;
      e.retry_ms = retry_ms_;
      on_event(e);
    }
    data_.clear();
    event_.clear();
    has_data_ = false;
    return;
  }
  if (l.front() == ':') return;  // comment
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : l.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  } else if (field == "retry") {
    if (auto v = parse_int(value)) retry_ms_ = static_cast<long>(*v);
  }
}

}  // namespace parley::net
