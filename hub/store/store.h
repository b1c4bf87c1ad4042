// The hub store: a hub directory (<dir>/carehub.db, federation.key, keys/) and the lookups and
// writes other units need. Tables, invariants and byte layouts: docs/STORE.md.
// Ownership: a Store owns one SQLite connection; it is movable, not copyable.
// Thread-safety: one Store per thread (open another Store on the same dir for another thread or
// process; SQLite WAL lets readers run beside the one writer, writers wait up to 5 s).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/body_codec.h"
#include "hub/store/change_log.h"
#include "hub/store/keys.h"
#include "hub/store/sqlite_db.h"
#include "schemas/record.h"

namespace carehub {

class BodyCodec;   // hub/store/body_codec.h
class PersonRows;  // hub/store/person_rows.h

// "sh" -> "310000" (aliases sh js zj ah gd hk mo), a 6-digit GB/T 2260 code with a known
// province prefix -> itself, anything else -> nullopt.
std::optional<std::string> ResolveRegion(std::string_view code_or_alias);

// A row of `records`: the current version of one record and its lookup columns.
struct StoredRecord {
  std::string record_id;
  RecordKind kind = RecordKind::kAssessment;
  std::string origin;
  int version = 1;
  RecordStatus status = RecordStatus::kActive;
  std::optional<std::string> subject_org;  // USCC or local id of the facility / sanctioned org
  std::optional<int> pivot_level;
  std::optional<std::int64_t> effective_on;  // days since 1970-01-01
  std::optional<std::int64_t> valid_until;   // days since 1970-01-01
  std::int64_t seq = 0;                      // origin change-log seq that wrote this version
  std::uint64_t fingerprint = 0;             // writer schema of body
  std::string body;  // Avro single-object encoding (stored in the change at origin/seq)
};

// The lookup columns of a record as the store indexes them (one definition for ingest and
// remote apply). `tokens` are every person token of the record (person / subject_person).
struct RecordColumns {
  std::optional<std::string> subject_org;
  std::optional<int> pivot_level;
  std::optional<std::int64_t> effective_on;
  std::optional<std::int64_t> valid_until;
  std::vector<Hmac256> tokens;
};
RecordColumns ColumnsOf(const CanonicalRecord& record);

// records.content_hash: SHA-256 of the Avro body (no header) of `record` with version = 0 and
// provenance source_file = "", source_row = 0, ingested_at = 0, i.e. what stays the same when
// the same data is ingested again. `record` is restored before returning; `scratch` is a
// reusable buffer.
Hash256 ContentHash(CanonicalRecord& record, std::string& scratch);

// Records a bulk write (an ingest batch, a group of relayed batches) should commit at once:
// (records in the store) / 8, between `least` and `most`. Each commit rewrites the pages of the
// random-key indexes it touched, nearly all of them once an index is larger than a batch, so
// commits that grow with the store keep that cost per record bounded (docs/PERFORMANCE.md).
std::int64_t GrowingBatchSize(std::int64_t records_in_store, std::int64_t least, std::int64_t most);

struct RecordFilter {
  std::optional<RecordKind> kind;
  std::optional<std::string> origin;
};

struct RecordCount {
  std::string origin;
  RecordKind kind = RecordKind::kAssessment;
  std::int64_t count = 0;
};

struct QuarantineRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::string file;
  std::int64_t row = 0;
  std::string field;
  std::string reason;
  std::string raw;  // may hold personal data: local display only, never exported or exchanged
  std::int64_t at_ms = 0;
  // Set when a later ingest stored the same record (or accepted the same file row): the row is
  // then history, not an open problem.
  std::optional<std::int64_t> resolved_at_ms = std::nullopt;
  std::int64_t resolved_run = 0;
};

// Which quarantined rows a listing shows: the open ones (default) or all, resolved included.
enum class QuarantineState { kOpen, kAll };

struct InitOptions {
  std::string region = {};  // code or alias
  // Shared federation key (32 bytes); without it a fresh random key is created (mode 0600).
  std::optional<std::filesystem::path> federation_key_file = std::nullopt;
  std::function<std::int64_t()> now_ms = nullptr;  // clock seam; system clock when empty
};

// Outcome of applying a relayed batch: applied entries, or why the batch was refused whole.
struct ApplyResult {
  std::int64_t applied = 0;
  std::optional<std::string> rejected;  // nullopt = accepted
};

