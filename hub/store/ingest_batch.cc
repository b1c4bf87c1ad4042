#include "hub/store/ingest_batch.h"

#include <chrono>

#include "hub/store/lookup_keys.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// Signed heads at least this often in the change log (plus one at every commit): the exchange
// serves at most kMaxServedEntries (20000) entries per batch when heads allow it.
constexpr std::int64_t kSignedHeadEvery = 10000;

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view Bytes(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

}  // namespace

PreparedRecord PrepareRecord(CanonicalRecord&& record, std::string& scratch) {
  PreparedRecord p;
  record.version = 1;
  // One encoding gives the body and the bytes of the content hash (same as ContentHash).
  p.body.reserve(256);
  AppendSingleObjectAndContent(record, p.body, scratch);
  p.content_hash = Sha256(scratch);
  p.record_hash = RecordHash(p.body);
  p.columns = ColumnsOf(record);
  p.record_id = std::move(record.record_id);
  p.record_key = RecordKey(p.record_id);
  p.kind = record.kind();
  p.status = record.status;
  p.source_row = record.provenance.source_row;
  return p;
}

void IngestChunk::Clear() {
  records.clear();
  rejections.clear();
  read = 0;
  last_row = 0;
  commit = false;
}

IngestBatchWriter::IngestBatchWriter(Store& store, const std::string& file,
                                     const std::string& file_sha256, const std::string& profile,
                                     const IngestOptions& options)
    : store_(store),
      db_(store.db()),
      file_(file),
      profile_(profile),
      now_ms_(options.now_ms ? options.now_ms : SystemNowMs),
      log_(store.db(), store.region()),
      encoder_(LoadBodyDictionaries(store.db().handle()), store.bodies().training_samples()),
      lookup_(db_,
              "SELECT version, content_hash FROM records WHERE record_key = ? AND record_id = ?"),
      // The body of the stored version lives in its change (docs/STORE.md).
      old_body_(db_, "SELECT " + std::string(kChangeBody) + " FROM " +
                         std::string(kRecordsWithBody) +
                         " WHERE r.record_key = ? AND r.record_id = ?"),
      insert_record_(db_,
                     "INSERT INTO records(record_id, record_key, kind, origin, version, status, "
                     "subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, "
                     "content_hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      update_record_(db_,
                     "UPDATE records SET kind = ?3, origin = ?4, version = ?5, status = ?6, "
                     "subject_org = ?7, pivot_level = ?8, effective_on = ?9, valid_until = ?10, "
                     "seq = ?11, fingerprint = ?12, content_hash = ?13 "
                     "WHERE record_key = ?2 AND record_id = ?1"),
      insert_quarantine_(db_,
                         "INSERT OR REPLACE INTO quarantine(run_id, file, row, field, reason, "
                         "raw, at, record_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"),
      resolve_by_record_(db_,
                         "UPDATE quarantine SET resolved_at = ?1, resolved_run = ?2 "
                         "WHERE record_id = ?3 AND resolved_at IS NULL"),
      resolve_by_row_(db_,
                      "UPDATE quarantine SET resolved_at = ?1, resolved_run = ?2 "
                      "WHERE file = ?3 AND row = ?4 AND resolved_at IS NULL"),
      progress_(db_,
                "UPDATE ingest_runs SET rows_done = ?2, read = ?3, accepted = ?4, "
                "quarantined = ?5, inserted = ?6, updated = ?7, unchanged = ?8 WHERE id = ?1"),
      persons_(db_) {
  if (options.batch_size < 1) throw Error::InvalidInput("batch size must be at least 1");
  summary_.file = file_;
  summary_.profile = profile_;
  StartOrResume(file_sha256);
  load_.emplace(db_, store_.region(), file_, options.bulk_load);
  for (const SchemaInfo& schema : BuiltinSchemas()) {
    store_.RememberSchema(schema.fingerprint, schema.name, schema.json);
  }
  // A bigger page cache keeps more of the random-key indexes (record id, person token)
  // in memory; checkpoints move to their own thread (restored in the destructor).
  bulk_ = std::make_unique<sqlite::BulkWriteMode>(db_, static_cast<int>(options.cache_mib));
}

