// EventLoop: N threads, each running an io_context of its own; every server and HTTP client of a
// process can share it (`parley serve` runs three services on one loop).
//
//   parley::net::EventLoop loop(2);      // 0 threads = std::thread::hardware_concurrency()
//   loop.start();                        // threads begin running their io_contexts
//   boost::asio::io_context& io = loop.context();       // the first one: shared objects
//   boost::asio::io_context& c = loop.next_context();   // round-robin: one per connection
//   ...
//   loop.stop();                         // also done by the destructor; joins the threads
//
// Why one io_context per thread rather than one shared by all: a connection's handlers then always
// run on the thread that polls its socket, so serving a request needs no hand-over between threads
// (with a shared io_context, ~10 us of db-api's ~50 us per GET went to waking the other thread and
// locking the shared queue; docs/performance.md). Accepted connections and outgoing HTTP client
// connections are spread over the contexts with next_context(); everything else (timers of shared
// objects, database pools, batchers) lives on context(). Objects on different contexts talk by
// posting to each other's executors, which asio makes thread-safe.
//
// The loop keeps running while idle (work guards) until stop().
#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace parley::net {

class EventLoop {
 public:
  explicit EventLoop(int threads = 0);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& context();       // the first thread's
  boost::asio::io_context& next_context();  // each thread's in turn
  int threads() const { return n_threads_; }

  void start();  // idempotent
  void stop();   // stops the io_contexts and joins; idempotent
  bool running_in_this_thread() const;

 private:
  class Context;
  struct Guard;
  int n_threads_;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<unsigned> next_{0};
};

}  // namespace parley::net
