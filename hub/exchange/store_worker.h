// A thread with its own Store connection that runs store jobs in the order they were posted, so
// that an Exchange's loop thread never waits on a long store read or write (docs/PROTOCOL.md
// "Flow, notification, liveness"). A job runs on the worker thread with the worker's Store and
// reports back through a Mailbox: closures that the loop thread runs when its poll wakes on the
// mailbox's file descriptor. An exception thrown by a job is carried back through the mailbox and
// rethrown on the loop thread.
// A JobThread is the same without a Store: the exchange's decoder of received batches.
// Thread-safety: Post, Pending and Stop from one owning thread; the jobs run on the worker only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "hub/store/store.h"

namespace carehub {

// Closures posted by worker threads for the loop thread. fd() becomes readable when one waits.
class Mailbox {
 public:
  Mailbox();
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  int fd() const { return fd_; }
  void Post(std::function<void()> closure);  // any thread
  // Runs every waiting closure on the calling (loop) thread; returns how many ran.
  std::size_t Run();

 private:
  int fd_ = -1;
  std::mutex mutex_;
  std::vector<std::function<void()>> waiting_;
};

// Objects handed back from one thread to another to be used again, their heap buffers kept (the
// exchange's received batches: decoded into on the decoder thread, given back by the loop once
// applied, so that neither allocates nor frees per entry). At most `capacity` are kept: one
// given beyond that is destroyed by Give, so the memory held stays bounded.
template <typename T>
class SparePool {
 public:
  explicit SparePool(std::size_t capacity) : capacity_(capacity) {}
  SparePool(const SparePool&) = delete;
  SparePool& operator=(const SparePool&) = delete;

  // A kept one (the most recently given), else a new T. Any thread.
  T Take() {
    std::lock_guard lock(mutex_);
    if (spares_.empty()) return T{};
    T out = std::move(spares_.back());
    spares_.pop_back();
    return out;
  }
  // Any thread.
  void Give(T spare) {
    {
      std::lock_guard lock(mutex_);
      if (spares_.size() >= capacity_) return;  // destroyed here, outside the lock
      spares_.push_back(std::move(spare));
    }
  }
  // Destroys every kept one (on the calling thread). Any thread.
  void Clear() {
    std::vector<T> dropped;
    std::lock_guard lock(mutex_);
    dropped.swap(spares_);
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;
  std::vector<T> spares_;
};

// Runs jobs in the order they were posted on a thread of its own; an exception a job throws is
// rethrown on the loop thread through `mailbox`.
class JobThread {
 public:
  explicit JobThread(Mailbox& mailbox);
  ~JobThread();  // Stop()
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  void Post(std::function<void()> job);
  void Stop();  // runs what is queued, then ends the thread (idempotent)

 private:
  void Loop();

  Mailbox& mailbox_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

class StoreWorker {
 public:
  using Job = std::function<void(Store&)>;
  // Hooks run on the worker thread with its Store (any may be empty): `setup` once before the
  // first job; `idle` whenever no job arrived for `idle_after` since the last one, and once more
  // at Stop (the writer commits its group); `teardown` last, before the Store is closed.
  struct Hooks {
    std::function<void(Store&)> setup, idle, teardown;
    std::chrono::milliseconds idle_after{50};
  };
  // Opens `dir` as the worker's own Store (its connection: busy_timeout `busy_ms`) on the worker
  // thread, then runs jobs as they are posted.
  StoreWorker(const std::filesystem::path& dir, int busy_ms, Mailbox& mailbox, Hooks hooks);
  ~StoreWorker();  // Stop()
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  void Post(Job job);
  // Jobs posted and not finished (queued or running).
  std::size_t Pending() const;
  // Runs `job` after everything posted before it and waits for it (SyncOnce's final commit).
  void RunAndWait(Job job);
  // Runs what is queued, then ends the thread (idempotent).
  void Stop();

 private:
  void Loop(std::filesystem::path dir, int busy_ms);

  Mailbox& mailbox_;
  Hooks hooks_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace carehub
