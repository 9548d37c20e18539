#include "net/event_loop.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <spdlog/spdlog.h>

namespace parley::net {

// An io_context whose tear-down steps EventLoop can run for all contexts together.
class EventLoop::Context : public boost::asio::io_context {
 public:
  using boost::asio::io_context::destroy;
  using boost::asio::io_context::shutdown;
};

struct EventLoop::Guard {
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
};

EventLoop::EventLoop(int threads)
    : n_threads_(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))) {
  for (int i = 0; i < n_threads_; ++i) contexts_.push_back(std::make_unique<Context>());
}

// A handler waiting on one context may own I/O objects of another (a request coroutine holding a
// database connection of the shared context): every context drops its pending handlers first,
// and only then do any of them destroy their services.
EventLoop::~EventLoop() {
  stop();
  for (auto& c : contexts_) c->shutdown();
  for (auto& c : contexts_) c->destroy();
}

boost::asio::io_context& EventLoop::context() { return *contexts_.front(); }

boost::asio::io_context& EventLoop::next_context() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void EventLoop::start() {
  if (!threads_.empty()) return;
  for (auto& c : contexts_) guards_.push_back(Guard{boost::asio::make_work_guard(*c)});
  for (auto& c : contexts_) {
    threads_.emplace_back([io = c.get()] {
      for (;;) {
        try {
          io->run();
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
  guards_.clear();
  for (auto& c : contexts_) c->stop();
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
