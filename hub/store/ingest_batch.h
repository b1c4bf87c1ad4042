// The store writes of one ingest run: the run's row in ingest_runs (start or resume), and the
// batches. A batch is ONE transaction holding its records, record_persons, change-log entries,
// signed heads, quarantine rows and the run's progress; it is opened by the first chunk written
// into it and committed by the chunk marked `commit`. Prepared records come from PrepareRecord
// (any thread). An IngestBatchWriter's CompressBodies is called by one thread (the reading
// thread), everything else by one other thread at a time (the ingest writer thread).
// Destroying a writer with an open batch rolls the batch back, as a crash would lose it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "hub/store/body_codec.h"
#include "hub/store/bulk_load.h"
#include "hub/store/ingest.h"
#include "hub/store/person_rows.h"
#include "hub/store/store.h"

namespace carehub {

// One accepted row, Avro-encoded and hashed on the reading thread; its compressed body is filled
// in by IngestBatchWriter::CompressBodies before the chunk is handed to the writer. Compact on
// purpose (no CanonicalRecord): batches of tens of thousands of rows stay at a few tens of MB.
struct PreparedRecord {
  std::string record_id;
  std::int64_t record_key = 0;  // RecordKey(record_id)
  RecordKind kind = RecordKind::kAssessment;
  RecordStatus status = RecordStatus::kActive;
  int version = 1;
  std::string body;       // single object with version 1
  Hash256 record_hash{};  // SHA-256(body)
  DictionaryPtr dict;     // `body` compressed into `stored` with it (writer thread); null: raw
  std::string stored;
  Hash256 content_hash{};  // records.content_hash (store.h ContentHash)
  RecordColumns columns;
  std::int64_t source_row = 0;  // provenance: the row of the file it came from
};

// Encodes an accepted record as version 1 (the writer re-encodes the rare new versions).
// `scratch` is reused between calls to keep allocations down.
PreparedRecord PrepareRecord(CanonicalRecord&& record, std::string& scratch);

// A slice of the rows of one batch, handed from the reading to the writing thread. Batches
// (transactions) are large to keep the number of commits low; chunks keep memory small.
struct IngestChunk {
  std::vector<PreparedRecord> records;
  std::vector<Rejection> rejections;
  std::int64_t last_row = 0;  // ordinal of the last row of the file this chunk covers
  std::int64_t read = 0;
  bool commit = false;  // the last chunk of a batch: commit after it

  void Clear();
};

class IngestBatchWriter {
 public:
  // Starts a new run of `file` or resumes the last unfinished run with the same SHA-256 and
  // profile, and switches the connection to bulk-write mode (bigger cache, checkpoints on
  // their own thread) until destroyed.
  IngestBatchWriter(Store& store, const std::string& file, const std::string& file_sha256,
                    const std::string& profile, const IngestOptions& options);
  ~IngestBatchWriter();
  IngestBatchWriter(const IngestBatchWriter&) = delete;
  IngestBatchWriter& operator=(const IngestBatchWriter&) = delete;

  // Rows of the file an interrupted earlier run already stored (0 for a new run).
  std::int64_t rows_already_done() const { return summary_.resumed_after_row; }
  // The counters as committed (the open batch excluded).
  const IngestSummary& committed() const { return summary_; }

  // Compresses the bodies of the next chunk (training a schema's dictionary from its first
  // bodies); called for every chunk, in file order, by one thread (the reading thread, before
  // it hands the chunk over), before Write.
  void CompressBodies(std::vector<PreparedRecord>& records);
  // Writes the chunk into the open batch (beginning one if none is open) and commits the batch
  // when the chunk is its last. An empty chunk with no open batch writes nothing.
  void Write(IngestChunk& chunk);
  // Rolls back the open batch, if any.
  void Abort();
  // Marks the run complete (after the last batch was committed).
  void MarkRunComplete();

 private:
  void StartOrResume(const std::string& sha);
  void BeginBatch();
  void WriteRecords(std::vector<PreparedRecord>& records);
  void WriteNewVersion(PreparedRecord& p, int old_version, ChangeOp op);
  void WriteQuarantine(const std::vector<Rejection>& rejections);
  void ResolveQuarantine(const PreparedRecord& p);
  void CommitBatch();
  std::int64_t Append(const PreparedRecord& p, ChangeOp op);
  void InsertTokens(const PreparedRecord& p);
  void WriteRecord(const PreparedRecord& r, bool exists, std::int64_t seq);
  void DropOldTokens(const PreparedRecord& now);

  Store& store_;
  sqlite::Database& db_;
  std::string file_;
  std::string profile_;
  std::function<std::int64_t()> now_ms_;
  ChangeLogWriter log_;
  BodyEncoder encoder_;                        // CompressBodies' (the reading thread's)
  zstd::Compressor compressor_;                // new versions, re-encoded on this thread
  std::set<std::int64_t> batch_dictionaries_;  // stored in the open batch already
  sqlite::Statement lookup_, old_body_, insert_record_, update_record_, insert_quarantine_,
      resolve_by_record_, resolve_by_row_, progress_;
  PersonRows persons_;     // the open batch's record_persons rows, written at its commit
  IngestSummary summary_;  // as committed
  std::unique_ptr<sqlite::BulkWriteMode> bulk_;  // declared before batch_tx_: outlives it
  std::optional<BulkLoad> load_;                 // likewise (rebuilds indexes of an aborted run)

  // The open batch.
  std::optional<sqlite::Transaction> batch_tx_;
  bool earlier_runs_open_ = false;  // a row quarantined by an earlier run is still open
  std::int64_t batch_at_ms_ = 0;
  IngestSummary next_;  // counters including the open batch
  bool appended_ = false;
  std::int64_t signed_seq_ = 0;  // the last seq this run signed a head at
  std::int64_t last_row_ = 0;
};

}  // namespace carehub
