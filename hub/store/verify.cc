#include "hub/store/verify.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "hub/store/lookup_keys.h"
#include "hub/store/verify_internal.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "schemas/projection.h"

namespace carehub {
namespace {

using verify_internal::HashOf;
using verify_internal::kChangeColumns;
using verify_internal::KeyOf;
using verify_internal::ReadChange;
using verify_internal::SignatureOf;

// Full verification reads the log in slices of this many entries (bounded memory).
constexpr std::int64_t kFullSlice = 10000;

void Add(std::vector<StoreProblem>& problems, ProblemKind kind, const std::string& origin,
         std::int64_t seq, const std::string& record_id, std::string detail) {
  problems.push_back({kind, origin, seq, record_id, std::move(detail)});
}

// What a mismatching entry is reported as, once the entry after it (or the signed head at the
// log's end) tells which side changed; kUnclear when nothing tells.
constexpr std::string_view kUnclear =
    "entry_hash does not match the entry (its body, its fields or the stored hash changed)";
constexpr std::string_view kContentChanged =
    "the body or the entry's fields changed: they no longer match the entry_hash the next entry "
    "links to";
constexpr std::string_view kStoredHashChanged =
    "the stored entry_hash changed: the next entry links to the hash of the entry as it is";

// One entry against the stored entry before it. `at` follows the STORED hashes, so a changed
// body or field is reported once (at its entry), a changed stored entry_hash twice (its entry
// and the link after it); a mismatch is refined when the next entry is checked. A body that does
// not decompress (`body_problem`) is reported as such.
void CheckEntry(const ChangeEntry& e, const std::optional<std::string>& body_problem,
                LogCheckCursor& at, std::vector<StoreProblem>& problems) {
  auto add = [&](std::string_view detail) {
    Add(problems, ProblemKind::kChain, e.origin, e.seq, e.record_id, std::string(detail));
  };
  if (e.seq != at.seq + 1) add("expected seq " + std::to_string(at.seq + 1) + " (a gap)");
  if (e.op != ChangeOp::kUpsert && e.op != ChangeOp::kRetract) add("unknown op");
  const Hash256 computed = EntryHash(e);
  if (at.mismatch) {
    ChangeEntry relinked = e;
    relinked.prev_hash = at.computed;
    std::string& detail = problems[*at.mismatch].detail;
    if (computed == e.entry_hash) {
      if (detail == kUnclear) detail = kContentChanged;
    } else if (EntryHash(relinked) == e.entry_hash) {
      detail = kStoredHashChanged;
      add("the link to seq " + std::to_string(at.seq) + " breaks: its stored entry_hash changed");
      at = {e.seq, e.entry_hash, e.entry_hash, std::nullopt};
      return;
    }
  }
  at = {e.seq, e.entry_hash, computed, std::nullopt};
  if (computed != e.entry_hash || body_problem) {
    at.mismatch = problems.size();
    add(body_problem ? *body_problem : kUnclear);
  }
}

void CheckSignedHead(const std::string& origin, std::int64_t seq, std::string_view hash_blob,
                     std::string_view signature_blob, const std::optional<Hash256>& entry_hash,
                     const SignPublicKey* key, std::vector<StoreProblem>& problems) {
  const auto hash = HashOf(hash_blob);
  const auto signature = SignatureOf(signature_blob);
  if (!hash || !signature) {
    return Add(problems, ProblemKind::kHead, origin, seq, "", "signed head of the wrong size");
  }
  if (!entry_hash || *entry_hash != *hash) {
    Add(problems, ProblemKind::kHead, origin, seq, "",
        "signed head hash is not the entry hash at its seq");
  }
  if (key && !VerifyHead({origin, seq, *hash, *signature}, *key)) {
    Add(problems, ProblemKind::kHead, origin, seq, "", "head signature does not verify");
  }
}

// Checks up to `max` entries of `origin` after `at` and the signed heads among them; advances
// `at`. Returns the number of entries read (fewer than max: the log's end was reached).
std::int64_t CheckLogSlice(Store& store, const std::string& origin, const SignPublicKey* key,
                           LogCheckCursor& at, std::int64_t max,
                           std::vector<StoreProblem>& problems) {
  sqlite::Database& db = store.db();
  sqlite::Statement stmt(db, "SELECT " + std::string(kChangeColumns) +
                                 " FROM changes WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?");
  stmt.Bind(1, origin).Bind(2, at.seq).Bind(3, max);
  const std::int64_t from = at.seq;
  // (seq, stored entry_hash) in seq order, for the signed heads (a vector: a map was a malloc
  // per entry)
  std::vector<std::pair<std::int64_t, Hash256>> hashes;
  hashes.reserve(static_cast<std::size_t>(std::min<std::int64_t>(max, kFullSlice)));
  std::int64_t read = 0;
  std::optional<std::string> body_problem;
  while (stmt.Step()) {
    ++read;
    const auto e = ReadChange(stmt, origin, at.stored, store.bodies(), body_problem);
    if (!e) {
      Add(problems, ProblemKind::kChain, origin, stmt.ColumnInt64(0), stmt.ColumnText(1),
          "the stored entry_hash is not 32 bytes");
      at.seq = stmt.ColumnInt64(0);
      at.mismatch.reset();
      continue;
    }
    CheckEntry(*e, body_problem, at, problems);
    hashes.emplace_back(e->seq, e->entry_hash);
  }
  sqlite::Statement heads(db,
                          "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ? "
                          "AND seq > ? AND seq <= ? ORDER BY seq");
  heads.Bind(1, origin).Bind(2, from).Bind(3, at.seq);
  while (heads.Step()) {
    const std::int64_t seq = heads.ColumnInt64(0);
    const auto it = std::lower_bound(hashes.begin(), hashes.end(), seq,
                                     [](const auto& h, std::int64_t s) { return h.first < s; });
    const bool held = it != hashes.end() && it->first == seq;
    CheckSignedHead(origin, seq, heads.ColumnBlob(1), heads.ColumnBlob(2),
                    held ? std::optional<Hash256>(it->second) : std::nullopt, key, problems);
  }
  return read;
}

// After the last entry: the `heads` row is the log's end, no signed head lies beyond it. A last
// entry that did not match its stored entry_hash is refined by the head's hash.
void CheckLogEnd(sqlite::Database& db, const std::string& origin, const SignPublicKey* key,
                 const LogCheckCursor& end, std::vector<StoreProblem>& problems) {
  sqlite::Statement beyond(db, "SELECT seq FROM signed_heads WHERE origin = ? AND seq > ?");
  beyond.Bind(1, origin).Bind(2, end.seq);
  while (beyond.Step()) {
    Add(problems, ProblemKind::kHead, origin, beyond.ColumnInt64(0), "",
        "signed head beyond the log's end seq " + std::to_string(end.seq));
  }
  sqlite::Statement head(db, "SELECT seq, head_hash, signature FROM heads WHERE origin = ?");
  head.Bind(1, origin);
  if (!head.Step()) {
    if (end.seq > 0) Add(problems, ProblemKind::kHead, origin, end.seq, "", "no signed head");
    return;
  }
  const std::int64_t seq = head.ColumnInt64(0);
  if (seq != end.seq) {
    Add(problems, ProblemKind::kHead, origin, seq, "",
        "the current head is not the log's end seq " + std::to_string(end.seq));
    return;
  }
  const auto head_hash = HashOf(head.ColumnBlob(1));
  const bool unclear = end.mismatch && problems[*end.mismatch].detail == kUnclear;
  if (unclear && head_hash == end.stored) {
    problems[*end.mismatch].detail =
        "the body or the entry's fields changed: they no longer match the entry_hash the "
        "signed head holds";
  } else if (unclear && head_hash == end.computed) {
    problems[*end.mismatch].detail =
        "the stored entry_hash changed: the signed head holds the hash of the entry as it is";
  }
  CheckSignedHead(origin, seq, head.ColumnBlob(1), head.ColumnBlob(2), end.stored, key, problems);
}

// The records row against the change at its seq (whose body is the record's: the body is
// stored once, docs/STORE.md), its lookup key, columns and person rows. `row` has the columns of
// kRecordCheckColumns, the change's NULL when there is no change at (origin, seq). The body is
// read with a projection of the three fields the row depends on (status and the person tokens;
// the kind is the writer schema's), skipping every other field by its writer type, instead of
// being decoded whole: the full decode was the largest part of the background check's cost.
class RecordChecker {
 public:
  explicit RecordChecker(Store& store)
      : bodies_(store.bodies()),
        person_(store.db(), "SELECT 1 FROM record_persons WHERE token_key = ? AND record_key = ?"),
        fields_(ThreadFields()) {}

