#include "hub/store/ingest.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "connectors/profile.h"
#include "hub/store/lookup_keys.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace fs = std::filesystem;
namespace {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view Bytes(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// One accepted row, encoded on the reading thread. Compact on purpose (no CanonicalRecord):
// batches of tens of thousands of rows stay at a few tens of MB.
struct PreparedRecord {
  std::string record_id;
  std::int64_t record_key = 0;  // RecordKey(record_id)
  RecordKind kind = RecordKind::kAssessment;
  RecordStatus status = RecordStatus::kActive;
  int version = 1;
  std::string body;        // single object with version 1
  Hash256 record_hash{};   // SHA-256(body)
  Hash256 content_hash{};  // records.content_hash (store.h ContentHash)
  RecordColumns columns;
};

// A slice of the rows of one batch, handed from the reading to the writing thread. Batches
// (transactions) are large to keep the number of commits low; chunks keep memory small.
struct Chunk {
  std::vector<PreparedRecord> records;
  std::vector<Rejection> rejections;
  std::int64_t last_row = 0;  // ordinal of the last row of the file this chunk covers
  std::int64_t read = 0;
  bool commit = false;  // the last chunk of a batch: commit after it
};

constexpr std::size_t kChunkRows = 4096;
constexpr std::size_t kChunksInFlight = 4;
// Signed heads at least this often in the change log (plus one at every commit): the exchange
// serves at most kMaxServedEntries (20000) entries per batch when heads allow it.
constexpr std::int64_t kSignedHeadEvery = 10000;

}  // namespace

std::string SummaryLine(const IngestSummary& s) {
  return "read=" + std::to_string(s.read) + " accepted=" + std::to_string(s.accepted) +
         " quarantined=" + std::to_string(s.quarantined) +
         " inserted=" + std::to_string(s.inserted) + " updated=" + std::to_string(s.updated) +
         " unchanged=" + std::to_string(s.unchanged);
}

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::IoError("cannot open " + path);
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0) {
      crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                                static_cast<unsigned long long>(n));
    }
  }
  if (in.bad()) throw Error::IoError("cannot read " + path);
  Hash256 digest{};
  crypto_hash_sha256_final(&state, digest.data());
  return ToHex(digest);
}

EngineOptions EngineOptionsFor(const Store& store, std::function<std::int64_t()> now_ms) {
  EngineOptions options;
  options.origin_region = store.region();
  options.federation_key = store.federation_key();
  options.now_ms = now_ms ? std::move(now_ms) : SystemNowMs;
  return options;
}

// The writer: owns every statement; runs on the writer thread only.
struct IngestSink::Impl {
  Impl(Store& s, const std::string& f, const std::string& sha, const std::string& prof,
       const IngestOptions& opts)
      : store(s),
        db(s.db()),
        file(f),
        profile(prof),
        options(opts),
        now_ms(opts.now_ms ? opts.now_ms : SystemNowMs),
        log(s.db(), s.region()),
        lookup(db,
               "SELECT version, content_hash FROM records WHERE record_key = ? AND record_id = ?"),
        old_body(db, "SELECT body FROM records WHERE record_key = ? AND record_id = ?"),
        insert_record(db,
                      "INSERT INTO records(record_id, record_key, kind, origin, version, status, "
                      "subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, "
                      "content_hash, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        update_record(db,
                      "UPDATE records SET kind = ?3, origin = ?4, version = ?5, status = ?6, "
                      "subject_org = ?7, pivot_level = ?8, effective_on = ?9, valid_until = ?10, "
                      "seq = ?11, fingerprint = ?12, content_hash = ?13, body = ?14 "
                      "WHERE record_key = ?2 AND record_id = ?1"),
        insert_person(db,
                      "INSERT OR IGNORE INTO record_persons(token_key, record_key) VALUES(?, ?)"),
        delete_person(db, "DELETE FROM record_persons WHERE token_key = ? AND record_key = ?"),
        insert_quarantine(db,
                          "INSERT OR REPLACE INTO quarantine(run_id, file, row, field, reason, "
                          "raw, at) VALUES(?, ?, ?, ?, ?, ?, ?)"),
        progress(db,
                 "UPDATE ingest_runs SET rows_done = ?2, read = ?3, accepted = ?4, "
                 "quarantined = ?5, inserted = ?6, updated = ?7, unchanged = ?8 WHERE id = ?1") {
    if (options.batch_size < 1) throw Error::InvalidInput("batch size must be at least 1");
    store_rows = store.RecordCountEstimate();
    summary.file = file;
    summary.profile = profile;
    StartOrResume(sha);
    for (const SchemaInfo& schema : BuiltinSchemas()) {
      store.RememberSchema(schema.fingerprint, schema.name, schema.json);
    }
    // A bigger page cache keeps more of the random-key indexes (record id, person token)
    // in memory; checkpoints move to their own thread (restored in the destructor).
    bulk = std::make_unique<sqlite::BulkWriteMode>(db, static_cast<int>(options.cache_mib));
    current = NewChunk();
    writer = std::thread([this] { WriterLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mutex);
      stop = true;
      queue.clear();
    }
    ready.notify_all();
    if (writer.joinable()) writer.join();
    batch_tx.reset();  // an unfinished batch is rolled back, as a crash would lose it
    bulk.reset();
  }

