// Ingest: native file -> ConnectorEngine -> canonical records -> the store, in batches of
// `batch_size` accepted rows, each batch ONE BEGIN IMMEDIATE transaction holding its records,
// record_persons, change-log entries, the new signed head, its quarantine rows and the run's
// progress (ingest_runs.rows_done + counters). A crash leaves whole batches only; running the
// same file again resumes the unfinished run after rows_done (same SHA-256 and profile), and
// rows already stored with the same content are "unchanged" (no write, no change-log entry).
// Parsing, validation, Avro encoding and hashing run on the calling thread; compression and
// the SQLite writes on one writer thread, so the two overlap. Thread-safety: an Ingester uses its
// Store exclusively while a file is ingested.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "connectors/connector.h"
#include "hub/store/store.h"

namespace carehub {

struct IngestOptions {
  // Accepted rows per transaction. >= 1000 for real runs (the store contract); tests may use
  // less. Larger batches amortise the commit and head signature, smaller ones lose less on a
  // crash. Every commit writes each index page it dirtied to the WAL, and the random-key
  // indexes spread a batch over most of their pages, so fewer, larger commits write far less:
  // at 1M rows 10000 -> 42 s and 10 GB written, 50000 -> 29 s and 4 GB (a batch is ~20 MB).
  std::int64_t batch_size = 50000;
  // When above batch_size, batches grow with the store: (rows in the store) / 8, between
  // batch_size and max_batch_size. Each commit rewrites the index pages the batch touched, which
  // for random keys is nearly the whole index once it is larger than a batch; growing batches
  // keep that cost per row bounded (5M rows: 216 s with 50k batches, 143 s with 500k). Larger
  // batches hold the write lock longer (a relayed batch waits, see Exchange) and a crash loses
  // more work (never consistency). 0 or <= batch_size: every batch has batch_size rows.
  std::int64_t max_batch_size = 0;
  // SQLite page cache of the ingest connection in MiB: the person-token and record-id indexes
  // take random inserts, so the more of them stays cached the fewer pages are re-read and
  // re-written per batch. Counts towards peak RSS.
  std::int64_t cache_mib = 64;
  // The bulk path of a load into a store holding none of this hub's records (hub/store/
  // bulk_load.h): no id probes, the record indexes built at the end. Tests turn it off to
  // compare.
  bool bulk_load = true;
  // Profile name ("shanghai/assessment"); detected from the file when empty.
  std::optional<std::string> profile = std::nullopt;
  // Called now and then with (bytes read, file size).
  std::function<void(std::uint64_t, std::uint64_t)> on_progress = nullptr;
  std::function<std::int64_t()> now_ms = nullptr;  // clock seam; system clock when empty
};

// Invariants: read == accepted + quarantined, accepted == inserted + updated + unchanged.
// For a resumed run the counters cover the whole file (earlier attempts included).
struct IngestSummary {
  std::string file;
  std::string profile;
  std::int64_t run_id = 0;
  std::int64_t read = 0;
  std::int64_t accepted = 0;
  std::int64_t quarantined = 0;
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
  std::int64_t resumed_after_row = 0;  // rows already done by an interrupted earlier run
};

// "read=N accepted=N quarantined=N inserted=N updated=N unchanged=N"
std::string SummaryLine(const IngestSummary& summary);

// SHA-256 of a file's bytes as lowercase hex; throws Error::IoError when unreadable.
std::string FileSha256(const std::string& path);

// The store side of an ingest run: receives rows from a connector (or a test) in file order
// and writes them batch by batch. Finish() must be called after the last row; destroying an
// unfinished sink discards the open batch (as a crash would).
class IngestSink : public RecordSink {
 public:
  // Starts a new run of `file` or resumes the last unfinished run with the same SHA-256 and
  // profile.
  IngestSink(Store& store, const std::string& file, const std::string& file_sha256,
             const std::string& profile, const IngestOptions& options);
  ~IngestSink() override;
  IngestSink(const IngestSink&) = delete;
  IngestSink& operator=(const IngestSink&) = delete;

  void Accept(CanonicalRecord&& record) override;
  void Reject(Rejection&& rejection) override;
  // Writes the last batch, marks the run complete and returns the summary. Rethrows any
  // error of the writer thread.
  IngestSummary Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Ingester {
 public:
  Ingester(Store& store, const ConnectorEngine& engine) : store_(store), engine_(engine) {}
  // Ingests one file. Throws Error::IoError for an unreadable file, Error::NotFound for an
  // unknown profile, Error::InvalidInput when no profile matches the file.
  IngestSummary IngestFile(const std::string& path, const IngestOptions& options = {});

 private:
  Store& store_;
  const ConnectorEngine& engine_;
};

// Engine options for this hub (origin = hub region, federation key, clock).
EngineOptions EngineOptionsFor(const Store& store, std::function<std::int64_t()> now_ms = {});

}  // namespace carehub