IngestBatchWriter::~IngestBatchWriter() {
  batch_tx_.reset();  // an unfinished batch is rolled back, as a crash would lose it
  persons_.Clear();
  bulk_.reset();
}

void IngestBatchWriter::StartOrResume(const std::string& sha) {
  sqlite::Statement find(db_,
                         "SELECT id, rows_done, read, accepted, quarantined, inserted, updated, "
                         "unchanged FROM ingest_runs WHERE file_sha256 = ? AND profile = ? AND "
                         "complete = 0 ORDER BY id DESC LIMIT 1");
  find.Bind(1, sha).Bind(2, profile_);
  if (find.Step()) {
    summary_.run_id = find.ColumnInt64(0);
    summary_.resumed_after_row = find.ColumnInt64(1);
    summary_.read = find.ColumnInt64(2);
    summary_.accepted = find.ColumnInt64(3);
    summary_.quarantined = find.ColumnInt64(4);
    summary_.inserted = find.ColumnInt64(5);
    summary_.updated = find.ColumnInt64(6);
    summary_.unchanged = find.ColumnInt64(7);
    return;
  }
  sqlite::Transaction tx(db_);
  sqlite::Statement insert(db_,
                           "INSERT INTO ingest_runs(file, file_sha256, profile, started_at, "
                           "rows_done, read, accepted, quarantined, inserted, updated, "
                           "unchanged, complete) VALUES(?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)");
  insert.Bind(1, file_).Bind(2, sha).Bind(3, profile_).Bind(4, now_ms_()).Run();
  summary_.run_id = db_.LastInsertRowid();
  tx.Commit();
}

void IngestBatchWriter::Write(IngestChunk& chunk) {
  if (chunk.read == 0 && !batch_tx_) return;  // an empty last chunk: nothing to commit
  if (!batch_tx_) BeginBatch();
  WriteRecords(chunk.records);
  WriteQuarantine(chunk.rejections);
  next_.quarantined += static_cast<std::int64_t>(chunk.rejections.size());
  next_.accepted += static_cast<std::int64_t>(chunk.records.size());
  next_.read += chunk.read;
  if (chunk.last_row > 0) last_row_ = chunk.last_row;
  if (chunk.commit) {
    CommitBatch();
  } else if (persons_.Size() >= PersonRows::kQueuedAtMost) {
    persons_.Flush();
  }
}

void IngestBatchWriter::Abort() {
  batch_tx_.reset();
  persons_.Clear();
}

void IngestBatchWriter::MarkRunComplete() {
  sqlite::Transaction tx(db_);
  load_->Finish();  // the indexes a bulk load dropped, built sorted in one pass
  sqlite::Statement done(db_, "UPDATE ingest_runs SET complete = 1, finished_at = ? WHERE id = ?");
  done.Bind(1, now_ms_()).Bind(2, summary_.run_id).Run();
  tx.Commit();
}

void IngestBatchWriter::BeginBatch() {
  batch_tx_.emplace(db_);
  // Another process (a retract) may have appended to this origin's log since the last
  // batch; the write lock is ours now, so the tip read here stays valid until commit.
  log_.Reload();
  load_->BeginBatch(log_.tip().seq);
  next_ = summary_;
  appended_ = false;
  batch_dictionaries_.clear();
  // Only when an earlier run left rows open does each accepted record probe the quarantine
  // table (by its id and by its file row); rows of this run never match (ResolveQuarantine).
  sqlite::Statement open_rows(db_,
                              "SELECT EXISTS(SELECT 1 FROM quarantine WHERE resolved_at IS NULL "
                              "AND run_id <> ?)");
  open_rows.Bind(1, summary_.run_id);
  earlier_runs_open_ = open_rows.Step() && open_rows.ColumnInt(0) != 0;
  batch_at_ms_ = now_ms_();
}

