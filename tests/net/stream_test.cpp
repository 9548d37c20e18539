// Streaming responses end to end: SSE through the server's ResponseStream, read incrementally by
// HttpClient::stream + SseParser; client disconnects seen by the server.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "net/sse.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

using boost::asio::awaitable;
using test::RawConnection;
using test::ServerFixture;
using test::sleep_for;

// Shared between the handler and the test thread.
struct Gate {
  std::atomic<int> released{0};  // events the handler may send
  std::atomic<bool> gone{false};
  std::atomic<bool> handler_done{false};
  std::atomic<int> sent{0};
};

Router stream_router(Gate& g) {
  Router r;
  // Sends event i only once the test released it: proves the client sees events one by one.
  r.get("/events", [&g](Request& req) -> awaitable<Response> {
    ResponseStream& out = req.stream();
    out.on_client_gone([&g] { g.gone = true; });
    if (!co_await out.begin_sse()) co_return Response{};
    for (int i = 0; i < 5; ++i) {
      while (g.released.load() <= i && !out.client_gone()) co_await sleep_for(std::chrono::milliseconds(2));
      if (!co_await out.write(sse_event("{\"n\":" + std::to_string(i) + "}"))) break;
      g.sent = i + 1;
    }
    co_await out.write(sse_event("[DONE]"));
    g.handler_done = true;
    co_return Response{};
  });
  // Streams until the client leaves.
  r.get("/forever", [&g](Request& req) -> awaitable<Response> {
    ResponseStream& out = req.stream();
    out.on_client_gone([&g] { g.gone = true; });
    co_await out.begin_sse();
    int i = 0;
    while (!out.client_gone()) {
      if (!co_await out.write(sse_event(std::to_string(i++)))) break;
      co_await sleep_for(std::chrono::milliseconds(20));
    }
    g.handler_done = true;
    co_return Response{};
  });
  // Waits silently (as a queued generation does); only the disconnect watcher can notice.
  r.post("/wait", [&g](Request& req) -> awaitable<Response> {
    ResponseStream& out = req.stream();
    out.on_client_gone([&g] { g.gone = true; });
    for (int i = 0; i < 500 && !out.client_gone(); ++i) co_await sleep_for(std::chrono::milliseconds(10));
    g.handler_done = true;
    co_return Response::json(200, "{}");
  });
  r.get("/error-before-stream", [](Request&) -> awaitable<Response> {
    co_return Response::error(ErrorCode::unavailable, "busy").set_header("Retry-After", "1");
  });
  return r;
}

template <typename Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(3000)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (p()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return p();
}

using Streaming = ServerFixture;

TEST_F(Streaming, ClientReadsSseEventsAsTheyAreSent) {
  Gate g;
  start(stream_router(g));
  HttpClient client(loop);
  auto body = run_blocking(loop, client.stream(ClientRequest{.url = url("/events")}));
  EXPECT_EQ(body->status(), 200);
  EXPECT_EQ(body->header("Content-Type"), "text/event-stream");
  EXPECT_EQ(body->header("Cache-Control"), "no-cache");
  EXPECT_EQ(body->header("Transfer-Encoding"), "chunked");
  SseParser parser;
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    g.released = i + 1;
    // Read until event i arrives; the handler has not been allowed to send i+1 yet.
    while (static_cast<int>(got.size()) < i + 1) {
      auto piece = run_blocking(loop, body->read_some());
      ASSERT_TRUE(piece.has_value());
      parser.feed(*piece, [&](const SseEvent& e) { got.push_back(e.data); });
    }
    EXPECT_EQ(got.back(), "{\"n\":" + std::to_string(i) + "}");
    EXPECT_LE(g.sent.load(), i + 1);
  }
  std::string rest = run_blocking(loop, body->read_all());
  parser.feed(rest, [&](const SseEvent& e) { got.push_back(e.data); });
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[5], "[DONE]");
  EXPECT_FALSE(g.gone.load());
  // A finished stream leaves a reusable connection.
  body.reset();
  EXPECT_EQ(client.idle_connections(), 1u);
  auto again = run_blocking(loop, client.request(ClientRequest{.url = url("/error-before-stream")}));
  EXPECT_EQ(again.status, 503);
  EXPECT_EQ(again.header("Retry-After"), "1");
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST_F(Streaming, ServerNoticesClientDisconnectMidStream) {
  Gate g;
  start(stream_router(g));
  HttpClient client(loop);
  auto body = run_blocking(loop, client.stream(ClientRequest{.url = url("/forever")}));
  auto first = run_blocking(loop, body->read_some());
  ASSERT_TRUE(first.has_value());
  auto t0 = std::chrono::steady_clock::now();
  body.reset();  // drop the response: the connection closes
  EXPECT_TRUE(eventually([&] { return g.gone.load() && g.handler_done.load(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
}

TEST_F(Streaming, CancelEndsAPendingRead) {
  Gate g;
  start(stream_router(g));
  HttpClient client(loop);
  auto body = run_blocking(loop, client.stream(ClientRequest{.url = url("/events")}));  // nothing released: silent
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    body->cancel();
  });
  try {
    run_blocking(loop, body->read_some());
    ADD_FAILURE() << "read_some should throw after cancel";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.kind(), ClientError::Kind::cancelled) << e.what();
  }
  canceller.join();
  // The handler still touches g after it sees the client go: wait for it to end (ThreadSanitizer
  // saw it write to g, on this test's stack, after the test had returned).
  EXPECT_TRUE(eventually([&] { return g.gone.load() && g.handler_done.load(); }));
}

TEST_F(Streaming, DisconnectIsNoticedWhileTheHandlerIsSilent) {
  Gate g;
  start(stream_router(g));
  {
    RawConnection c(port);
    c.send("POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // closed before any byte of a response
  EXPECT_TRUE(eventually([&] { return g.gone.load() && g.handler_done.load(); }, std::chrono::milliseconds(1000)));
}

TEST_F(Streaming, WatcherKeepsPipelinedBytesForTheNextRequest) {
  Gate g;
  start(stream_router(g));
  RawConnection c(port);
  // The second request arrives while the first handler is still running (and watching).
  c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  c.send("GET /error-before-stream HTTP/1.1\r\nHost: x\r\n\r\n");
  g.released = 5;
  auto first = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("data: [DONE]\n\n"), std::string::npos) << first.body;
  auto second = c.read_response();
  EXPECT_EQ(second.status, 503);
  EXPECT_FALSE(g.gone.load());
}

TEST_F(Streaming, RawChunkFraming) {
  Gate g;
  g.released = 5;
  start(stream_router(g));
  RawConnection c(port);
  c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.read_response();
  std::string expected;
  for (int i = 0; i < 5; ++i) expected += "data: {\"n\":" + std::to_string(i) + "}\n\n";
  expected += "data: [DONE]\n\n";
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(r.header("X-Accel-Buffering"), "no");
  EXPECT_EQ(r.header("X-Request-Id").size(), 32u);
}

TEST_F(Streaming, Http10StreamEndsWithClose) {
  Gate g;
  g.released = 5;
  start(stream_router(g));
  RawConnection c(port);
  c.send("GET /events HTTP/1.0\r\n\r\n");
  auto r = c.read_response();
  EXPECT_EQ(r.header("Transfer-Encoding"), "");
  EXPECT_NE(r.body.find("data: [DONE]\n\n"), std::string::npos);
}

}  // namespace
}  // namespace parley::net
