#include "hub/store/migrations.h"

#include <string>
#include <utility>

#include "hub/store/bulk_load.h"
#include "hub/store/lookup_keys.h"

namespace carehub {
namespace {

// Step 1: the store of docs/STORE.md (= /work/notes/store_spec.md plus records.content_hash).
constexpr std::string_view kStoreTables = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE schemas(fingerprint INTEGER PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE records(
  record_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  origin TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  subject_org TEXT,
  pivot_level INTEGER,
  effective_on INTEGER,
  valid_until INTEGER,
  seq INTEGER NOT NULL,
  fingerprint INTEGER NOT NULL,
  content_hash BLOB,
  body BLOB NOT NULL);
CREATE INDEX records_kind_origin ON records(kind, origin);
CREATE INDEX records_subject_org ON records(subject_org) WHERE subject_org IS NOT NULL;
CREATE TABLE record_persons(
  token BLOB NOT NULL,
  record_id TEXT NOT NULL,
  PRIMARY KEY(token, record_id)) WITHOUT ROWID;
CREATE TABLE changes(
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  op INTEGER NOT NULL,
  version INTEGER NOT NULL,
  record_hash BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  entry_hash BLOB NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY(origin, seq)) WITHOUT ROWID;
CREATE TABLE heads(
  origin TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  signature BLOB NOT NULL);
CREATE TABLE quarantine(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  file TEXT NOT NULL,
  row INTEGER NOT NULL,
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL,
  at INTEGER NOT NULL);
CREATE UNIQUE INDEX quarantine_file_row ON quarantine(file, row);
CREATE TABLE ingest_runs(
  id INTEGER PRIMARY KEY,
  file TEXT,
  file_sha256 TEXT,
  profile TEXT,
  started_at INTEGER,
  finished_at INTEGER,
  rows_done INTEGER,
  read INTEGER,
  accepted INTEGER,
  quarantined INTEGER,
  inserted INTEGER,
  updated INTEGER,
  unchanged INTEGER,
  complete INTEGER);
)sql";

// Step 12's rebuild of `changes` (one copy of the table in the step's transaction; rowids kept),
// only when the table still has the step-11 layout: the step is repeatable.
constexpr std::string_view kChangesV12 = R"sql(
CREATE TABLE changes_v12(
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  op INTEGER NOT NULL,
  version INTEGER NOT NULL,
  entry_hash BLOB NOT NULL,
  dict INTEGER,
  body BLOB NOT NULL);
INSERT INTO changes_v12(rowid, origin, seq, record_id, op, version, entry_hash, dict, body)
  SELECT rowid, origin, seq, record_id, op, version, entry_hash, NULL, body FROM changes
  ORDER BY rowid;
DROP TABLE changes;
ALTER TABLE changes_v12 RENAME TO changes;
CREATE UNIQUE INDEX changes_origin_seq ON changes(origin, seq);
)sql";

void RebuildChangesWithoutDerivedHashes(sqlite::Database& db) {
  const auto old_columns = db.QueryInt(
      "SELECT count(*) FROM pragma_table_info('changes') WHERE name IN ('record_hash', "
      "'prev_hash')");
  if (old_columns.value_or(0) > 0) db.Exec(kChangesV12);
}

// Append new steps at the end; never change a shipped one.
const std::vector<Migration> kSteps = {
    {1,
     "store tables: meta, schemas, records, record_persons, changes, heads, quarantine, "
     "ingest_runs",
     kStoreTables},
    // Recognition engineer (hub/store/recognitions.cc): the latest decision per target and record.
    {2, "recognitions: decisions of `carehub recognize --all` per target region",
     R"sql(
CREATE TABLE recognitions(
  target TEXT NOT NULL,
  record_id TEXT NOT NULL,
  on_date INTEGER NOT NULL,
  record_version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  origin TEXT NOT NULL,
  outcome TEXT NOT NULL,
  target_scale TEXT,
  target_code TEXT,
  target_upper TEXT,
  rule TEXT NOT NULL,
  policy TEXT NOT NULL,
  equivalence TEXT NOT NULL,
  documented INTEGER NOT NULL,
  legal_basis TEXT,
  sanction_id TEXT,
  reasons TEXT NOT NULL,
  decided_at INTEGER NOT NULL,
  PRIMARY KEY(target, record_id)) WITHOUT ROWID;
CREATE INDEX recognitions_outcome ON recognitions(target, outcome, origin);
)sql"},
    // API engineer (hub/http/api_tokens.cc, hub/publish/publish.cc): HTTP API tokens (only a hash
    // of the secret is stored) and the open-data releases this hub has published.
    {3, "api_tokens and published_releases: HTTP API access and open-data releases",
     R"sql(
CREATE TABLE api_tokens(
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  role TEXT NOT NULL,
  region TEXT,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER);
CREATE TABLE published_releases(
  release TEXT PRIMARY KEY,
  path TEXT NOT NULL,
  catalog_sha256 TEXT NOT NULL,
  published_at INTEGER NOT NULL);
)sql"},
    // Exchange engineer (hub/exchange/peers.cc, hub/exchange*.cc): federation members, and every
    // signed head ever stored (heads keeps only the latest) so that a hub can serve a log in
    // batches that each end at a signed position. Triggers keep signed_heads in step with heads, so
    // ingest, retract and relayed batches need no extra write.
    {4, "peers and signed_heads: federation members and the history of signed heads",
     R"sql(
CREATE TABLE peers(
  name TEXT PRIMARY KEY,
  region TEXT NOT NULL UNIQUE,
  curve_key TEXT NOT NULL UNIQUE,
  sign_key BLOB NOT NULL,
  endpoint TEXT);
CREATE TABLE signed_heads(
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head_hash BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY(origin, seq)) WITHOUT ROWID;
INSERT OR IGNORE INTO signed_heads SELECT origin, seq, head_hash, signature FROM heads;
CREATE TRIGGER heads_history_insert AFTER INSERT ON heads BEGIN
  INSERT OR IGNORE INTO signed_heads VALUES(new.origin, new.seq, new.head_hash, new.signature);
END;
CREATE TRIGGER heads_history_update AFTER UPDATE ON heads BEGIN
  INSERT OR IGNORE INTO signed_heads VALUES(new.origin, new.seq, new.head_hash, new.signature);
END;
)sql"},
    // Ingest speed (issue 3): the two random-key indexes keyed by 8-byte integers
    // (hub/store/lookup_keys.h) instead of the 32-character record id and the 32-byte token. Every
    // batch commit rewrites each page of these indexes it touched, and at 1M records the old
    // indexes were 115 MB; the new ones are ~35 MB. records loses its TEXT primary key (ids stay
    // unique: writers look up (record_key, record_id) before inserting, under the write lock).
    // changes becomes a rowid table with a unique (origin, seq) index: a WITHOUT ROWID table
    // keeps whole rows (here ~450 bytes with the body) in its interior pages too.
    {5,
     "compact lookup keys (records.record_key, record_persons(token_key, record_key)) and "
     "changes as a rowid table",
     R"sql(
CREATE TABLE records_v5(
  record_id TEXT NOT NULL,
  record_key INTEGER NOT NULL,
  kind TEXT NOT NULL,
  origin TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  subject_org TEXT,
  pivot_level INTEGER,
  effective_on INTEGER,
  valid_until INTEGER,
  seq INTEGER NOT NULL,
  fingerprint INTEGER NOT NULL,
  content_hash BLOB,
  body BLOB NOT NULL);
INSERT INTO records_v5 SELECT record_id, carehub_record_key(record_id), kind, origin, version,
  status, subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, content_hash,
  body FROM records ORDER BY rowid;
DROP TABLE records;
ALTER TABLE records_v5 RENAME TO records;
CREATE INDEX records_key ON records(record_key);
CREATE INDEX records_kind_origin ON records(kind, origin);
CREATE INDEX records_subject_org ON records(subject_org) WHERE subject_org IS NOT NULL;
CREATE TABLE record_persons_v5(
  token_key INTEGER NOT NULL,
  record_key INTEGER NOT NULL,
  PRIMARY KEY(token_key, record_key)) WITHOUT ROWID;
INSERT OR IGNORE INTO record_persons_v5
  SELECT carehub_token_key(token), carehub_record_key(record_id) FROM record_persons;
DROP TABLE record_persons;
ALTER TABLE record_persons_v5 RENAME TO record_persons;
CREATE TABLE changes_v5(
  origin TEXT NOT NULL,
  seq INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  op INTEGER NOT NULL,
  version INTEGER NOT NULL,
  record_hash BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  entry_hash BLOB NOT NULL,
  body BLOB NOT NULL);
INSERT INTO changes_v5 SELECT * FROM changes ORDER BY origin, seq;
DROP TABLE changes;
ALTER TABLE changes_v5 RENAME TO changes;
CREATE UNIQUE INDEX changes_origin_seq ON changes(origin, seq);
)sql"},
    // Issue 12 (hub/store/published_files.h): every file of a published release with its SHA-256,
    // recorded at publication; the HTTP API serves nothing else (a release published before this
    // step has no files to serve until it is published again).
    {6, "published_files: the files of each open-data release and their SHA-256",
     R"sql(
CREATE TABLE published_files(
  release TEXT NOT NULL,
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  PRIMARY KEY(release, name)) WITHOUT ROWID;
)sql"},
    // Readers engineer (issue 14): a quarantined row is resolved, not deleted, when a later
    // ingest stores the same record (by record id) or accepts the same file row; resolved rows
    // stay as history. The partial index holds only open rows, so the per-record probe is cheap.
    {7, "quarantine lifecycle: record_id, resolved_at, resolved_run",
     R"sql(
ALTER TABLE quarantine ADD COLUMN record_id TEXT;
ALTER TABLE quarantine ADD COLUMN resolved_at INTEGER;
ALTER TABLE quarantine ADD COLUMN resolved_run INTEGER;
CREATE INDEX quarantine_open_record ON quarantine(record_id)
  WHERE resolved_at IS NULL AND record_id IS NOT NULL;
)sql"},
    // Datasets engineer (hub/publish/budget.cc): the privacy-loss budget of each open-data
    // series (rho in millionths, fixed when it starts) and what each release of it spent,
    // written before the release's files exist; published_releases learns its series.
    {8, "dataset_series, dataset_spends: privacy-loss budgets of open-data series",
     R"sql(
CREATE TABLE dataset_series(
  series TEXT PRIMARY KEY,
  budget_rho_micro INTEGER NOT NULL CHECK(budget_rho_micro > 0),
  created_at INTEGER NOT NULL);
CREATE TABLE dataset_spends(
  series TEXT NOT NULL REFERENCES dataset_series(series),
  seq INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  rho_micro INTEGER NOT NULL CHECK(rho_micro > 0),
  issued_day INTEGER NOT NULL,
  release TEXT,
  spent_at INTEGER NOT NULL,
  PRIMARY KEY(series, seq),
  UNIQUE(series, fingerprint));
ALTER TABLE published_releases ADD COLUMN series TEXT;
)sql"},
    // Issue 12 (hub/store/access_log.h): who was shown which personal data. Append-only: the
    // triggers refuse to change or remove an entry (the hash chain shows it if done anyway).
    {9, "access_log: append-only, hash-chained log of reads of personal data",
     R"sql(
CREATE TABLE access_log(
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  route TEXT NOT NULL,
  purpose TEXT,
  count INTEGER NOT NULL,
  record_ids TEXT NOT NULL,
  person_tokens TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  entry_hash BLOB NOT NULL);
CREATE TABLE access_log_persons(
  token_key INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(token_key, seq)) WITHOUT ROWID;
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
CREATE TRIGGER access_log_persons_no_update BEFORE UPDATE ON access_log_persons BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
CREATE TRIGGER access_log_persons_no_delete BEFORE DELETE ON access_log_persons BEGIN
  SELECT RAISE(ABORT, 'access_log is append-only');
END;
)sql"},
    // Issue 16: each record's body is stored once, in the change that wrote its version;
    // records keeps the lookup columns and (origin, seq) pointing at that change, and reads
    // join the two (kRecordsWithBody in hub/store/store.h). Invariant 3 of docs/STORE.md made
    // the dropped column equal to the change's body; a row that disagreed (a damaged copy) now
    // reads its change's body, and a row without a change is reported by `carehub verify`.
    // DROP COLUMN rewrites the table in this step's transaction (rowids are kept: API cursors
    // and the background verifier use them).
    {10, "records without body: the body is read from the change at (origin, seq)",
     R"sql(
ALTER TABLE records DROP COLUMN body;
)sql"},
    // Issue 17 (hub/store/forks.h): two validly signed heads of one origin that cannot both be
    // true, kept as evidence; an origin with an open row is held until an operator resolves it.
    {11, "fork_evidence: conflicting signed heads of an origin, held until resolved",
     R"sql(
CREATE TABLE IF NOT EXISTS fork_evidence(
  id INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  fork_seq INTEGER NOT NULL,
  agree_seq INTEGER NOT NULL,
  held_seq INTEGER NOT NULL,
  held_hash BLOB NOT NULL,
  held_signature BLOB NOT NULL,
  other_seq INTEGER NOT NULL,
  other_hash BLOB NOT NULL,
  other_signature BLOB NOT NULL,
  other_from TEXT NOT NULL,
  how TEXT NOT NULL,
  detected_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  kept_hash BLOB,
  UNIQUE(origin, held_hash, other_hash));
)sql"},
    // Issue 16: a change row no longer stores record_hash (= SHA-256 of the body) and prev_hash
    // (= the stored entry_hash of the entry before): both are recomputed where they are needed
    // (serving a batch, verify, repair, digests), 64 bytes less per record. `dict` names the
    // zstd dictionary (body_dictionaries.id) the body is compressed with, NULL for a body stored
    // raw (every row written before this step, and rows written before their schema has a
    // dictionary). A dictionary's id is the zstd dictionary ID, derived from its content.
    {12, "changes without the derivable hashes, bodies compressed with a dictionary per schema",
     R"sql(
CREATE TABLE IF NOT EXISTS body_dictionaries(
  id INTEGER PRIMARY KEY,
  fingerprint INTEGER NOT NULL,
  dictionary BLOB NOT NULL,
  samples INTEGER NOT NULL,
  created_at INTEGER NOT NULL);
)sql",
     RebuildChangesWithoutDerivedHashes},
};