// Every body compressed with its schema's dictionary. The body that completes the samples of a
// schema trains its dictionary; the rows of this chunk before it are compressed with it too (all
// of them when the samples fit in one chunk, as in a fresh hub's first file), earlier chunks stay
// raw. Chunks come in file order, so the dictionary and the stored bytes do not depend on the
// thread that compresses them (session 10: the writer; session 11: the reader again).
void IngestBatchWriter::CompressBodies(std::vector<PreparedRecord>& records) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    PreparedRecord& p = records[i];
    const std::size_t trained = encoder_.trained().size();
    p.dict = encoder_.Encode(p.body, p.stored);
    if (encoder_.trained().size() == trained) continue;
    const DictionaryPtr& d = encoder_.trained().back();
    for (std::size_t j = 0; j < i; ++j) {
      PreparedRecord& earlier = records[j];
      if (earlier.dict || SingleObjectFingerprint(earlier.body) != d->fingerprint) continue;
      encoder_.Compress(*d, earlier.body, earlier.stored);
      earlier.dict = d;
    }
  }
}

// A row quarantined by an earlier run (this record's id, or this very file row) is resolved now
// that the record is accepted; it stays as history. Rows this run quarantined never match: a
// file's rows are read once per run and a repeated record id in one file is itself rejected.
void IngestBatchWriter::ResolveQuarantine(const PreparedRecord& p) {
  if (!earlier_runs_open_) return;
  resolve_by_record_.Bind(1, batch_at_ms_)
      .Bind(2, summary_.run_id)
      .BindTextStatic(3, p.record_id)
      .Run();
  resolve_by_row_.Bind(1, batch_at_ms_)
      .Bind(2, summary_.run_id)
      .BindTextStatic(3, file_)
      .Bind(4, p.source_row)
      .Run();
}

void IngestBatchWriter::WriteRecords(std::vector<PreparedRecord>& records) {
  for (PreparedRecord& p : records) {
    ResolveQuarantine(p);
    const ChangeOp op =
        p.status == RecordStatus::kRetracted ? ChangeOp::kRetract : ChangeOp::kUpsert;
    // One probe of the compact record_key index decides between insert (the common case)
    // and update; the write lock is held, so nobody inserts the id in between. A bulk load
    // knows without probing that the id is new (bulk_load.h). The body was encoded with
    // version 1 on the reading thread.
    const bool known =
        !load_->skip_probe() && lookup_.Bind(1, p.record_key).BindTextStatic(2, p.record_id).Step();
    if (!known) {
      lookup_.Reset();
      p.version = 1;
      WriteRecord(p, false, log_.tip().seq + 1);
      Append(p, op);
      InsertTokens(p);
      ++next_.inserted;
      continue;
    }
    const int old_version = lookup_.ColumnInt(0);
    const bool same = lookup_.ColumnBlob(1) == Bytes(p.content_hash);
    lookup_.Reset();
    if (same) {
      ++next_.unchanged;
      continue;
    }
    WriteNewVersion(p, old_version, op);
  }
}

// A new version: rare, so the record is decoded back rather than kept in the batch.
void IngestBatchWriter::WriteNewVersion(PreparedRecord& p, int old_version, ChangeOp op) {
  CanonicalRecord record = DecodeSingleObject(p.body);
  p.version = record.version = old_version + 1;
  p.body = EncodeSingleObject(record);
  p.record_hash = RecordHash(p.body);
  if (p.dict) compressor_.Compress(p.dict->dict, p.body, p.stored);
  DropOldTokens(p);
  const std::int64_t seq = Append(p, op);
  WriteRecord(p, true, seq);
  InsertTokens(p);
  ++next_.updated;
}

void IngestBatchWriter::WriteQuarantine(const std::vector<Rejection>& rejections) {
  const std::int64_t at = now_ms_();
  for (const Rejection& q : rejections) {
    insert_quarantine_.Bind(1, summary_.run_id)
        .BindTextStatic(2, file_)
        .Bind(3, q.row)
        .BindTextStatic(4, q.field)
        .BindTextStatic(5, q.reason)
        .BindTextStatic(6, q.raw)
        .Bind(7, at);
    if (q.record_id.empty()) {
      insert_quarantine_.BindNull(8);
    } else {
      insert_quarantine_.BindTextStatic(8, q.record_id);
    }
    insert_quarantine_.Run();
  }
}