  void Check(const sqlite::Statement& row, std::vector<StoreProblem>& problems) {
    const std::string id = row.ColumnText(1);
    const std::string origin = row.ColumnText(3);
    const std::int64_t seq = row.ColumnInt64(5);
    auto add = [&](ProblemKind kind, std::string detail) {
      Add(problems, kind, origin, seq, id, std::move(detail));
    };
    if (row.ColumnInt64(2) != RecordKey(id)) add(ProblemKind::kIndex, "record_key is not the id's");
    if (row.IsNull(9)) return add(ProblemKind::kRecord, "no change of its origin at its seq");
    if (row.ColumnText(9) != id) {
      return add(ProblemKind::kRecord, "the change at its seq is of another record");
    }
    if (row.ColumnInt64(10) != row.ColumnInt64(4)) {
      add(ProblemKind::kRecord, "version differs from its change");
    }
    std::string_view body;
    try {
      body = bodies_.Read(row.ColumnOptionalInt64(11), row.ColumnBlob(6), scratch_);
    } catch (const Error& e) {
      return add(ProblemKind::kRecord, std::string("body does not decompress: ") + e.what());
    }
    try {
      fields_.Read(body);
    } catch (const Error&) {
      return add(ProblemKind::kRecord, "body does not decode");
    }
    // (A writer schema without the field: the reader's default, as a full decode gives.)
    const ProjectedValue* status = fields_.First(kStatus);
    const std::string_view status_name = status ? status->text : StatusName(RecordStatus::kActive);
    if (row.ColumnBlob(7) != KindName(fields_.kind()) || row.ColumnBlob(8) != status_name) {
      add(ProblemKind::kIndex, "kind or status column differs from the body");
    }
    for (const std::size_t path : {kPersonTokens, kSubjectPersonTokens}) {
      for (const ProjectedValue& token : fields_.Values(path)) {
        person_.Bind(1, TokenKey(token.text)).Bind(2, row.ColumnInt64(2));
        const bool found = person_.Step();
        person_.Reset();
        if (!found) return add(ProblemKind::kIndex, "a person index row is missing");
      }
    }
  }