// carehub_record_key(TEXT) and carehub_token_key(BLOB) for the steps that compute keys of
// existing rows (step 5); the same functions as hub/store/lookup_keys.h.
void DefineLookupKeyFunctions(sqlite::Database& db) {
  const auto record_key = [](sqlite3_context* context, int, sqlite3_value** args) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(args[0]));
    const int size = sqlite3_value_bytes(args[0]);
    sqlite3_result_int64(context, RecordKey(std::string_view(text ? text : "", size)));
  };
  const auto token_key = [](sqlite3_context* context, int, sqlite3_value** args) {
    const auto* blob = static_cast<const char*>(sqlite3_value_blob(args[0]));
    const int size = sqlite3_value_bytes(args[0]);
    if (size < 8) {
      sqlite3_result_error(context, "person token shorter than 8 bytes", -1);
      return;
    }
    sqlite3_result_int64(context, TokenKey(std::string_view(blob, size)));
  };
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  for (const auto& [name, function] :
       {std::pair{"carehub_record_key", +record_key}, std::pair{"carehub_token_key", +token_key}}) {
    const int rc = sqlite3_create_function_v2(db.handle(), name, 1, kFlags, nullptr, function,
                                              nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) sqlite::ThrowSqlite(db.handle(), rc, name);
  }
}

}  // namespace

const std::vector<Migration>& Migrations() { return kSteps; }

int LatestSchemaVersion() { return kSteps.empty() ? 0 : kSteps.back().version; }

int SchemaVersion(sqlite::Database& db) {
  return static_cast<int>(db.QueryInt("PRAGMA user_version").value_or(0));
}

void Migrate(sqlite::Database& db) {
  DefineLookupKeyFunctions(db);
  for (const Migration& step : kSteps) {
    // Re-read inside the transaction: another process may have migrated meanwhile.
    if (SchemaVersion(db) >= step.version) continue;
    sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
    if (SchemaVersion(db) >= step.version) continue;
    db.Exec(step.sql);
    if (step.run != nullptr) step.run(db);
    db.Exec("PRAGMA user_version=" + std::to_string(step.version));
    tx.Commit();
  }
  RepairRecordIndexes(db);  // a bulk load interrupted by a crash dropped them (bulk_load.h)
  const int version = SchemaVersion(db);
  if (version > LatestSchemaVersion()) {
    throw Error::Corruption("carehub.db has schema version " + std::to_string(version) +
                            ", newer than this carehub (" + std::to_string(LatestSchemaVersion()) +
                            "); upgrade carehub");
  }
}

}  // namespace carehub
