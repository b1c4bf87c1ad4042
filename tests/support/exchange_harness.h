// Harness for tests that run exchanges in-process: a log sink the exchanges of one test share,
// an exchange serving on its own thread, and bounded waits for a hub's digest to reach another's.
// The waits are bounds for loaded machines, not timings: a test asserts the digest, never the time.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hub/exchange/exchange.h"

namespace carehub::testing {

// Collects the log lines of the exchanges it is handed to.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> Sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
  }
  bool Contains(const std::string& text) {
    std::lock_guard lock(mutex);
    for (const auto& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

// Runs an exchange's Serve loop on its own thread, from Start() until Stop() or destruction.
class Server {
 public:
  Server(const std::filesystem::path& dir, ExchangeOptions options)
      : exchange_(dir, std::move(options)) {}
  ~Server() { Stop(); }
  void Start() {
    thread_ = std::thread([this] { exchange_.Serve(stop_); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::string endpoint() const { return exchange_.endpoint(); }
  Exchange& exchange() { return exchange_; }  // only after Stop

 private:
  Exchange exchange_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Syncs the hub in `dir` (SyncOnce of 5 s at a time) until `digest_of()` equals `digest`, for at
// most `limit`. Under load a catch-up may report caught up at an earlier advertised head, so it
// syncs again. Returns whether the digests are equal.
inline bool SyncUntilDigest(const std::filesystem::path& dir, ExchangeOptions options,
                            const std::function<std::string()>& digest_of,
                            const std::string& digest,
                            std::chrono::seconds limit = std::chrono::seconds(60)) {
  Exchange exchange(dir, std::move(options));
  const auto start = std::chrono::steady_clock::now();
  while (digest_of() != digest && std::chrono::steady_clock::now() - start < limit) {
    exchange.SyncOnce(std::chrono::seconds(5));
  }
  return digest_of() == digest;
}

// Waits (50 ms steps) until `digest_of()` equals `digest`, for at most `limit`: a serving hub's
// background check or repair at work. Returns whether the digests are equal.
inline bool WaitForDigest(const std::function<std::string()>& digest_of, const std::string& digest,
                          std::chrono::seconds limit) {
  const auto start = std::chrono::steady_clock::now();
  while (digest_of() != digest && std::chrono::steady_clock::now() - start < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return digest_of() == digest;
}

}  // namespace carehub::testing
