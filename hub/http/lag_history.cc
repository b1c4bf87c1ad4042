#include "hub/http/lag_history.h"

#include <iostream>

namespace carehub {

void LagHistory::Add(LagSample sample) {
  std::lock_guard lock(mutex_);
  const std::int64_t oldest = sample.at_ms - window_.count();
  samples_.push_back(std::move(sample));
  while (!samples_.empty() && samples_.front().at_ms < oldest) samples_.pop_front();
}

std::vector<LagSample> LagHistory::Samples() const {
  std::lock_guard lock(mutex_);
  return {samples_.begin(), samples_.end()};
}

LagSampler::LagSampler(LagHistory& history, std::chrono::milliseconds interval,
                       std::function<LagSample()> sample)
    : history_(history), interval_(interval), sample_(std::move(sample)) {
  thread_ = std::thread([this] { Run(); });
}

LagSampler::~LagSampler() { Stop(); }

void LagSampler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LagSampler::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      history_.Add(sample_());
    } catch (const std::exception& e) {
      // A busy or closing store skips one point of the chart; the next interval tries again.
      std::cerr << "carehub http: lag sample skipped: " << e.what() << "\n";
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace carehub