  void StartOrResume(const std::string& sha) {
    sqlite::Statement find(db,
                           "SELECT id, rows_done, read, accepted, quarantined, inserted, updated, "
                           "unchanged FROM ingest_runs WHERE file_sha256 = ? AND profile = ? AND "
                           "complete = 0 ORDER BY id DESC LIMIT 1");
    find.Bind(1, sha).Bind(2, profile);
    if (find.Step()) {
      summary.run_id = find.ColumnInt64(0);
      skip_rows = find.ColumnInt64(1);
      summary.resumed_after_row = skip_rows;
      summary.read = find.ColumnInt64(2);
      summary.accepted = find.ColumnInt64(3);
      summary.quarantined = find.ColumnInt64(4);
      summary.inserted = find.ColumnInt64(5);
      summary.updated = find.ColumnInt64(6);
      summary.unchanged = find.ColumnInt64(7);
      return;
    }
    sqlite::Transaction tx(db);
    sqlite::Statement insert(db,
                             "INSERT INTO ingest_runs(file, file_sha256, profile, started_at, "
                             "rows_done, read, accepted, quarantined, inserted, updated, "
                             "unchanged, complete) VALUES(?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)");
    insert.Bind(1, file).Bind(2, sha).Bind(3, profile).Bind(4, now_ms()).Run();
    summary.run_id = db.LastInsertRowid();
    tx.Commit();
  }

  // --- reading thread ---------------------------------------------------------------------
  bool Skipping() {
    ++row;
    if (row > skip_rows) return false;
    return true;
  }

  // Accepted rows of the next batch: fixed, or growing with the store (see IngestOptions).
  std::int64_t BatchTarget() const {
    return GrowingBatchSize(store_rows, options.batch_size, options.max_batch_size);
  }

  // The record was prepared in place at the end of the current chunk.
  void Added() {
    Count();
    if (accepted_in_batch == 0) batch_target = BatchTarget();
    ++store_rows;
    if (++accepted_in_batch == batch_target) {
      accepted_in_batch = 0;
      current->commit = true;
      Hand(false);
    } else if (current->records.size() >= kChunkRows) {
      Hand(false);
    }
  }

  void Rejected() {
    Count();
    if (static_cast<std::size_t>(current->read) >= 4 * kChunkRows) Hand(false);
  }

  void Count() {
    current->last_row = row;
    ++current->read;
  }

  // Passes the current chunk to the writer; blocks while kChunksInFlight are queued.
  void Hand(bool last) {
    std::unique_lock lock(mutex);
    space.wait(lock, [this] { return queue.size() < kChunksInFlight || failure; });
    if (failure) std::rethrow_exception(failure);
    if (last) {
      current->commit = true;
      finished = true;
    }
    queue.push_back(std::move(current));
    lock.unlock();
    ready.notify_one();
    current = NewChunk();
  }

  // Chunks are recycled so that their vectors keep their capacity (no page faults of fresh
  // memory for every chunk).
  std::unique_ptr<Chunk> NewChunk() {
    {
      std::lock_guard lock(mutex);
      if (!spare.empty()) {
        auto chunk = std::move(spare.back());
        spare.pop_back();
        return chunk;
      }
    }
    auto chunk = std::make_unique<Chunk>();
    chunk->records.reserve(kChunkRows);
    return chunk;
  }

  void Recycle(std::unique_ptr<Chunk> chunk) {
    chunk->records.clear();
    chunk->rejections.clear();
    chunk->read = 0;
    chunk->last_row = 0;
    chunk->commit = false;
    std::lock_guard lock(mutex);
    spare.push_back(std::move(chunk));
  }

