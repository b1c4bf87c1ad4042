#include "connectors/pipeline.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

namespace carehub {
namespace {

constexpr std::size_t kBatchRows = 512;
constexpr std::size_t kMaxQueuedBatches = 8;

using Outcome = std::variant<CanonicalRecord, Rejection>;
using Batch = std::vector<Outcome>;

struct Cancelled {};

struct Channel {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Batch> queue;
  bool done = false;
  bool cancelled = false;
  std::exception_ptr error;
  bool progress_pending = false;
  std::uint64_t progress_done = 0;
  std::uint64_t progress_total = 0;
};

class BatchingSink : public RecordSink {
 public:
  explicit BatchingSink(Channel& channel) : channel_(channel) { batch_.reserve(kBatchRows); }
  void Accept(CanonicalRecord&& record) override { Add(Outcome(std::move(record))); }
  void Reject(Rejection&& rejection) override { Add(Outcome(std::move(rejection))); }

  void Flush() {
    if (batch_.empty()) return;
    std::unique_lock lock(channel_.mu);
    channel_.cv.wait(
        lock, [this] { return channel_.cancelled || channel_.queue.size() < kMaxQueuedBatches; });
    if (channel_.cancelled) throw Cancelled{};
    channel_.queue.push_back(std::move(batch_));
    lock.unlock();
    channel_.cv.notify_all();
    batch_ = Batch();
    batch_.reserve(kBatchRows);
  }

 private:
  void Add(Outcome&& outcome) {
    batch_.push_back(std::move(outcome));
    if (batch_.size() >= kBatchRows) Flush();
  }
  Channel& channel_;
  Batch batch_;
};

}  // namespace

void RunPipelined(const std::function<void(RecordSink&, const ProgressFn&)>& produce,
                  RecordSink& sink, const ProgressFn& on_progress) {
  Channel channel;
  ProgressFn worker_progress;
  if (on_progress) {
    worker_progress = [&channel](std::uint64_t done, std::uint64_t total) {
      std::lock_guard lock(channel.mu);
      channel.progress_pending = true;
      channel.progress_done = done;
      channel.progress_total = total;
    };
  }
  std::thread worker([&] {
    BatchingSink batching(channel);
    try {
      produce(batching, worker_progress);
      batching.Flush();
    } catch (const Cancelled&) {
    } catch (...) {
      std::lock_guard lock(channel.mu);
      channel.error = std::current_exception();
    }
    {
      std::lock_guard lock(channel.mu);
      channel.done = true;
    }
    channel.cv.notify_all();
  });

  std::exception_ptr consumer_error;
  for (;;) {
    Batch batch;
    bool report = false;
    std::uint64_t done = 0, total = 0;
    {
      std::unique_lock lock(channel.mu);
      channel.cv.wait(lock, [&] { return !channel.queue.empty() || channel.done; });
      if (channel.queue.empty()) break;  // done and drained
      batch = std::move(channel.queue.front());
      channel.queue.pop_front();
      if (channel.progress_pending) {
        report = true;
        done = channel.progress_done;
        total = channel.progress_total;
        channel.progress_pending = false;
      }
    }
    channel.cv.notify_all();
    try {
      for (Outcome& o : batch) {
        if (auto* r = std::get_if<CanonicalRecord>(&o)) {
          sink.Accept(std::move(*r));
        } else {
          sink.Reject(std::move(std::get<Rejection>(o)));
        }
      }
      if (report) on_progress(done, total);
    } catch (...) {
      consumer_error = std::current_exception();
      {
        std::lock_guard lock(channel.mu);
        channel.cancelled = true;
      }
      channel.cv.notify_all();
      break;
    }
  }
  worker.join();
  if (consumer_error) std::rethrow_exception(consumer_error);
  if (channel.error) std::rethrow_exception(channel.error);
}

}  // namespace carehub
