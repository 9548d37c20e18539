// GenerationRateLimiter: how many replies one browser session may start per minute (a token bucket
// per session owner), so that one session cannot keep the language model busy for everyone.
//
//   GenerationRateLimiter limiter({.per_minute = 20, .burst = 10});
//   if (int64_t wait_s = limiter.try_take(owner); wait_s > 0) ... 429, Retry-After: wait_s
//
// A bucket holds up to `burst` tokens and refills at per_minute / 60 tokens per second; starting a
// reply takes one token. per_minute <= 0 turns the limit off. The state is this replica's memory: with
// R replicas behind a load balancer that spreads one session's requests, a session gets up to R times
// the limit (the global cap on concurrent streams bounds each replica whatever happens).
// Memory: ~100 bytes per session that started a reply within the last burst / rate; full buckets
// carry no information and are dropped when the table has doubled since the last sweep (amortized
// O(1) per call). Thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::services::ui {

struct RateLimit {
  double per_minute = 20;  // refill rate, tokens per minute; <= 0: no limit
  int burst = 10;          // bucket size: replies a fresh session may start back to back (>= 1)
};

class GenerationRateLimiter {
 public:
  // `now_ms`: a monotonic clock in milliseconds (tests); default: std::chrono::steady_clock.
  explicit GenerationRateLimiter(RateLimit limit, std::function<int64_t()> now_ms = {});

  // Takes a token of `owner`'s bucket: 0 when allowed; otherwise the whole seconds (>= 1) until a
  // token will be there, for Retry-After. A refused call takes nothing.
  int64_t try_take(const std::string& owner);
  // Gives back the token taken by the last allowed try_take (the reply did not start after all).
  void refund(const std::string& owner);

  bool enabled() const { return limit_.per_minute > 0; }
  size_t tracked_sessions() const;

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  double refilled(const Bucket& b, int64_t now) const;
  void sweep(int64_t now);

  RateLimit limit_;
  double tokens_per_ms_;
  std::function<int64_t()> now_ms_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  size_t sweep_at_ = 1024;
};

}  // namespace parley::services::ui
