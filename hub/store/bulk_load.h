// The bulk path of an ingest into a store that holds none of the hub's own records yet (a
// hub's first load, the common large ingest): the writer skips the per-record id probe, and
// when the store is small beside the file, the secondary indexes of `records` are dropped with
// the run's first batch and built once, sorted, at its end (docs/STORE.md "Bulk load").
//
// Why the probe may be skipped: a record id is derived from the hub's own region (every
// ingested record has this origin), so while this origin's log is empty no stored record can
// carry one of the file's ids, and the reader rejects an id repeated inside the file. The
// origin's log tip is checked under the write lock at every batch: when another writer appended
// to it since this run's last commit (a concurrent ingest or retract), the run leaves the bulk
// path for good (indexes built again first) and probes like any other ingest.
//
// Contract: the dropped indexes are derived data. A crash between the drop and the build
// leaves a consistent store without them: every query still answers (by scanning) and the
// next read-write open (Migrate -> RepairRecordIndexes) creates the missing ones. One thread.
#pragma once

#include <cstdint>
#include <string>

#include "hub/store/sqlite_db.h"

namespace carehub {

// True when every index a bulk load may drop exists.
bool RecordIndexesPresent(sqlite::Database& db);
// Creates the missing ones, in the caller's transaction when one is open.
void BuildRecordIndexes(sqlite::Database& db);
// At open: creates the missing indexes (a bulk load interrupted by a crash) in a transaction of
// its own. A failure (e.g. busy: a running bulk load of another process holds the write lock)
// is left for the next open: queries answer without the indexes, only slower.
void RepairRecordIndexes(sqlite::Database& db) noexcept;
// BuildRecordIndexes after a load that dropped them (BulkLoad, RelayedBulk): each built in one
// sorted pass with a 16 MiB page cache and one sorter thread, so the build's memory does not
// grow with the store; the connection's cache size is restored after.
void BuildRecordIndexesAfterLoad(sqlite::Database& db);

class BulkLoad {
 public:
  // Decides at the start of a run, before its first batch: the bulk path when `origin`'s log
  // is empty; the indexes dropped too when the store holds at most file_bytes / 512 records
  // (512 bytes: more than a row of any builtin format, so the file has at least that many rows;
  // rebuilding the indexes over the whole store then costs less than the random inserts of the
  // load). `enabled` false: never (IngestOptions::bulk_load).
  BulkLoad(sqlite::Database& db, const std::string& origin, const std::string& file, bool enabled);
  ~BulkLoad();  // builds indexes still dropped (an aborted run), errors ignored
  BulkLoad(const BulkLoad&) = delete;
  BulkLoad& operator=(const BulkLoad&) = delete;

  // True while no stored record can have an id of this run that the run did not write itself.
  bool skip_probe() const { return active_; }

  // At the start of each batch, in its transaction (write lock held), with the origin's tip as
  // read then: leaves the bulk path if someone else appended since Committed(), and drops the
  // indexes with the first batch.
  void BeginBatch(std::int64_t tip_seq);
  // After a batch commit, with the tip it left.
  void Committed(std::int64_t tip_seq) { expected_tip_ = tip_seq; }
  // At the end of the run, in the caller's transaction: builds the dropped indexes.
  void Finish();

 private:
  sqlite::Database& db_;
  bool active_ = false;
  bool drop_ = false;     // drop the indexes with the first batch
  bool dropped_ = false;  // dropped and not yet rebuilt
  std::int64_t expected_tip_ = 0;
};

}  // namespace carehub