class Store {
 public:
  // Creates the hub directory, federation.key, keys/ and carehub.db (migrated, meta filled),
  // or, on an existing hub of the same region, checks it and migrates. Throws
  // Error::InvalidInput for an unknown region, a region other than the existing hub's, or a
  // federation key file that is not 32 bytes / differs from the existing one.
  static Store Init(const std::filesystem::path& dir, const InitOptions& options);
  // Opens an initialised hub (migrating it). Throws Error::NotFound when `dir` is not a hub.
  static Store Open(const std::filesystem::path& dir);

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  const std::filesystem::path& dir() const { return dir_; }
  const std::string& region() const { return region_; }  // = origin of what this hub ingests
  const std::vector<std::uint8_t>& federation_key() const { return federation_key_; }
  const HubKeys& keys() const { return keys_; }
  // The connection, for units that keep their own tables (recognitions, peers). Use
  // sqlite::Transaction(db()) for writes.
  sqlite::Database& db() { return db_; }
  // Bodies at rest (compressed with a dictionary per schema) on this connection; reads in SQL
  // go through carehub_body (kChangeBody), which it backs.
  BodyCodec& bodies() { return *bodies_; }

  // --- records -------------------------------------------------------------------------
  std::optional<StoredRecord> RecordById(std::string_view record_id);
  std::vector<StoredRecord> RecordsByToken(const Hmac256& token);
  std::vector<StoredRecord> RecordsBySubjectOrg(std::string_view uscc_or_local_id);
  // max(rowid) of records: an upper estimate of the records held, one index seek.
  std::int64_t RecordCountEstimate();
  // Streams matching records (rowid order; with a kind filter origin, then rowid) without
  // loading them all; `visit` returns false to stop early. Do not write through this Store from
  // inside `visit`.
  void ForEachRecord(const RecordFilter& filter,
                     const std::function<bool(const StoredRecord&)>& visit);
  std::vector<RecordCount> CountRecords();  // per (origin, kind), sorted
  std::int64_t CountRecords(const RecordFilter& filter);

  // --- quarantine (this hub's own rejected rows) -----------------------------------------
  std::vector<QuarantineRow> ListQuarantine(std::int64_t limit = -1,
                                            QuarantineState state = QuarantineState::kOpen);
  std::int64_t QuarantineCount(QuarantineState state = QuarantineState::kOpen);

  // --- change log ------------------------------------------------------------------------
  // Entries of `origin` with seq > after_seq, ascending, at most `max`, bodies uncompressed and
  // record_hash/prev_hash recomputed (not stored). A body that does not decompress is handed
  // out as stored, so the entry fails verification like any damaged one.
  std::vector<ChangeEntry> ReadChanges(std::string_view origin, std::int64_t after_seq,
                                       std::int64_t max);
  // The same into `out` (replaced; its size is the number of entries read): the entries it
  // holds are overwritten in place and keep their strings' capacity, so a reader that serves
  // batch after batch into one vector allocates nothing per entry once warmed up.
  // With `stored`: also each entry's body as stored (a version-6 BATCH sends it so), one per
  // entry, reused in place as `out`; a raw body, or one that does not decompress, as {null, ""}
  // (the entry's body is then the stored bytes, sent raw).
  void ReadChanges(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                   std::vector<ChangeEntry>& out, std::vector<CompressedBody>* stored = nullptr);
  // The same range as stored, nothing decompressed nor hashed (a version-7 server sends it so,
  // docs/PROTOCOL.md "Serving a PULL"): each entry's seq, op, version, record_id, stored
  // entry_hash and prev_hash (the stored entry_hash of the entry before); its body in `stored`
  // as the frame and its dictionary, or, for a body stored raw (or naming a dictionary this
  // store does not hold: damage, sent raw for the receiver to refuse), in the entry's body with
  // {null, ""} in `stored`. record_hash is left zero. Throws Error::Corruption for a stored
  // entry_hash that is not 32 bytes, as ReadChanges.
  void ReadChangesAsStored(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                           std::vector<ChangeEntry>& out, std::vector<CompressedBody>& stored);
  std::optional<SignedHead> Head(std::string_view origin);
  std::vector<SignedHead> Heads();  // every origin with a signed head, sorted by origin
  ChainCursor Tip(std::string_view origin);

