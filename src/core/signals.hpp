// ShutdownSignals: turns SIGTERM and SIGINT into a callback on an ordinary thread, where it may
// take locks, log and post work (a signal handler can do none of that).
//
//   parley::ShutdownSignals signals([&](int signo) { server.shutdown(); });
//   ...   // the destructor restores the previous handlers
//
// The callback runs once per signal received (a second Ctrl-C arrives as a second call, so the
// caller may escalate). One instance at a time per process.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace parley {

class ShutdownSignals {
 public:
  explicit ShutdownSignals(std::function<void(int signo)> on_signal);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Number of signals received so far.
  int count() const { return count_.load(); }

 private:
  void loop();

  std::function<void(int)> on_signal_;
  std::atomic<int> count_{0};
  int pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace parley
