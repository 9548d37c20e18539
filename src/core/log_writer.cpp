#include "core/log_writer.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace parley {

LogWriter::LogWriter(Options options) : options_(options) { set_background(options_.background); }

LogWriter::~LogWriter() { set_background(false); }

void LogWriter::set_background(bool on) {
  std::lock_guard control(control_mu_);
  if (on == thread_.joinable()) return;
  if (on) {
    {
      std::lock_guard lock(mu_);
      stop_ = false;
      background_ = true;
    }
    thread_ = std::thread([this] { run(); });
    return;
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    background_ = false;  // from here appends write at once
  }
  wake_.notify_one();
  thread_.join();
  flush();
}

bool LogWriter::append(std::string_view lines) {
  bool direct = false;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() + lines.size() > options_.max_bytes) {
      ++dropped_;
      return false;
    }
    pending_.append(lines);
    direct = !background_;
    if (!direct && pending_.size() >= options_.wake_bytes && pending_.size() - lines.size() < options_.wake_bytes)
      wake_.notify_one();  // once per crossing, not for every line after it
  }
  if (direct) flush();
  return true;
}

void LogWriter::flush() {
  std::lock_guard write_lock(write_mu_);
  write_pending();
}

uint64_t LogWriter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void LogWriter::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, options_.interval, [this] { return stop_ || pending_.size() >= options_.wake_bytes; });
    if (pending_.empty()) continue;
    lock.unlock();
    flush();
    lock.lock();
  }
}

void LogWriter::write_pending() {
  uint64_t lost = 0;
  {
    std::lock_guard lock(mu_);
    writing_.swap(pending_);
    lost = dropped_ - dropped_reported_;
    dropped_reported_ = dropped_;
  }
  if (lost > 0) {
    char stamp[kUtcTimestampSize];
    format_utc_timestamp(stamp, std::chrono::system_clock::now());
    write_all(fmt::format("{} warning log: {} line(s) dropped: the log output did not keep up\n",
                          std::string_view(stamp, sizeof stamp), lost));
  }
  if (!writing_.empty()) write_all(writing_);
  writing_.clear();
  if (writing_.capacity() > 4 * options_.wake_bytes) writing_.shrink_to_fit();  // after a burst
}

// Writes everything, waiting when the descriptor is non-blocking and full; gives up on an error
// (a closed pipe: there is nowhere left to log to).
void LogWriter::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(options_.fd, data.data(), data.size());
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{options_.fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      return;
    }
  }
}

void format_utc_timestamp(char* out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  thread_local int64_t cached_second = -1;
  thread_local char cached[20];  // "2026-11-28T10:00:00"
  const int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  int64_t second = ms / 1000, milli = ms % 1000;
  if (milli < 0) {
    milli += 1000;
    second -= 1;
  }
  if (second != cached_second) {
    std::time_t tt = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    std::memcpy(cached, buf, 19);
    cached_second = second;
  }
  std::memcpy(out, cached, 19);
  out[19] = '.';
  out[20] = static_cast<char>('0' + milli / 100);
  out[21] = static_cast<char>('0' + milli / 10 % 10);
  out[22] = static_cast<char>('0' + milli % 10);
  out[23] = 'Z';
}

}  // namespace parley
