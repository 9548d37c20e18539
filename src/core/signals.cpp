#include "core/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace parley {
namespace {

std::atomic<int> g_write_fd{-1};
struct sigaction g_old_term {};
struct sigaction g_old_int {};

extern "C" void on_shutdown_signal(int signo) {
  int saved = errno;
  int fd = g_write_fd.load();
  if (fd >= 0) {
    auto byte = static_cast<unsigned char>(signo);
    [[maybe_unused]] ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

}  // namespace

ShutdownSignals::ShutdownSignals(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::runtime_error("ShutdownSignals: pipe2 failed");
  int expected = -1;
  if (!g_write_fd.compare_exchange_strong(expected, pipe_[1])) {
    ::close(pipe_[0]);
    ::close(pipe_[1]);
    throw std::logic_error("ShutdownSignals: only one instance at a time");
  }
  thread_ = std::thread([this] { loop(); });
  struct sigaction sa {};
  sa.sa_handler = on_shutdown_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, &g_old_term);
  ::sigaction(SIGINT, &sa, &g_old_int);
}

ShutdownSignals::~ShutdownSignals() {
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::sigaction(SIGINT, &g_old_int, nullptr);
  unsigned char stop = 0;  // 0 is no signal number: tells the thread to end
  [[maybe_unused]] ssize_t n = ::write(pipe_[1], &stop, 1);
  thread_.join();
  g_write_fd.store(-1);
  ::close(pipe_[0]);
  ::close(pipe_[1]);
}

void ShutdownSignals::loop() {
  for (;;) {
    unsigned char byte = 0;
    ssize_t n = ::read(pipe_[0], &byte, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || byte == 0) return;
    count_.fetch_add(1);
    if (on_signal_) on_signal_(byte);
  }
}

}  // namespace parley
