// AsyncRunner: an io_context run by a few background threads, for tests of coroutine APIs.
//   AsyncRunner rt(2);
//   auto result = rt.run(store.get_chat(owner, id));   // blocks the test thread until done
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>

#include <optional>
#include <thread>
#include <vector>

namespace parley::test {

// Runs a coroutine on an io_context that other threads run, and waits for its result. T need not be
// default-constructible (net::run_blocking requires that; Result<T> is not).
template <typename T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  auto wrapped = [](boost::asio::awaitable<T> inner) -> boost::asio::awaitable<std::optional<T>> {
    co_return std::optional<T>(co_await std::move(inner));
  };
  return std::move(*boost::asio::co_spawn(io, wrapped(std::move(aw)), boost::asio::use_future).get());
}

class AsyncRunner {
 public:
  explicit AsyncRunner(int threads = 2) : guard_(io_.get_executor()) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  // Lets the io_context run out of work before it goes: another loop (an HttpClient's) may still
  // hold a work-counting copy of its executor for a moment after our coroutine got its answer, and
  // releasing that copy touches the io_context (AddressSanitizer: the contract tests through a
  // db-api process). Stops it anyway after 10 s (something left running for good).
  ~AsyncRunner() {
    guard_.reset();
    for (int i = 0; i < 1000 && !io_.stopped(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  AsyncRunner(const AsyncRunner&) = delete;
  AsyncRunner& operator=(const AsyncRunner&) = delete;

  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  template <typename T>
  T run(boost::asio::awaitable<T> aw) {
    return run_on(io_, std::move(aw));
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::test