  // --- writer thread ----------------------------------------------------------------------
  void WriterLoop() {
    for (;;) {
      std::unique_ptr<Chunk> chunk;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [this] { return !queue.empty() || stop || (finished && queue.empty()); });
        if (queue.empty()) return;  // stop, or finished and drained
        chunk = std::move(queue.front());
        queue.pop_front();
      }
      space.notify_one();
      if (chunk->read == 0 && !batch_tx) continue;  // an empty last chunk: nothing to commit
      try {
        Write(*chunk);
        Recycle(std::move(chunk));
      } catch (...) {
        batch_tx.reset();  // rolls back the open batch
        std::lock_guard lock(mutex);
        failure = std::current_exception();
        queue.clear();
        space.notify_all();
        return;
      }
    }
  }

  // Writes one chunk into the open batch transaction (begun at the batch's first chunk);
  // commits at the batch's last chunk.
  void Write(Chunk& chunk) {
    if (!batch_tx) {
      batch_tx.emplace(db);
      // Another process (a retract) may have appended to this origin's log since the last
      // batch; the write lock is ours now, so the tip read here stays valid until commit.
      log.Reload();
      next = summary;
      appended = false;
    }
    for (PreparedRecord& p : chunk.records) {
      const ChangeOp op =
          p.status == RecordStatus::kRetracted ? ChangeOp::kRetract : ChangeOp::kUpsert;
      // One probe of the compact record_key index decides between insert (the common case)
      // and update; the write lock is held, so nobody inserts the id in between. The body was
      // encoded with version 1 on the reading thread.
      lookup.Bind(1, p.record_key).BindTextStatic(2, p.record_id);
      if (!lookup.Step()) {
        lookup.Reset();
        p.version = 1;
        WriteRecord(p, false, log.tip().seq + 1);
        Append(p, op);
        InsertTokens(p);
        ++next.inserted;
        continue;
      }
      const int old_version = lookup.ColumnInt(0);
      const bool same = lookup.ColumnBlob(1) == Bytes(p.content_hash);
      lookup.Reset();
      if (same) {
        ++next.unchanged;
        continue;
      }
      // A new version: rare, so the record is decoded back rather than kept in the batch.
      CanonicalRecord record = DecodeSingleObject(p.body);
      p.version = record.version = old_version + 1;
      p.body = EncodeSingleObject(record);
      p.record_hash = RecordHash(p.body);
      DropOldTokens(p);
      const std::int64_t seq = Append(p, op);
      WriteRecord(p, true, seq);
      InsertTokens(p);
      ++next.updated;
    }
    const std::int64_t at = now_ms();
    for (const Rejection& q : chunk.rejections) {
      insert_quarantine.Bind(1, summary.run_id)
          .BindTextStatic(2, file)
          .Bind(3, q.row)
          .BindTextStatic(4, q.field)
          .BindTextStatic(5, q.reason)
          .BindTextStatic(6, q.raw)
          .Bind(7, at)
          .Run();
    }
    next.quarantined += static_cast<std::int64_t>(chunk.rejections.size());
    next.accepted += static_cast<std::int64_t>(chunk.records.size());
    next.read += chunk.read;
    if (chunk.last_row > 0) last_row = chunk.last_row;
    if (!chunk.commit) return;
    progress.Bind(1, summary.run_id)
        .Bind(2, last_row)
        .Bind(3, next.read)
        .Bind(4, next.accepted)
        .Bind(5, next.quarantined)
        .Bind(6, next.inserted)
        .Bind(7, next.updated)
        .Bind(8, next.unchanged)
        .Run();
    if (appended && log.tip().seq != signed_seq) log.StoreSignedHead(store.keys());
    batch_tx->Commit();
    batch_tx.reset();
    summary = next;
    bulk->Poke();
  }

  // Appends the change-log entry of `p`; every kSignedHeadEvery seqs also signs a head (kept
  // in signed_heads with the batch), so that peers are served batches of bounded size however
  // large an ingest batch is (a served batch ends at a signed head, docs/PROTOCOL.md).
  std::int64_t Append(const PreparedRecord& p, ChangeOp op) {
    const std::int64_t seq = log.Append(p.record_id, op, p.version, p.body, p.record_hash);
    appended = true;
    if (seq % kSignedHeadEvery == 0) {
      log.StoreSignedHead(store.keys());
      signed_seq = seq;
    }
    return seq;
  }

  void InsertTokens(const PreparedRecord& p) {
    for (const Hmac256& token : p.columns.tokens) {
      insert_person.Bind(1, TokenKey(token)).Bind(2, p.record_key).Run();
    }
  }

  // Updates the stored record (exists) or inserts it (the caller found no row with its id).
  // Both statements number their parameters alike (the update ignores kind and origin).
  void WriteRecord(const PreparedRecord& r, bool exists, std::int64_t seq) {
    const RecordColumns& c = r.columns;
    const auto fingerprint = static_cast<std::int64_t>(SchemaFor(r.kind).fingerprint);
    (exists ? update_record : insert_record)
        .BindTextStatic(1, r.record_id)
        .Bind(2, r.record_key)
        .BindTextStatic(3, KindName(r.kind))
        .BindTextStatic(4, store.region())
        .Bind(5, r.version)
        .BindTextStatic(6, StatusName(r.status))
        .Bind(7, c.subject_org)
        .Bind(8, c.pivot_level)
        .Bind(9, c.effective_on)
        .Bind(10, c.valid_until)
        .Bind(11, seq)
        .Bind(12, fingerprint)
        .BindBlobStatic(13, Bytes(r.content_hash))
        .BindBlobStatic(14, r.body)
        .Run();
  }

  // Removes the person keys the previous version had and the new one has not.
  void DropOldTokens(const PreparedRecord& now) {
    old_body.Bind(1, now.record_key).BindTextStatic(2, now.record_id);
    if (!old_body.Step()) {
      old_body.Reset();
      return;
    }
    const CanonicalRecord previous = DecodeSingleObject(old_body.ColumnBlob(0));
    old_body.Reset();
    for (const std::int64_t key :
         DroppedTokenKeys(ColumnsOf(previous).tokens, now.columns.tokens)) {
      delete_person.Bind(1, key).Bind(2, now.record_key).Run();
    }
  }

  Store& store;
  sqlite::Database& db;
  std::string file;
  std::string profile;
  IngestOptions options;
  std::function<std::int64_t()> now_ms;
  ChangeLogWriter log;
  sqlite::Statement lookup, old_body, insert_record, update_record, insert_person, delete_person,
      insert_quarantine, progress;
  IngestSummary summary;  // as committed; written by the writer thread only
  std::int64_t skip_rows = 0;
  std::int64_t row = 0;  // ordinal of the last row received (reading thread)
  std::string scratch;   // reading thread
  std::unique_ptr<Chunk> current;
  std::int64_t accepted_in_batch = 0;  // reading thread
  std::int64_t batch_target = 0;       // reading thread: rows of the open batch
  // Reading thread: rows in the store (max rowid at the start) plus the rows accepted since,
  // an estimate that does not wait for the writer (the reader runs ahead of the commits).
  std::int64_t store_rows = 0;

  // Writer thread: the open batch.
  std::optional<sqlite::Transaction> batch_tx;
  IngestSummary next;  // counters including the open batch
  bool appended = false;
  std::int64_t signed_seq = 0;  // the last seq this run signed a head at
  std::int64_t last_row = 0;

  std::mutex mutex;
  std::condition_variable ready, space;
  std::deque<std::unique_ptr<Chunk>> queue;
  std::vector<std::unique_ptr<Chunk>> spare;
  bool finished = false;
  bool stop = false;
  std::exception_ptr failure;
  std::unique_ptr<sqlite::BulkWriteMode> bulk;  // declared before `writer`: outlives it
  std::thread writer;
};

