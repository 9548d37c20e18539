#include "net/sse.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace parley::net {
namespace {

std::vector<SseEvent> parse_all(std::string_view text, size_t piece) {
  SseParser p;
  std::vector<SseEvent> out;
  for (size_t i = 0; i < text.size(); i += piece)
    p.feed(text.substr(i, piece), [&](const SseEvent& e) { out.push_back(e); });
  return out;
}

TEST(Sse, EventFraming) {
  EXPECT_EQ(sse_event("{\"a\":1}"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(sse_event("[DONE]"), "data: [DONE]\n\n");
  EXPECT_EQ(sse_event("x", "error", "7"), "event: error\nid: 7\ndata: x\n\n");
  EXPECT_EQ(sse_event("a\nb\r\nc"), "data: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(sse_event(""), "data: \n\n");
  EXPECT_EQ(sse_comment("ping"), ": ping\n\n");
}

TEST(Sse, ParserHandlesAnySplit) {
  std::string stream = ": hello\n\ndata: one\n\nevent: upd\r\nid: 5\r\ndata: a\r\ndata: b\r\n\r\ndata:no-space\rretry: 300\r\r";
  for (size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    auto events = parse_all(stream, piece);
    ASSERT_EQ(events.size(), 3u) << piece;
    EXPECT_EQ(events[0].event, "message");
    EXPECT_EQ(events[0].data, "one");
    EXPECT_EQ(events[1].event, "upd");
    EXPECT_EQ(events[1].data, "a\nb");
    EXPECT_EQ(events[1].id, "5");
    EXPECT_EQ(events[2].data, "no-space");
    EXPECT_EQ(events[2].retry_ms, 300);
    EXPECT_EQ(events[2].id, "5");  // the last event id persists
  }
}

TEST(Sse, RoundTripOfFramedEvents) {
  std::string text = sse_event("line1\nline2", "delta") + sse_event("[DONE]");
  auto events = parse_all(text, 4);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].data, "line1\nline2");
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(Sse, IncompleteEventIsHeldBack) {
  SseParser p;
  int n = 0;
  p.feed("data: partial", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 0);
  EXPECT_GT(p.pending(), 0u);
  p.feed("\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 0);
  p.feed("\n", [&](const SseEvent& e) {
    ++n;
    EXPECT_EQ(e.data, "partial");
  });
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace parley::net
