#include "core/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "core/config.hpp"
#include "core/log_writer.hpp"

namespace parley {
namespace {

std::atomic<bool> g_access_log{true};
std::mutex g_setup_mu;

// Every line of the process goes through one writer (stderr), so that ordinary messages and access
// lines keep their order. Never destroyed: threads may log until the process ends.
LogWriter& process_writer() {
  static LogWriter* writer = new LogWriter({.fd = 2, .background = false});
  return *writer;
}

// spdlog formats ordinary messages on the calling thread and hands the line to the writer.
class WriterSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    process_writer().append(std::string_view(line.data(), line.size()));
  }
  void flush_() override { process_writer().flush(); }
};

// logfmt value: bare when safe, otherwise quoted with " and \ escaped and control bytes dropped.
void append_value(fmt::memory_buffer& out, std::string_view v) {
  bool bare = !v.empty();
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || c == '"' || c == '=' || c == '\\' || u == 0x7f) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

LogOptions log_options_from_env() {
  LogOptions o;
  o.level = env_string("PARLEY_LOG_LEVEL", o.level);
  o.access_log = env_bool("PARLEY_ACCESS_LOG", o.access_log);
  return o;
}

void setup_logging(const LogOptions& options) {
  std::lock_guard lock(g_setup_mu);
  // async: lines are written in batches by the writer's thread (a request never waits for the
  // output; see log_writer.hpp); otherwise each line is written before the call returns.
  process_writer().set_background(options.async);
  static bool exit_flush = std::atexit([] { process_writer().flush(); }) == 0;
  (void)exit_flush;
  auto logger = std::make_shared<spdlog::logger>("parley", std::make_shared<WriterSink>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(options.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  g_access_log.store(options.access_log, std::memory_order_relaxed);
}

bool access_log_enabled() { return g_access_log.load(std::memory_order_relaxed); }
void set_access_log_enabled(bool enabled) { g_access_log.store(enabled, std::memory_order_relaxed); }

namespace {
void format_access(fmt::memory_buffer& line, const AccessLogEntry& e) {
  line.append(std::string_view("access method="));
  append_value(line, e.method);
  line.append(std::string_view(" path="));
  append_value(line, e.path);
  fmt::format_to(std::back_inserter(line), " status={} duration_ms={:.3f} request_id=", e.status,
                 static_cast<double>(e.duration_us) / 1000.0);
  append_value(line, e.request_id);
  line.append(std::string_view(" remote="));
  append_value(line, e.remote);
  fmt::format_to(std::back_inserter(line), " bytes={}", e.bytes);
}
}  // namespace

std::string format_access_line(const AccessLogEntry& e) {
  fmt::memory_buffer line;
  format_access(line, e);
  return std::string(line.data(), line.size());
}

// Straight to the writer, in the logger's layout: no formatter, no queue, no wake-up per line.
void log_access(const AccessLogEntry& e) {
  auto* logger = spdlog::default_logger_raw();
  if (!access_log_enabled() || !logger->should_log(spdlog::level::info)) return;
  fmt::memory_buffer line;
  char stamp[kUtcTimestampSize];
  format_utc_timestamp(stamp, std::chrono::system_clock::now());
  line.append(std::string_view(stamp, sizeof stamp));
  line.append(std::string_view(" info "));
  format_access(line, e);
  line.push_back('\n');
  process_writer().append(std::string_view(line.data(), line.size()));
}

void flush_logs() {
  if (auto* l = spdlog::default_logger_raw()) l->flush();
  process_writer().flush();
}

}  // namespace parley