IngestSink::IngestSink(Store& store, const std::string& file, const std::string& file_sha256,
                       const std::string& profile, const IngestOptions& options)
    : impl_(std::make_unique<Impl>(store, file, file_sha256, profile, options)) {}

IngestSink::~IngestSink() = default;

void IngestSink::Accept(CanonicalRecord&& record) {
  Impl& s = *impl_;
  if (s.Skipping()) return;
  PreparedRecord& p = s.current->records.emplace_back();
  record.version = 1;
  p.content_hash = ContentHash(record, s.scratch);
  p.body = EncodeSingleObject(record);
  p.record_hash = RecordHash(p.body);
  p.columns = ColumnsOf(record);
  p.record_id = std::move(record.record_id);
  p.record_key = RecordKey(p.record_id);
  p.kind = record.kind();
  p.status = record.status;
  s.Added();
}

void IngestSink::Reject(Rejection&& rejection) {
  Impl& s = *impl_;
  if (s.Skipping()) return;
  s.current->rejections.push_back(std::move(rejection));
  s.Rejected();
}

IngestSummary IngestSink::Finish() {
  Impl& s = *impl_;
  s.Hand(true);
  s.writer.join();
  if (s.failure) std::rethrow_exception(s.failure);
  sqlite::Transaction tx(s.db);
  sqlite::Statement done(s.db, "UPDATE ingest_runs SET complete = 1, finished_at = ? WHERE id = ?");
  done.Bind(1, s.now_ms()).Bind(2, s.summary.run_id).Run();
  tx.Commit();
  return s.summary;
}

IngestSummary Ingester::IngestFile(const std::string& path, const IngestOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error::IoError("cannot read " + path + ": not a readable file");
  }
  const std::string sha = FileSha256(path);
  const Profile& profile =
      options.profile ? engine_.FindProfile(*options.profile) : engine_.DetectProfile(path);
  const std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  IngestSink sink(store_, absolute.empty() ? path : absolute, sha, profile.name, options);
  engine_.Read(path, profile, sink, options.on_progress);
  IngestSummary summary = sink.Finish();
  summary.file = path;
  return summary;
}

}  // namespace carehub
