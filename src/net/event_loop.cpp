#include "net/event_loop.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

namespace parley::net {

struct EventLoop::Guard {
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
};

EventLoop::EventLoop(int threads)
    : n_threads_(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      io_(std::make_unique<boost::asio::io_context>(n_threads_)) {}

EventLoop::~EventLoop() { stop(); }

void EventLoop::start() {
  if (!threads_.empty()) return;
  guard_ = std::make_unique<Guard>(Guard{boost::asio::make_work_guard(*io_)});
  for (int i = 0; i < n_threads_; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          io_->run();
          return;
        } catch (const std::exception& e) {
          // A completion handler threw: log and keep the loop alive.
          spdlog::error("event loop: unhandled exception: {}", e.what());
        }
      }
    });
  }
}

void EventLoop::stop() {
  guard_.reset();
  io_->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

bool EventLoop::running_in_this_thread() const {
  for (const auto& t : threads_)
    if (t.get_id() == std::this_thread::get_id()) return true;
  return false;
}

}  // namespace parley::net
