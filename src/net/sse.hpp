// Server-Sent Events (text/event-stream): framing for servers and an incremental parser for clients.
//
//   co_await out.write(sse_event(R"({"choices":[...]})"));   // "data: {...}\n\n"
//   co_await out.write(sse_event("[DONE]"));
//   co_await out.write(sse_event(payload, "error"));         // "event: error\ndata: ...\n\n"
//
//   SseParser parser;                        // client side: feed bytes as they arrive
//   parser.feed(chunk, [&](const SseEvent& e) { use(e.event, e.data); });
//
// Per the WHATWG spec: lines end in \n, \r\n or \r; "data:" lines join with \n; a blank line
// dispatches; ":" lines are comments; an event with no data lines is not dispatched.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace parley::net {

// One event; data containing newlines becomes several "data:" lines.
std::string sse_event(std::string_view data, std::string_view event = {}, std::string_view id = {});
// A comment line (": keep-alive\n\n"), useful as a heartbeat.
std::string sse_comment(std::string_view text);

struct SseEvent {
  std::string event;  // "message" when the stream named none
  std::string data;
  std::string id;     // the last event id seen
  long retry_ms = -1;
};

class SseParser {
 public:
  // Parses as much as possible; calls on_event per complete event. Partial lines are kept.
  void feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);
  // Bytes held back waiting for a line end.
  size_t pending() const { return line_.size(); }

 private:
  void line(std::string_view line, const std::function<void(const SseEvent&)>& on_event);

  std::string line_;
  bool last_was_cr_ = false;
  bool first_line_ = true;
  std::string event_, data_, id_;
  bool has_data_ = false;
  long retry_ms_ = -1;
};

}  // namespace parley::net
