#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "net/sse.hpp"
#include "server_fixture.hpp"

namespace parley::net {
namespace {

using boost::asio::awaitable;
using test::ServerFixture;
using test::sleep_for;

Router client_router() {
  Router r;
  r.get("/hello", [](Request& req) -> awaitable<Response> {
    co_return Response::text(200, "hello " + std::string(req.header("X-Who")));
  });
  r.post("/echo", [](Request& req) -> awaitable<Response> {
    Response res = Response::text(200, req.body(), std::string(req.header("Content-Type")));
    res.set_header("X-Seen-Request-Id", req.request_id());
    co_return res;
  });
  r.get("/big", [](Request&) -> awaitable<Response> { co_return Response::text(200, std::string(300000, 'b')); });
  r.get("/sleep", [](Request&) -> awaitable<Response> {
    co_await sleep_for(std::chrono::milliseconds(500));
    co_return Response::text(200, "late");
  });
  r.get("/missing-thing", [](Request&) -> awaitable<Response> {
    co_return Response::error(ErrorCode::not_found, "no such thing");
  });
  return r;
}

using Client = ServerFixture;

TEST_F(Client, GetAndPostWithHeaders) {
  start(client_router());
  HttpClient client(loop);
  ClientRequest get{.url = url("/hello")};
  get.header("X-Who", "world");
  auto r = run_blocking(loop, client.request(get));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");
  EXPECT_EQ(r.header("x-request-id").size(), 32u);

  ClientRequest post{.method = Method::post, .url = url("/echo"), .body = "{\"a\":1}", .content_type = "application/json"};
  post.header("X-Request-Id", "propagated-1");
  auto p = run_blocking(loop, client.request(post));
  EXPECT_EQ(p.body, "{\"a\":1}");
  EXPECT_EQ(p.header("Content-Type"), "application/json");
  EXPECT_EQ(p.header("X-Seen-Request-Id"), "propagated-1");

  auto nf = run_blocking(loop, client.request(ClientRequest{.url = url("/missing-thing")}));
  EXPECT_EQ(nf.status, 404);
  EXPECT_NE(nf.body.find("no such thing"), std::string::npos);

  auto big = run_blocking(loop, client.request(ClientRequest{.url = url("/big")}));
  EXPECT_EQ(big.body.size(), 300000u);
}

// CI once saw "Broken pipe" instead of the 413: the server answered and closed while the client
// was still writing a body several MiB over the limit. The 413 must reach the client every time.
TEST_F(Client, BodyFarOverTheServerLimitGetsThe413) {
  ServerOptions opt;
  opt.body_limit = 1000;
  start(client_router(), opt);
  HttpClient client(loop);
  for (size_t mib : {3, 8, 16}) {
    for (int i = 0; i < 4; ++i) {
      ClientRequest post{.method = Method::post, .url = url("/echo"), .body = std::string(mib << 20, 'x')};
      auto r = run_blocking(loop, client.request(post));
      EXPECT_EQ(r.status, 413) << mib << " MiB, try " << i;
      EXPECT_NE(r.body.find("payload_too_large"), std::string::npos) << r.body;
    }
  }
  // The client and server are both fine afterwards.
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.url = url("/hello")})).status, 200);
}

TEST_F(Client, ReusesPooledConnections) {
  start(client_router());
  HttpClient client(loop);
  for (int i = 0; i < 50; ++i) {
    auto r = run_blocking(loop, client.request(ClientRequest{.url = url("/hello")}));
    ASSERT_EQ(r.status, 200);
  }
  EXPECT_EQ(client.connections_opened(), 1u);
  EXPECT_EQ(client.idle_connections(), 1u);
  EXPECT_EQ(server->connection_count(), 1u);
}

TEST_F(Client, ConcurrentRequestsFromManyCoroutines) {
  start(client_router());
  HttpClient client(loop);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        ClientRequest r{.method = Method::post, .url = url("/echo"), .body = std::to_string(i)};
        if (run_blocking(loop, client.request(r)).body == std::to_string(i)) ok++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_LE(client.connections_opened(), 8u);
}

