// Compaction of an existing hub (issue 16, docs/STORE.md "Existing hubs"): change-log bodies
// stored raw (written before migration step 12, or before their schema had a dictionary) are
// compressed with their schema's dictionary, training one from the stored raw bodies where the
// schema has none, and the file is then given back its free pages with VACUUM.
// Contract: what every read hands out is unchanged (bodies, hashes, digests, served batches):
// each body is compressed, decompressed again and compared before its row is rewritten, and a
// body that is not a single object or whose schema cannot train stays raw. Rows are rewritten
// in transactions of `batch_rows`, so a crash (kill -9) at any point leaves a consistent store
// in which the remaining raw bodies are compressed by the next run. Safe while `serve` runs
// (the batches take turns with its writer); VACUUM wants the hub to itself and free disk of the
// file's size, and is skipped, with the reason, when it cannot have them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "hub/store/store.h"

namespace carehub {

struct CompactOptions {
  std::int64_t batch_rows = 10000;  // change rows rewritten per transaction
  bool vacuum = true;
  // Called after each committed batch with the rows compressed so far (may throw to stop).
  std::function<void(std::int64_t compressed)> progress = nullptr;
};

struct CompactReport {
  std::int64_t raw_before = 0;         // change rows stored raw when compaction started
  std::int64_t compressed = 0;         // of those, now stored compressed
  std::int64_t raw_after = 0;          // still raw (schema without a dictionary, not an object)
  std::int64_t body_bytes_before = 0;  // stored bytes of the rows compressed, before and after
  std::int64_t body_bytes_after = 0;
  std::int64_t file_bytes_before = 0;  // carehub.db (after a checkpoint), before and after
  std::int64_t file_bytes_after = 0;
  bool vacuumed = false;
  std::optional<std::string> vacuum_skipped;  // why VACUUM did not run (nullopt: it ran or
                                              // was not asked for)
};

CompactReport CompactBodies(Store& store, const CompactOptions& options = {});

}  // namespace carehub
