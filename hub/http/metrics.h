// Request metrics of the HTTP API: a count per (route, status) and a latency histogram per
// route, rendered in the Prometheus text format (version 0.0.4) by /metrics together with the
// store gauges. Thread-safe: Observe is called from every server thread (atomics for the
// histogram, a mutex only for the rare first sighting of a status code).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace carehub {

class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, seconds (plus +Inf).
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  // `routes` are the route labels (e.g. "GET /v1/records/{record_id}"); label "unmatched" is
  // added for requests that matched no route.
  explicit RequestMetrics(std::vector<std::string> routes);

  // `route` is an index into routes(), or -1 for unmatched.
  void Observe(int route, int status, double seconds);

  // Appends the Prometheus text of the request families.
  void Render(std::string& out) const;
  const std::vector<std::string>& routes() const { return routes_; }

 private:
  struct PerRoute {
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // last = +Inf
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_micros{0};
  };
  std::vector<std::string> routes_;  // last = "unmatched"
  std::vector<std::unique_ptr<PerRoute>> per_route_;
  mutable std::mutex status_mutex_;
  std::map<std::pair<int, int>, std::uint64_t> by_status_;  // (route, status) -> count
};

// Escapes a Prometheus label value (backslash, quote, newline).
std::string PromLabel(const std::string& value);

}  // namespace carehub