// Records the run's progress and a signed head with the batch, then commits it.
void IngestBatchWriter::CommitBatch() {
  progress_.Bind(1, summary_.run_id)
      .Bind(2, last_row_)
      .Bind(3, next_.read)
      .Bind(4, next_.accepted)
      .Bind(5, next_.quarantined)
      .Bind(6, next_.inserted)
      .Bind(7, next_.updated)
      .Bind(8, next_.unchanged)
      .Run();
  if (appended_ && log_.tip().seq != signed_seq_) log_.StoreSignedHead(store_.keys());
  persons_.Flush();  // the batch's person rows, in key order
  batch_tx_->Commit();
  batch_tx_.reset();
  load_->Committed(log_.tip().seq);
  summary_ = next_;
  bulk_->Poke();
}

// Appends the change-log entry of `p`; every kSignedHeadEvery seqs also signs a head (kept
// in signed_heads with the batch), so that peers are served batches of bounded size however
// large an ingest batch is (a served batch ends at a signed head, docs/PROTOCOL.md).
std::int64_t IngestBatchWriter::Append(const PreparedRecord& p, ChangeOp op) {
  StoredBody stored{std::nullopt, p.body};
  if (p.dict) {
    // The dictionary is written with the first row of the batch that uses it.
    if (batch_dictionaries_.insert(p.dict->id()).second) StoreBodyDictionary(db_.handle(), *p.dict);
    stored = {p.dict->id(), p.stored};
  }
  const std::int64_t seq = log_.Append(p.record_id, op, p.version, p.record_hash, stored);
  appended_ = true;
  if (seq % kSignedHeadEvery == 0) {
    log_.StoreSignedHead(store_.keys());
    signed_seq_ = seq;
  }
  return seq;
}

void IngestBatchWriter::InsertTokens(const PreparedRecord& p) {
  for (const Hmac256& token : p.columns.tokens) {
    persons_.Insert(TokenKey(token), p.record_key);
  }
}

// Updates the stored record (exists) or inserts it (the caller found no row with its id): the
// lookup columns and `seq`, the change whose body is this version's (written by Append).
// Both statements number their parameters alike (the update ignores kind and origin).
void IngestBatchWriter::WriteRecord(const PreparedRecord& r, bool exists, std::int64_t seq) {
  const RecordColumns& c = r.columns;
  const auto fingerprint = static_cast<std::int64_t>(SchemaFor(r.kind).fingerprint);
  (exists ? update_record_ : insert_record_)
      .BindTextStatic(1, r.record_id)
      .Bind(2, r.record_key)
      .BindTextStatic(3, KindName(r.kind))
      .BindTextStatic(4, store_.region())
      .Bind(5, r.version)
      .BindTextStatic(6, StatusName(r.status))
      .Bind(7, c.subject_org)
      .Bind(8, c.pivot_level)
      .Bind(9, c.effective_on)
      .Bind(10, c.valid_until)
      .Bind(11, seq)
      .Bind(12, fingerprint)
      .BindBlobStatic(13, Bytes(r.content_hash))
      .Run();
}

// Removes the person keys the previous version had and the new one has not.
void IngestBatchWriter::DropOldTokens(const PreparedRecord& now) {
  old_body_.Bind(1, now.record_key).BindTextStatic(2, now.record_id);
  if (!old_body_.Step()) {
    old_body_.Reset();
    return;
  }
  const CanonicalRecord previous = DecodeSingleObject(old_body_.ColumnBlob(0));
  old_body_.Reset();
  for (const std::int64_t key : DroppedTokenKeys(ColumnsOf(previous).tokens, now.columns.tokens)) {
    persons_.Delete(key, now.record_key);
  }
}

}  // namespace carehub
