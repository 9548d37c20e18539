// run_blocking(pool, fn): runs a blocking fn() on a bounded thread pool and resumes the calling
// coroutine on its own executor with the result (or the exception fn threw). Used by the SQLite
// store so that no database call ever blocks an io thread. Cost: two executor hops per call.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <type_traits>
#include <utility>

namespace parley::store {

//
// The result comes wrapped in an optional (always engaged): co_spawn's completion default-constructs
// its value on the exception path. Deliberately not a coroutine itself: g++ 12 destroys a closure
// passed by value to a coroutine twice (and a closure temporary inside a co_await expression), so
// callers name their closure and pass it here, and here it only travels into co_spawn.
template <typename F>
auto run_blocking(boost::asio::thread_pool& pool, F fn)
    -> boost::asio::awaitable<std::optional<std::invoke_result_t<F&>>> {
  using R = std::invoke_result_t<F&>;
  return boost::asio::co_spawn(
      pool,
      [fn = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<R>> { co_return std::optional<R>(fn()); },
      boost::asio::use_awaitable);
}

}  // namespace parley::store
