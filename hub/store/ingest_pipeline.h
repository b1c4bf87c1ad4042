// The hand-over between the reading thread of an ingest (parsing, validation, encoding, body
// compression) and one writer thread (SQLite), so the two overlap. At most a few chunks are
// in flight; the reader blocks when they are all queued, which bounds memory. Chunks are recycled
// so their vectors keep their capacity; the reading thread empties them (NewChunk). A failure of
// the write function ends the writer thread, calls `on_failure` there, and is rethrown to the
// reader at its next Hand() or at Finish(). Contract: current(), Hand() and Finish() are called
// from one (the reading) thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/store/ingest_batch.h"

namespace carehub {

class ChunkPipeline {
 public:
  static constexpr std::size_t kChunkRows = 4096;
  static constexpr std::size_t kChunksInFlight = 4;

  // Starts the writer thread, which calls `write` for every chunk in order.
  ChunkPipeline(std::function<void(IngestChunk&)> write, std::function<void()> on_failure);
  // Stops the writer thread; chunks still queued are dropped (not written).
  ~ChunkPipeline();
  ChunkPipeline(const ChunkPipeline&) = delete;
  ChunkPipeline& operator=(const ChunkPipeline&) = delete;

  // The chunk the reader is filling.
  IngestChunk& current() { return *current_; }
  // Queues the current chunk for the writer (the last one when `last`) and starts a new one;
  // blocks while kChunksInFlight are queued; rethrows a writer failure.
  void Hand(bool last);
  // Hands the current chunk as the last, waits for the writer to drain, rethrows its failure.
  void Finish();

 private:
  void WriterLoop();
  std::unique_ptr<IngestChunk> TakeNext();
  std::unique_ptr<IngestChunk> NewChunk();
  void Recycle(std::unique_ptr<IngestChunk> chunk);
  void Fail();

  std::function<void(IngestChunk&)> write_;
  std::function<void()> on_failure_;
  std::unique_ptr<IngestChunk> current_;
  std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<std::unique_ptr<IngestChunk>> queue_;
  std::vector<std::unique_ptr<IngestChunk>> written_;  // by the writer, still holding their rows
  std::vector<std::unique_ptr<IngestChunk>> spare_;    // emptied; the reading thread's only
  bool finished_ = false;
  bool stop_ = false;
  std::exception_ptr failure_;
  std::thread writer_;  // last: started after every other member exists
};

}  // namespace carehub