TEST_F(Client, ServerClosedIdleConnectionIsNotReused) {
  ServerOptions opt;
  opt.idle_timeout = std::chrono::milliseconds(100);
  start(client_router(), opt);
  HttpClient client(loop);
  EXPECT_EQ(run_blocking(loop, client.request(ClientRequest{.url = url("/hello")})).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server closes it meanwhile
  // Not idempotent, so it must not fail on a stale connection: the pool notices the close first.
  ClientRequest post{.method = Method::post, .url = url("/echo"), .body = "x"};
  EXPECT_EQ(run_blocking(loop, client.request(post)).body, "x");
  EXPECT_EQ(client.connections_opened(), 2u);
}

TEST_F(Client, ConnectFailureAndTimeoutThrow) {
  start(client_router());
  ClientOptions o;
  o.read_timeout = std::chrono::milliseconds(100);
  HttpClient client(loop, o);
  try {
    run_blocking(loop, client.request(ClientRequest{.url = url("/sleep")}));
    FAIL() << "expected a timeout";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.kind(), ClientError::Kind::timeout) << e.what();
  }
  // Nothing listens on the port of a stopped server.
  uint16_t dead_port;
  {
    Server dead(loop, ServerOptions{}, Router{});
    dead_port = dead.start();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  try {
    run_blocking(loop, client.request(ClientRequest{.url = "http://127.0.0.1:" + std::to_string(dead_port) + "/"}));
    FAIL() << "expected a connect error";
  } catch (const ClientError& e) {
    EXPECT_EQ(e.kind(), ClientError::Kind::connect) << e.what();
  }
  EXPECT_THROW(run_blocking(loop, client.request(ClientRequest{.url = "https://example.com/"})), ClientError);
  EXPECT_THROW(run_blocking(loop, client.request(ClientRequest{.url = "not a url"})), ClientError);
}

TEST_F(Client, ResponseBodyLimit) {
  start(client_router());
  ClientOptions o;
  o.max_response_body = 1000;
  HttpClient client(loop, o);
  try {
    run_blocking(loop, client.request(ClientRequest{.url = url("/big")}));
    FAIL();
  } catch (const ClientError& e) {
    EXPECT_EQ(e.kind(), ClientError::Kind::too_large);
  }
}

TEST_F(Client, PerRequestReadTimeoutOverride) {
  start(client_router());
  ClientOptions o;
  o.read_timeout = std::chrono::milliseconds(50);
  HttpClient client(loop, o);
  ClientRequest r{.url = url("/sleep")};
  r.read_timeout = std::chrono::seconds(5);
  EXPECT_EQ(run_blocking(loop, client.request(r)).body, "late");
}

}  // namespace
}  // namespace parley::net

namespace parley::net {
namespace {

// Asio's per-operation cancellation reaches a request in flight (here through the || operator of
// awaitable_operators: the timer wins and the request is cancelled).
TEST_F(Client, RequestIsCancelledWithTheAwaitingOperation) {
  start(client_router());
  HttpClient client(loop);
  auto t0 = std::chrono::steady_clock::now();
  auto which = run_blocking(loop, [&]() -> awaitable<int> {
    using namespace boost::asio::experimental::awaitable_operators;
    ClientRequest slow{.url = url("/sleep")};
    auto r = co_await (client.request(slow) || sleep_for(std::chrono::milliseconds(50)));
    co_return static_cast<int>(r.index());
  }());
  EXPECT_EQ(which, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(400));
}

}  // namespace
}  // namespace parley::net

namespace parley::net {
namespace {

// Requests made inside a coroutine, as handlers do (named requests: see ClientRequest).
TEST_F(Client, RequestsFromInsideACoroutine) {
  start(client_router());
  HttpClient client(loop);
  auto body = run_blocking(loop, [&]() -> awaitable<std::string> {
    ClientRequest post{.method = Method::post, .url = url("/echo"), .body = std::string(100, 'z')};
    auto r = co_await client.request(std::move(post));
    ClientRequest get{.url = url("/hello")};
    get.header("X-Who", "you");
    auto s = co_await client.stream(std::move(get));
    std::string rest = co_await s->read_all();
    co_return r.body + rest;
  }());
  EXPECT_EQ(body, std::string(100, 'z') + "hello you");
}

}  // namespace
}  // namespace parley::net
