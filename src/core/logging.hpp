// Process logging on spdlog: every line goes to stderr through one LogWriter (log_writer.hpp): in
// the default asynchronous mode a background thread writes the gathered lines in batches, so
// request threads never block on the terminal or the container log pipe. UTC timestamps, and the
// one-line-per-request access log of DESIGN.md.
//
//   parley::setup_logging(parley::log_options_from_env());   // once, early in main / a command
//   spdlog::info("db-api listening on {}", port);            // ordinary messages
//   parley::log_access({.method = "GET", .path = "/v1/chats", .status = 200,
//                       .duration_us = 412, .request_id = rid, .remote = "10.0.0.7"});
//
// Access line (logfmt, one per request; about 1 us on the calling thread):
//   2026-11-27T18:40:00.123Z info access method=GET path=/v1/chats status=200 duration_ms=0.412
//       request_id=3f0c... remote=10.0.0.7 bytes=532
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley {

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|critical|off
  bool access_log = true;      // one line per HTTP request
  bool async = true;           // false: synchronous (tests that read stderr)
};

// PARLEY_LOG_LEVEL (default info), PARLEY_ACCESS_LOG (default true).
LogOptions log_options_from_env();

// Installs the default spdlog logger; safe to call again (later calls replace the settings).
void setup_logging(const LogOptions& options = {});

struct AccessLogEntry {
  std::string_view method;
  std::string_view path;
  int status = 0;
  int64_t duration_us = 0;
  std::string_view request_id;
  std::string_view remote;
  uint64_t bytes = 0;  // response body bytes
};

// The text of an access line (without timestamp and level), as log_access writes it.
std::string format_access_line(const AccessLogEntry& entry);

bool access_log_enabled();
void set_access_log_enabled(bool enabled);
void log_access(const AccessLogEntry& entry);

// Writes out everything queued (before exit, in tests).
void flush_logs();

}  // namespace parley
