#include "hub/store/ingest_pipeline.h"

#include <utility>

namespace carehub {

ChunkPipeline::ChunkPipeline(std::function<void(IngestChunk&)> write,
                             std::function<void()> on_failure)
    : write_(std::move(write)), on_failure_(std::move(on_failure)) {
  current_ = NewChunk();  // in the body: NewChunk locks mutex_, declared after current_
  writer_ = std::thread([this] { WriterLoop(); });
}

ChunkPipeline::~ChunkPipeline() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  ready_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void ChunkPipeline::Hand(bool last) {
  std::unique_lock lock(mutex_);
  space_.wait(lock, [this] { return queue_.size() < kChunksInFlight || failure_; });
  if (failure_) std::rethrow_exception(failure_);
  if (last) {
    current_->commit = true;
    finished_ = true;
  }
  queue_.push_back(std::move(current_));
  lock.unlock();
  ready_.notify_one();
  current_ = NewChunk();
}

void ChunkPipeline::Finish() {
  Hand(true);
  writer_.join();
  if (failure_) std::rethrow_exception(failure_);
}

void ChunkPipeline::WriterLoop() {
  while (std::unique_ptr<IngestChunk> chunk = TakeNext()) {
    try {
      write_(*chunk);
      Recycle(std::move(chunk));
    } catch (...) {
      Fail();
      return;
    }
  }
}

// The next queued chunk; null when stopped, or finished and drained.
std::unique_ptr<IngestChunk> ChunkPipeline::TakeNext() {
  std::unique_ptr<IngestChunk> chunk;
  {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !queue_.empty() || stop_ || finished_; });
    if (queue_.empty()) return nullptr;
    chunk = std::move(queue_.front());
    queue_.pop_front();
  }
  space_.notify_one();
  return chunk;
}

// Runs on the writer thread inside a catch block: remembers the exception for the reader.
void ChunkPipeline::Fail() {
  on_failure_();
  std::lock_guard lock(mutex_);
  failure_ = std::current_exception();
  queue_.clear();
  space_.notify_all();
}

// Runs on the reading thread: the chunks the writer is done with are emptied here, by the thread
// that allocated their rows (freed on the writer thread, the rows went back to the reader's
// malloc arena under its lock, one by one, and the reader's next rows missed its thread cache),
// all of them at once, so none keeps its rows past the next hand-over.
std::unique_ptr<IngestChunk> ChunkPipeline::NewChunk() {
  std::vector<std::unique_ptr<IngestChunk>> written;
  {
    std::lock_guard lock(mutex_);
    written.swap(written_);
  }
  for (std::unique_ptr<IngestChunk>& chunk : written) {
    chunk->Clear();
    spare_.push_back(std::move(chunk));
  }
  if (!spare_.empty()) {
    std::unique_ptr<IngestChunk> chunk = std::move(spare_.back());
    spare_.pop_back();
    return chunk;
  }
  auto chunk = std::make_unique<IngestChunk>();
  chunk->records.reserve(kChunkRows);
  return chunk;
}

void ChunkPipeline::Recycle(std::unique_ptr<IngestChunk> chunk) {
  std::lock_guard lock(mutex_);
  written_.push_back(std::move(chunk));
}

}  // namespace carehub
