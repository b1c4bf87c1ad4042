#include "hub/http/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace carehub::http {

RateLimiter::RateLimiter(double per_minute, double burst, std::function<Clock::time_point()> now)
    : per_second_(per_minute / 60.0), burst_(std::max(1.0, burst)), now_(std::move(now)) {}

std::optional<int> RateLimiter::Take(const std::string& key) {
  if (per_second_ <= 0) return std::nullopt;
  const Clock::time_point now = now_();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * per_second_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  return std::max(1, static_cast<int>(std::ceil((1.0 - bucket.tokens) / per_second_)));
}

}  // namespace carehub::http
