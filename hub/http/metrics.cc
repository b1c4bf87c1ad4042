#include "hub/http/metrics.h"

#include <cstdio>

namespace carehub {

std::string PromLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

RequestMetrics::RequestMetrics(std::vector<std::string> routes) : routes_(std::move(routes)) {
  routes_.push_back("unmatched");
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    per_route_.push_back(std::make_unique<PerRoute>());
  }
}

void RequestMetrics::Observe(int route, int status, double seconds) {
  const std::size_t index = route < 0 || route >= static_cast<int>(routes_.size()) - 1
                                ? routes_.size() - 1
                                : static_cast<std::size_t>(route);
  PerRoute& r = *per_route_[index];
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  r.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  r.count.fetch_add(1, std::memory_order_relaxed);
  r.sum_micros.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  std::lock_guard lock(status_mutex_);
  ++by_status_[{static_cast<int>(index), status}];
}

void RequestMetrics::Render(std::string& out) const {
  char number[64];
  out += "# HELP carehub_http_requests_total HTTP requests by route and status code.\n";
  out += "# TYPE carehub_http_requests_total counter\n";
  {
    std::lock_guard lock(status_mutex_);
    for (const auto& [key, count] : by_status_) {
      out += "carehub_http_requests_total{route=\"" + PromLabel(routes_[key.first]) + "\",code=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
  }
  out += "# HELP carehub_http_request_duration_seconds Time from request to response, by route.\n";
  out += "# TYPE carehub_http_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const PerRoute& r = *per_route_[i];
    const std::uint64_t count = r.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string label = "route=\"" + PromLabel(routes_[i]) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
      if (b < kBuckets.size()) {
        std::snprintf(number, sizeof number, "%g", kBuckets[b]);
      } else {
        std::snprintf(number, sizeof number, "+Inf");
      }
      out += "carehub_http_request_duration_seconds_bucket{" + label + ",le=\"" + number + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    std::snprintf(number, sizeof number, "%.6f",
                  static_cast<double>(r.sum_micros.load(std::memory_order_relaxed)) / 1e6);
    out += "carehub_http_request_duration_seconds_sum{" + label + "} " + number + "\n";
    out += "carehub_http_request_duration_seconds_count{" + label + "} " + std::to_string(count) +
           "\n";
  }
}

}  // namespace carehub
