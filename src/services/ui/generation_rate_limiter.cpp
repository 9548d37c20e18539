#include "services/ui/generation_rate_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace parley::services::ui {

GenerationRateLimiter::GenerationRateLimiter(RateLimit limit, std::function<int64_t()> now_ms)
    : limit_(limit), tokens_per_ms_(std::max(0.0, limit.per_minute) / 60000.0), now_ms_(std::move(now_ms)) {
  limit_.burst = std::max(1, limit_.burst);
  if (!now_ms_) {
    now_ms_ = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
  }
}

double GenerationRateLimiter::refilled(const Bucket& b, int64_t now) const {
  double elapsed = static_cast<double>(std::max<int64_t>(0, now - b.updated_ms));
  return std::min(static_cast<double>(limit_.burst), b.tokens + elapsed * tokens_per_ms_);
}

int64_t GenerationRateLimiter::try_take(const std::string& owner) {
  if (!enabled()) return 0;
  int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  auto [it, inserted] = buckets_.try_emplace(owner, Bucket{static_cast<double>(limit_.burst), now});
  Bucket& b = it->second;
  b.tokens = refilled(b, now);
  b.updated_ms = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    if (inserted && buckets_.size() >= sweep_at_) sweep(now);
    return 0;
  }
  double wait_ms = (1.0 - b.tokens) / tokens_per_ms_;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_ms / 1000.0)));
}

void GenerationRateLimiter::refund(const std::string& owner) {
  if (!enabled()) return;
  std::lock_guard lock(mutex_);
  if (auto it = buckets_.find(owner); it != buckets_.end())
    it->second.tokens = std::min(static_cast<double>(limit_.burst), it->second.tokens + 1.0);
}

size_t GenerationRateLimiter::tracked_sessions() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

// Drops the buckets that have refilled completely: a missing bucket means a full one.
void GenerationRateLimiter::sweep(int64_t now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (refilled(it->second, now) >= static_cast<double>(limit_.burst)) it = buckets_.erase(it);
    else ++it;
  }
  sweep_at_ = std::max<size_t>(1024, 2 * buckets_.size());
}

}  // namespace parley::services::ui
