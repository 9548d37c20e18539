#include "net/event_loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <future>
#include <set>
#include <sstream>
#include <thread>

#include "server_fixture.hpp"

namespace parley::net {
namespace {

using boost::asio::awaitable;
namespace asio = boost::asio;

std::thread::id thread_of(asio::io_context& io) {
  std::promise<std::thread::id> p;
  asio::post(io, [&p] { p.set_value(std::this_thread::get_id()); });
  return p.get_future().get();
}

TEST(EventLoop, EachThreadRunsAContextOfItsOwnAndNextContextTakesThemInTurn) {
  EventLoop loop(2);
  loop.start();
  asio::io_context& a = loop.next_context();
  asio::io_context& b = loop.next_context();
  EXPECT_NE(&a, &b);
  EXPECT_EQ(&loop.next_context(), &a) << "round-robin over the two";
  EXPECT_TRUE(&loop.context() == &a || &loop.context() == &b);
  std::thread::id ta = thread_of(a), tb = thread_of(b);
  EXPECT_NE(ta, tb);
  EXPECT_EQ(thread_of(a), ta) << "a context is always run by the same thread";
  EXPECT_NE(ta, std::this_thread::get_id());
}

// Accepted connections are spread over the threads, and each is served on one thread throughout.
struct EventLoopServer : test::ServerFixture {};

TEST_F(EventLoopServer, ConnectionsAreServedOnEveryThread) {
  Router r;
  r.get("/thread", [](Request&) -> awaitable<Response> {
    std::ostringstream id;
    id << std::this_thread::get_id();
    co_return Response::text(200, id.str());
  });
  start(std::move(r));
  std::set<std::string> threads;
  for (int i = 0; i < 6; ++i) {
    test::RawConnection c(port);
    ASSERT_TRUE(c.send("GET /thread HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string first = c.read_response().body;
    ASSERT_TRUE(c.send("GET /thread HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(c.read_response().body, first) << "one connection, one thread";
    threads.insert(first);
  }
  EXPECT_EQ(threads.size(), 2u);
}

// A coroutine waiting on one context that owns a timer of another: tearing the loop down destroys
// both without touching a context that is already gone (AddressSanitizer checks this).
TEST(EventLoop, TearDownWithHandlersHoldingObjectsOfAnotherContext) {
  auto loop = std::make_unique<EventLoop>(2);
  loop->start();
  asio::io_context& a = loop->next_context();
  asio::io_context& b = loop->next_context();
  std::promise<void> started;
  auto waiter = [](asio::io_context& timers, std::promise<void>* started) -> awaitable<void> {
    asio::steady_timer t(timers, std::chrono::hours(1));
    started->set_value();
    co_await t.async_wait(asio::use_awaitable);
  };
  asio::co_spawn(b, waiter(a, &started), asio::detached);
  started.get_future().wait();
  loop.reset();
  SUCCEED();
}

}  // namespace
}  // namespace parley::net
