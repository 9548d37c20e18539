// Graceful shutdown: in-flight requests finish, idle connections close, new connections are
// refused, streams get until the drain timeout; SIGTERM through run_until_signal exits 0.
#include <gtest/gtest.h>

#include <signal.h>

#include <future>
#include <thread>

#include "net/sse.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

using boost::asio::awaitable;
using test::RawConnection;
using test::sleep_for;

Router drain_router(std::atomic<bool>& gone) {
  Router r;
  r.get("/slow", [](Request&) -> awaitable<Response> {
    co_await sleep_for(std::chrono::milliseconds(300));
    co_return Response::text(200, "finished");
  });
  r.get("/fast", [](Request&) -> awaitable<Response> { co_return Response::text(200, "fast"); });
  r.get("/forever", [&gone](Request& req) -> awaitable<Response> {
    ResponseStream& out = req.stream();
    out.on_client_gone([&gone] { gone = true; });
    co_await out.begin_sse();
    while (co_await out.write(sse_event("tick"))) co_await sleep_for(std::chrono::milliseconds(20));
    co_return Response{};
  });
  return r;
}

bool can_connect(uint16_t port) {
  try {
    RawConnection c(port);
    c.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.read_response(500).status == 200;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(Drain, InFlightRequestFinishesAndNewConnectionsAreRefused) {
  EventLoop loop(2);
  std::atomic<bool> gone{false};
  Server server(loop, ServerOptions{}, drain_router(gone));
  uint16_t port = server.start();
  loop.start();
  RawConnection idle(port);  // a keep-alive connection with nothing in flight
  idle.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(idle.read_response().status, 200);

  RawConnection busy(port);
  busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t0 = std::chrono::steady_clock::now();
  server.shutdown();
  EXPECT_TRUE(server.draining());
  EXPECT_TRUE(idle.closed_by_peer(1000));  // idle connections close at once
  EXPECT_FALSE(can_connect(port));         // the listener is gone
  auto r = busy.read_response(2000);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "finished");
  EXPECT_EQ(r.header("Connection"), "close");
  server.wait_drained();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_EQ(server.connection_count(), 0u);
  loop.stop();
}

TEST(Drain, ReadyzFailsWhileDraining) {
  EventLoop loop(2);
  std::atomic<bool> gone{false};
  Server server(loop, ServerOptions{}, drain_router(gone));
  server.set_readiness([]() -> awaitable<Status> {
    co_await sleep_for(std::chrono::milliseconds(200));  // a slow dependency check
    co_return ok_status();
  });
  uint16_t port = server.start();
  loop.start();
  RawConnection c(port);
  c.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.shutdown();  // while the probe is in flight
  auto r = c.read_response(2000);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("shutting down"), std::string::npos) << r.body;
  server.wait_drained();
  loop.stop();
}

TEST(Drain, StreamsAreClosedAtTheDrainTimeout) {
  EventLoop loop(2);
  std::atomic<bool> gone{false};
  ServerOptions opt;
  opt.drain_timeout = std::chrono::milliseconds(200);
  Server server(loop, opt, drain_router(gone));
  uint16_t port = server.start();
  loop.start();
  RawConnection c(port);
  c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(c.fill(2000));  // the stream runs
  auto t0 = std::chrono::steady_clock::now();
  server.shutdown();
  // Still streaming during the drain...
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.buffer().clear();
  EXPECT_TRUE(c.fill(500));
  // ...and closed at the drain timeout, the handler told.
  EXPECT_TRUE(c.closed_by_peer(2000));
  server.wait_drained();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, std::chrono::milliseconds(180));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_TRUE(gone.load());
  loop.stop();
}

TEST(Drain, SigtermStopsRunUntilSignalWithExitCodeZero) {
  EventLoop loop(2);
  std::atomic<bool> gone{false};
  Server server(loop, ServerOptions{}, drain_router(gone));
  std::promise<void> started;
  auto result = std::async(std::launch::async, [&] {
    return run_until_signal(loop, {&server}, [&] { started.set_value(); });
  });
  started.get_future().wait();
  uint16_t port = server.port();
  RawConnection c(port);
  c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(::getpid(), SIGTERM);
  auto r = c.read_response(3000);
  EXPECT_EQ(r.status, 200);  // the request in flight still completes
  ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(result.get(), 0);
}

}  // namespace
}  // namespace parley::net
