// Configuration helpers: a value comes from the command-line flag, then the environment, then a
// default (DESIGN.md, "Conventions"). No secret has a default: use env() and refuse to start.
//
//   int port = parley::env_int("PARLEY_PORT", 8080);
//   std::string url = parley::flag_env_default(cli_url, "DB_API_URL", "http://127.0.0.1:8081");
//   auto user = parley::first_env({"POSTGRES_USERNAME", "POSTGRES_USER"});   // optional<string>
//   auto limit = parley::parse_size("256KiB");                              // optional<uint64_t>
//
// Malformed values (PARLEY_PORT=abc) throw std::invalid_argument naming the variable: a
// misconfigured service should say why and not start.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

// The variable's value; nullopt when unset or empty.
std::optional<std::string> env(const char* name);
// The first of the names that is set and non-empty.
std::optional<std::string> first_env(std::initializer_list<const char*> names);

std::string env_string(const char* name, std::string_view fallback);
int64_t env_int(const char* name, int64_t fallback);
double env_double(const char* name, double fallback);
// 1/true/yes/on and 0/false/no/off (any case).
bool env_bool(const char* name, bool fallback);
// A duration such as "250ms", "10s", "2m", "1h"; a bare number is seconds.
std::chrono::milliseconds env_duration(const char* name, std::chrono::milliseconds fallback);
// A size such as "512", "64KiB", "1MiB", "2GiB", "10kb", "3MB" (k/m/g are powers of 1024).
uint64_t env_size(const char* name, uint64_t fallback);

std::optional<int64_t> parse_int(std::string_view text);
std::optional<double> parse_double(std::string_view text);
std::optional<bool> parse_bool(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<uint64_t> parse_size(std::string_view text);

// flag > env > default, for values whose flag is optional (unset flag = nullopt).
inline std::string flag_env_default(const std::optional<std::string>& flag, const char* env_name,
                                    std::string_view fallback) {
  if (flag && !flag->empty()) return *flag;
  return env_string(env_name, fallback);
}
inline int64_t flag_env_default(const std::optional<int64_t>& flag, const char* env_name, int64_t fallback) {
  if (flag) return *flag;
  return env_int(env_name, fallback);
}

}  // namespace parley
