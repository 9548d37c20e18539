// EventLoop: one io_context run by N threads; every server and HTTP client of a process can share
// it (`parley serve` runs three services on one loop).
//
//   parley::net::EventLoop loop(2);      // 0 threads = std::thread::hardware_concurrency()
//   loop.start();                        // threads begin running the io_context
//   boost::asio::io_context& io = loop.context();
//   ...
//   loop.stop();                         // also done by the destructor; joins the threads
//
// The loop keeps running while idle (a work guard) until stop().
#pragma once

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

  boost::asio::io_context& context() { return *io_; }
  int threads() const { return n_threads_; }

  void start();  // idempotent
  void stop();   // stops the io_context and joins; idempotent
  bool running_in_this_thread() const;

 private:
  struct Guard;
  int n_threads_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<Guard> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace parley::net
