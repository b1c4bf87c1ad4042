// Two-stage delivery for the connector engine: the reading, decoding, validation and record
// building of a file run on a worker thread, while the caller's thread hands the outcomes to the
// caller's RecordSink in file order (so a hub's Avro encoding and SQLite writes overlap with the
// engine's parsing and hashing on a second core). Batches are bounded, so memory stays constant.
// An exception on either side stops both and is rethrown on the calling thread.
#pragma once

#include <cstdint>
#include <functional>

#include "connectors/connector.h"

namespace carehub {

using ProgressFn = std::function<void(std::uint64_t, std::uint64_t)>;

// Runs produce(worker_sink, worker_progress) on a worker thread; calls `sink` and `on_progress`
// on this thread only. Returns when the producer is done and every outcome was delivered.
void RunPipelined(const std::function<void(RecordSink&, const ProgressFn&)>& produce,
                  RecordSink& sink, const ProgressFn& on_progress);

}  // namespace carehub