  // --- writes ----------------------------------------------------------------------------
  // Verifies `entries` against the stored tip of `origin` and `head` against the origin's
  // key (VerifyBatch), then writes changes, records, record_persons and the head in ONE
  // transaction. A batch that fails verification is refused whole and changes nothing; a
  // batch that is entirely already stored is accepted with applied = 0. Refuses this hub's
  // own origin. Throws only for I/O or undecodable bodies (Error::Corruption).
  // `hashes`: EntryHashes::kDerivedHere when this hub computed the entries' hashes itself
  // (a version-4 BATCH): they are then not recomputed (change_log.h).
  // `group_persons`: when given, the batch's record_persons rows are queued there and the
  // caller, who holds the enclosing transaction, flushes them before committing it (a group of
  // batches writes its person rows once, in key order: person_rows.h); on an exception the
  // batch's queued rows are dropped with its savepoint. When null they are written here.
  ApplyResult ApplyRemoteBatch(std::string_view origin, std::span<const ChangeEntry> entries,
                               const SignedHead& head, const SignPublicKey& origin_key,
                               EntryHashes hashes = EntryHashes::kClaimed,
                               PersonRows* group_persons = nullptr);
  // Same without verification, for callers that verified already (and for benchmarks).
  std::int64_t ApplyVerifiedBatch(std::string_view origin, std::span<const ChangeEntry> entries,
                                  const SignedHead& head);
  // Retracts one of this hub's own records: version+1 with status RETRACTED, op 2 in the
  // change log, a new signed head. Returns the new version, nullopt when the id is unknown or
  // already retracted. Throws Error::InvalidInput for another origin's record.
  std::optional<int> Retract(std::string_view record_id);

  // --- repair (hub/store/verify.h); the caller holds the write transaction ----------------
  // Removes the records row of `record_id` and its person index rows (none: nothing).
  void DropRecord(std::string_view record_id);
  // Rewrites the records row of change.record_id and its person index rows from `change`, a
  // held change-log entry (with this hub's content hash when it is an own record). Throws
  // Error::Corruption when the change's body does not decode.
  void RestoreRecord(const ChangeEntry& change);

  // Records a writer schema in `schemas` (no-op when known).
  void RememberSchema(std::uint64_t fingerprint, std::string_view name, std::string_view json);

 private:
  Store(std::filesystem::path dir, sqlite::Database db, HubKeys keys);
  std::string_view BodyOrStored(const sqlite::Statement& stmt, int column, std::string& scratch);
  void StoredAsIs(const sqlite::Statement& stmt, bool decompressed, std::size_t index,
                  std::vector<CompressedBody>& stored, DictionaryPtr& last);
  // ReadChangesAsStored's body of the row at `stmt` into e / stored[index] (reused).
  void StoredFrame(const sqlite::Statement& stmt, std::size_t index,
                   std::vector<CompressedBody>& stored, DictionaryPtr& last, ChangeEntry& e);
  // Both ReadChanges: `as_stored` leaves the bodies as stored (then `stored` is given).
  void ReadChangeRows(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                      std::vector<ChangeEntry>& out, std::vector<CompressedBody>* stored,
                      bool as_stored);
  std::filesystem::path dir_;
  sqlite::Database db_;
  std::unique_ptr<BodyCodec> bodies_;  // after db_: destroyed before the connection closes
  HubKeys keys_;
  std::string region_;
  std::vector<std::uint8_t> federation_key_;
};

// Column list, FROM clause and reader shared by the store's queries (and ingest/export). A
// record's body is stored once, in the change that wrote its version (docs/STORE.md): reads of
// records with their bodies join `records r` to `changes c` on (origin, seq), records as the
// outer loop (CROSS JOIN fixes the order, so filters and ORDER BY use records' indexes). Qualify
// the columns of WHERE/ORDER BY clauses with r. (origin, seq, record_id, version are in both).
// A change's body is stored compressed or raw (hub/store/body_codec.h): select kChangeBody, never
// c.body, to read the Avro single object (an error names origin, seq and record id).
inline constexpr std::string_view kChangeBody =
    "carehub_body(c.dict, c.body, c.origin, c.seq, c.record_id)";
inline constexpr std::string_view kRecordColumns =
    "r.record_id, r.kind, r.origin, r.version, r.status, r.subject_org, r.pivot_level, "
    "r.effective_on, r.valid_until, r.seq, r.fingerprint, "
    "carehub_body(c.dict, c.body, c.origin, c.seq, c.record_id)";
inline constexpr std::string_view kRecordsWithBody =
    "records r CROSS JOIN changes c ON c.origin = r.origin AND c.seq = r.seq";
StoredRecord ReadStoredRecord(const sqlite::Statement& stmt);

}  // namespace carehub
