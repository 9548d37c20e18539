#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>

#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "raw_http.hpp"

namespace parley::net {
namespace {

using boost::asio::awaitable;
using test::RawConnection;
using test::raw_request;

Router demo_router() {
  Router r;
  r.get("/v1/chats/{id}", [](Request& req) -> awaitable<Response> {
    co_return Response::json(200, "{\"id\":\"" + std::string(req.param("id")) + "\"}");
  });
  r.post("/echo", [](Request& req) -> awaitable<Response> { co_return Response::text(200, req.body()); });
  return r;
}

struct ServerFixture : ::testing::Test {
  EventLoop loop{2};
  std::unique_ptr<Server> server;
  uint16_t port = 0;
  void start(ServerOptions opt = {}, Router r = demo_router()) {
    server = std::make_unique<Server>(loop, opt, std::move(r));
    port = server->start();
    loop.start();
  }
  void TearDown() override {
    if (server) {
      server->shutdown();
      server->wait_drained();
    }
    loop.stop();
  }
};

TEST_F(ServerFixture, AnswersWithPathParamAndRequestId) {
  start();
  auto r = raw_request(port, "GET /v1/chats/abc HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"id":"abc"})");
  EXPECT_EQ(r.header("X-Request-Id").size(), 32u);
}

}  // namespace
}  // namespace parley::net
