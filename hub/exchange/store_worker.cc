#include "hub/exchange/store_worker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "schemas/error.h"

namespace carehub {

Mailbox::Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw Error::IoError("eventfd failed");
}

Mailbox::~Mailbox() { close(fd_); }

void Mailbox::Post(std::function<void()> closure) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(closure));
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = write(fd_, &one, sizeof one);
}

std::size_t Mailbox::Run() {
  std::uint64_t count = 0;
  [[maybe_unused]] const auto n = read(fd_, &count, sizeof count);
  std::vector<std::function<void()>> now;
  {
    std::lock_guard lock(mutex_);
    now.swap(waiting_);
  }
  for (auto& closure : now) closure();
  return now.size();
}

JobThread::JobThread(Mailbox& mailbox) : mailbox_(mailbox), thread_([this] { Loop(); }) {}

JobThread::~JobThread() { Stop(); }

void JobThread::Post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void JobThread::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void JobThread::Loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job();
    } catch (...) {
      mailbox_.Post([e = std::current_exception()] { std::rethrow_exception(e); });
    }
  }
}

StoreWorker::StoreWorker(const std::filesystem::path& dir, int busy_ms, Mailbox& mailbox,
                         Hooks hooks)
    : mailbox_(mailbox),
      hooks_(std::move(hooks)),
      thread_([this, dir, busy_ms] { Loop(dir, busy_ms); }) {}

StoreWorker::~StoreWorker() { Stop(); }

void StoreWorker::Post(Job job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

std::size_t StoreWorker::Pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + running_;
}

void StoreWorker::RunAndWait(Job job) {
  std::promise<void> done;
  auto future = done.get_future();
  Post([&](Store& store) {
    try {
      job(store);
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  future.get();
}

void StoreWorker::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StoreWorker::Loop(std::filesystem::path dir, int busy_ms) {
  std::optional<Store> store;
  try {
    store.emplace(Store::Open(dir));
    store->db().Exec("PRAGMA busy_timeout=" + std::to_string(busy_ms));
    if (hooks_.setup) hooks_.setup(*store);
  } catch (...) {
    mailbox_.Post([e = std::current_exception()] { std::rethrow_exception(e); });
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return stopping_; });
    if (store && hooks_.teardown) hooks_.teardown(*store);
    return;
  }
  bool idle_done = true;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      const auto ready = [&] { return stopping_ || !queue_.empty(); };
      if (!idle_done && hooks_.idle) {
        if (!wake_.wait_for(lock, hooks_.idle_after, ready)) {
          lock.unlock();
          idle_done = true;
          try {
            hooks_.idle(*store);
          } catch (...) {
            mailbox_.Post([e = std::current_exception()] { std::rethrow_exception(e); });
          }
          continue;
        }
      } else {
        wake_.wait(lock, ready);
      }
      if (queue_.empty()) break;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    try {
      job(*store);
    } catch (...) {
      mailbox_.Post([e = std::current_exception()] { std::rethrow_exception(e); });
    }
    idle_done = false;
    std::lock_guard lock(mutex_);
    --running_;
  }
  if (hooks_.idle) {
    try {
      hooks_.idle(*store);
    } catch (...) {
      mailbox_.Post([e = std::current_exception()] { std::rethrow_exception(e); });
    }
  }
  if (hooks_.teardown) hooks_.teardown(*store);
}

}  // namespace carehub
