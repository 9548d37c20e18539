// LogWriter: log lines gathered in memory and written to a file descriptor in batches.
//
// A busy service logs one access line per request. Handing each line to a logging thread costs a
// wake-up of that thread and a write() per line (a quarter of db-api's CPU per GET, measured in
// docs/performance.md). Here request threads only append to a buffer under a mutex; a background
// thread writes everything gathered every `interval` (or sooner once `wake_bytes` have gathered):
// one wake-up and one write() for hundreds of lines. Lines keep the order they were appended in.
//
//   LogWriter w({.fd = 2});
//   w.append("2026-11-28T10:00:00.000Z info access method=GET ...\n");   // whole lines
//   w.flush();                                   // written when this returns (warnings, exit)
//
// A request never waits for the output: when `max_bytes` are waiting (stderr blocked, a log pipe
// nobody reads), new lines are dropped and counted, and the next write says how many were lost.
// With background = false every append is written at once (tests that read the output).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace parley {

class LogWriter {
 public:
  struct Options {
    int fd = 2;
    bool background = true;
    std::chrono::milliseconds interval{20};
    size_t wake_bytes = size_t{64} << 10;
    size_t max_bytes = size_t{8} << 20;
  };

  explicit LogWriter(Options options);
  ~LogWriter();  // stops the thread and writes what is left
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends whole lines (each ending in '\n'); false when they were dropped (buffer full).
  bool append(std::string_view lines);
  // Everything appended before this call has been written (or failed to) when it returns.
  void flush();
  // Starts or stops the background thread (stopping writes what is waiting).
  void set_background(bool on);

  uint64_t dropped() const;

 private:
  void run();
  void write_pending();  // takes the buffer and writes it; caller holds write_mu_
  void write_all(std::string_view data);

  const Options options_;
  mutable std::mutex mu_;  // guards pending_, dropped_, stop_
  std::condition_variable wake_;
  std::string pending_;
  uint64_t dropped_ = 0, dropped_reported_ = 0;
  bool stop_ = false;
  bool background_ = false;
  std::mutex write_mu_;  // one writer at a time, so batches keep their order
  std::string writing_;  // the batch being written (reused: keeps its capacity)
  std::mutex control_mu_;  // guards thread_ (set_background)
  std::thread thread_;
};

// Writes "2026-11-28T10:00:00.123Z" (UTC, milliseconds: kUtcTimestampSize characters) to out; the
// calendar part is formatted once per second per thread.
inline constexpr size_t kUtcTimestampSize = 24;
void format_utc_timestamp(char* out, std::chrono::system_clock::time_point t);

}  // namespace parley
