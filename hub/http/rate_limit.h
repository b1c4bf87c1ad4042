// Per-token rate limits of the HTTP API (issue 12): a token bucket per key (the API token id)
// refilled at `per_minute` / 60 per second and holding at most `burst`. A request that finds the
// bucket empty is refused with 429 and told when a token will be back (Retry-After).
// Thread-safety: Take() is internally locked; the clock is a seam for tests.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace carehub::http {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // per_minute <= 0 disables the limit.
  RateLimiter(double per_minute, double burst, std::function<Clock::time_point()> now = Clock::now);

  // Takes one token from `key`'s bucket: nullopt when allowed, else whole seconds to wait (>= 1).
  std::optional<int> Take(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  const double per_second_;
  const double burst_;
  std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace carehub::http
