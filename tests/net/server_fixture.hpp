// Test fixture: an EventLoop and a Server on 127.0.0.1, ephemeral port.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>

#include "net/blocking.hpp"
#include "net/client.hpp"
#include "net/event_loop.hpp"
#include "net/server.hpp"
#include "raw_http.hpp"

namespace parley::net::test {

using boost::asio::awaitable;

inline awaitable<void> sleep_for(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
}

struct ServerFixture : ::testing::Test {
  EventLoop loop{2};
  std::unique_ptr<Server> server;
  uint16_t port = 0;

  void start(Router r, ServerOptions opt = {}) {
    opt.host = "127.0.0.1";
    opt.port = 0;
    server = std::make_unique<Server>(loop, opt, std::move(r));
    port = server->start();
    loop.start();
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }

  void TearDown() override {
    if (server) {
      server->shutdown();
      server->wait_drained();
    }
    loop.stop();
  }
};

}  // namespace parley::net::test
