#include "core/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "core/config.hpp"

namespace parley {
namespace {

std::atomic<bool> g_access_log{true};
std::mutex g_setup_mu;

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
  std::shared_ptr<spdlog::logger> logger;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (options.async) {
    if (!spdlog::thread_pool()) spdlog::init_thread_pool(16384, 1);
    // overrun_oldest: under a flood the oldest queued lines are dropped; a request never waits.
    logger = std::make_shared<spdlog::async_logger>("parley", sink, spdlog::thread_pool(),
                                                    spdlog::async_overflow_policy::overrun_oldest);
  } else {
    logger = std::make_shared<spdlog::logger>("parley", sink);
  }
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

void log_access(const AccessLogEntry& e) {
  auto* logger = spdlog::default_logger_raw();
  if (!access_log_enabled() || !logger->should_log(spdlog::level::info)) return;
  fmt::memory_buffer line;
  format_access(line, e);
  logger->log(spdlog::level::info, std::string_view(line.data(), line.size()));
}

void flush_logs() {
  if (auto* l = spdlog::default_logger_raw()) l->flush();
}

}  // namespace parley
