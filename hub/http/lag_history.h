// The sync lag of the last hour, kept in memory for the console's lag chart
// (GET /v1/metrics/lag): while the exchange runs in the same process (`carehub serve --http`),
// a sampler thread records every member's lag (change-log entries it holds that this hub has not
// applied, summed over origins) once per interval and drops samples older than the window.
// Nothing is persisted: a restarted hub starts a fresh history.
// Thread-safety: LagHistory is internally locked; LagSampler is started and stopped by one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace carehub {

struct LagSample {
  std::int64_t at_ms = 0;                   // wall clock, ms since the epoch
  std::map<std::string, std::int64_t> lag;  // member name -> entries behind
};

class LagHistory {
 public:
  explicit LagHistory(std::chrono::milliseconds window) : window_(window) {}
  // Appends a sample and drops the ones older than the window (relative to this sample).
  void Add(LagSample sample);
  // Oldest first.
  std::vector<LagSample> Samples() const;

 private:
  std::chrono::milliseconds window_;
  mutable std::mutex mutex_;
  std::deque<LagSample> samples_;
};

// Calls `sample` at once and then every `interval` on its own thread, adding what it returns to
// `history`, until Stop (or destruction). An exception from `sample` skips that sample only.
class LagSampler {
 public:
  LagSampler(LagHistory& history, std::chrono::milliseconds interval,
             std::function<LagSample()> sample);
  ~LagSampler();
  LagSampler(const LagSampler&) = delete;
  LagSampler& operator=(const LagSampler&) = delete;
  void Stop();

 private:
  void Run();

  LagHistory& history_;
  std::chrono::milliseconds interval_;
  std::function<LagSample()> sample_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace carehub
