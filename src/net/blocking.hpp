// run_blocking: runs a coroutine on an EventLoop and waits for its result on the calling thread
// (tests, tools, synchronous seams). Never call it from a loop thread: it would wait for itself.
//
//   EventLoop loop(1); loop.start();
//   HttpClient client(loop);
//   ClientResponse r = run_blocking(loop, client.request({.url = url}));
//
// Exceptions thrown by the coroutine are rethrown here. Includes asio's co_spawn: keep it out of
// widely included headers.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "net/event_loop.hpp"

namespace parley::net {

template <typename T>
T run_blocking(EventLoop& loop, boost::asio::awaitable<T> work) {
  auto future = boost::asio::co_spawn(loop.context(), std::move(work), boost::asio::use_future);
  return future.get();
}

}  // namespace parley::net