 private:
  static constexpr std::size_t kStatus = 0, kPersonTokens = 1, kSubjectPersonTokens = 2;
  BodyCodec& bodies_;
  std::string scratch_;
  sqlite::Statement person_;
  ProjectionReader& fields_;

  // One reader per thread, kept across slices: its plan per writer schema is compiled once (per
  // slice it was ~3% of the background check).
  static ProjectionReader& ThreadFields() {
    thread_local ProjectionReader fields(
        {"status", "person.tokens.token", "subject_person.tokens.token"});
    return fields;
  }
};

constexpr std::string_view kRecordCheckColumns =
    "r.rowid, r.record_id, r.record_key, r.origin, r.version, r.seq, c.body, r.kind, r.status, "
    "c.record_id, c.version, c.dict";

// Checks up to `max` records rows after `after_rowid` (all origins, or one); advances it.
std::int64_t CheckRecordSlice(Store& store, const std::optional<std::string>& origin,
                              std::int64_t& after_rowid, std::int64_t max,
                              std::vector<StoreProblem>& problems) {
  sqlite::Database& db = store.db();
  sqlite::Statement stmt(db, "SELECT " + std::string(kRecordCheckColumns) +
                                 " FROM records r LEFT JOIN changes c ON c.origin = r.origin AND "
                                 "c.seq = r.seq WHERE r.rowid > ?1 AND (?2 IS NULL OR r.origin = "
                                 "?2) ORDER BY r.rowid LIMIT ?3");
  stmt.Bind(1, after_rowid).Bind(2, origin).Bind(3, max);
  RecordChecker checker(store);
  std::int64_t read = 0;
  while (stmt.Step()) {
    ++read;
    after_rowid = stmt.ColumnInt64(0);
    checker.Check(stmt, problems);
  }
  return read;
}

// Every record id of the origin's log has a records row at its latest change.
void CheckRecordsAreLatest(sqlite::Database& db, const std::string& origin,
                           std::vector<StoreProblem>& problems) {
  sqlite::Statement latest(
      db, "SELECT record_id, max(seq) FROM changes WHERE origin = ? GROUP BY record_id");
  sqlite::Statement row(db, "SELECT seq FROM records WHERE record_key = ? AND record_id = ?");
  latest.Bind(1, origin);
  while (latest.Step()) {
    const std::string id = latest.ColumnText(0);
    const std::int64_t seq = latest.ColumnInt64(1);
    row.Bind(1, RecordKey(id)).Bind(2, id);
    if (!row.Step()) {
      Add(problems, ProblemKind::kRecord, origin, seq, id, "missing from records");
    } else if (row.ColumnInt64(0) != seq) {
      Add(problems, ProblemKind::kRecord, origin, seq, id,
          "records row is at seq " + std::to_string(row.ColumnInt64(0)) +
              ", not at its latest change");
    }
    row.Reset();
  }
}

void CheckIntegrity(sqlite::Database& db, std::vector<StoreProblem>& problems) {
  sqlite::Statement stmt(db, "PRAGMA integrity_check");
  while (stmt.Step()) {
    const std::string line = stmt.ColumnText(0);
    if (line != "ok") Add(problems, ProblemKind::kIntegrity, "", 0, "", line);
  }
}

std::vector<std::string> OriginsOf(sqlite::Database& db, const std::optional<std::string>& only) {
  if (only) return {*only};
  std::set<std::string> origins;
  for (const char* sql : {"SELECT origin FROM heads", "SELECT DISTINCT origin FROM changes",
                          "SELECT DISTINCT origin FROM signed_heads"}) {
    sqlite::Statement stmt(db, sql);
    while (stmt.Step()) origins.insert(stmt.ColumnText(0));
  }
  return {origins.begin(), origins.end()};
}

// A read transaction that always ends (ROLLBACK: nothing was written). Inside the caller's open
// transaction it adds nothing (the caller's snapshot is read).
class ReadTransaction {
 public:
  explicit ReadTransaction(sqlite::Database& db)
      : db_(db), own_(sqlite3_get_autocommit(db.handle()) != 0) {
    if (own_) db_.Exec("BEGIN");
  }
  ~ReadTransaction() {
    if (!own_) return;
    try {
      db_.Exec("ROLLBACK");
    } catch (...) {
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  sqlite::Database& db_;
  bool own_;
};

}  // namespace

std::string_view ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kChain:
      return "chain";
    case ProblemKind::kHead:
      return "head";
    case ProblemKind::kRecord:
      return "record";
    case ProblemKind::kIndex:
      return "index";
    case ProblemKind::kIntegrity:
      return "integrity";
  }
  return "unknown";
}

std::string ProblemLine(const StoreProblem& p) {
  std::string line(ProblemKindName(p.kind));
  if (!p.origin.empty()) line += " origin=" + p.origin;
  if (p.seq > 0) line += " seq=" + std::to_string(p.seq);
  if (!p.record_id.empty()) line += " record=" + p.record_id;
  return line + ": " + p.detail;
}

std::map<std::string, SignPublicKey> OriginKeys(Store& store) {
  std::map<std::string, SignPublicKey> keys;
  keys[store.region()] = store.keys().sign_public();
  // The members (peers table, hub/exchange/peers.h): read here directly because the store sits
  // below the exchange; sign_key is the 32-byte Ed25519 public key.
  sqlite::Statement stmt(store.db(), "SELECT region, sign_key FROM peers");
  while (stmt.Step()) {
    const std::string_view blob = stmt.ColumnBlob(1);
    SignPublicKey key{};
    if (blob.size() != key.size()) continue;
    std::memcpy(key.data(), blob.data(), key.size());
    keys[stmt.ColumnText(0)] = key;
  }
  return keys;
}

VerifyReport VerifyStore(Store& store, const VerifyOptions& options) {
  VerifyReport report;
  sqlite::Database& db = store.db();
  const auto keys = OriginKeys(store);
  ReadTransaction read(db);
  for (const std::string& origin : OriginsOf(db, options.origin)) {
    const SignPublicKey* key = KeyOf(keys, origin);
    if (!key) report.notes.push_back("origin " + origin + " is not a member: signatures unchecked");
    LogCheckCursor at;
    std::int64_t n = 0;
    while ((n = CheckLogSlice(store, origin, key, at, kFullSlice, report.problems)) > 0) {
      report.entries += n;
      if (n < kFullSlice) break;
    }
    CheckLogEnd(db, origin, key, at, report.problems);
    CheckRecordsAreLatest(db, origin, report.problems);
  }
  std::int64_t rowid = 0, n = 0;
  while ((n = CheckRecordSlice(store, options.origin, rowid, kFullSlice, report.problems)) > 0) {
    report.records += n;
    if (n < kFullSlice) break;
  }
  if (options.integrity_check) CheckIntegrity(db, report.problems);
  return report;
}

bool IncrementalVerifier::Step(Store& store) {
  sqlite::Database& db = store.db();
  ReadTransaction read(db);
  if (origins_.empty() && !records_phase_) {
    origins_ = OriginsOf(db, std::nullopt);
    origin_index_ = 0;
    chain_at_ = {};
    if (origins_.empty()) records_phase_ = true;
  }
  if (!records_phase_) {
    const std::string& origin = origins_[origin_index_];
    const auto keys = OriginKeys(store);
    const SignPublicKey* key = KeyOf(keys, origin);
    if (CheckLogSlice(store, origin, key, chain_at_, rows_per_step_, current_) < rows_per_step_) {
      CheckLogEnd(db, origin, key, chain_at_, current_);
      chain_at_ = {};
      if (++origin_index_ == origins_.size()) records_phase_ = true;
    }
    return false;
  }
  if (CheckRecordSlice(store, std::nullopt, record_rowid_, rows_per_step_, current_) <
      rows_per_step_) {
    last_pass_ = std::move(current_);
    current_.clear();
    origins_.clear();
    records_phase_ = false;
    record_rowid_ = 0;
    ++passes_;
    return true;
  }
  return false;
}

}  // namespace carehub
