#include "hub/store/verify.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "hub/store/lookup_keys.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// Full verification reads the log in slices of this many entries (bounded memory).
constexpr std::int64_t kFullSlice = 10000;

std::optional<Hash256> HashOf(std::string_view blob) {
  Hash256 h{};
  if (blob.size() != h.size()) return std::nullopt;
  std::memcpy(h.data(), blob.data(), h.size());
  return h;
}

std::optional<Signature> SignatureOf(std::string_view blob) {
  Signature s{};
  if (blob.size() != s.size()) return std::nullopt;
  std::memcpy(s.data(), blob.data(), s.size());
  return s;
}

void Add(std::vector<StoreProblem>& problems, ProblemKind kind, const std::string& origin,
         std::int64_t seq, const std::string& record_id, std::string detail) {
  problems.push_back({kind, origin, seq, record_id, std::move(detail)});
}

// Reads one stored change row (columns as kChangeColumns); nullopt when the entry_hash blob is
// not 32 bytes (reported by the caller). record_hash and prev_hash are not stored
// (docs/STORE.md): the body's SHA-256, and `prev`, the stored entry_hash before it.
constexpr std::string_view kChangeColumns = "seq, record_id, op, version, entry_hash, body";
std::optional<ChangeEntry> ReadChange(const sqlite::Statement& stmt, const std::string& origin,
                                      const Hash256& prev) {
  ChangeEntry e;
  e.origin = origin;
  e.seq = stmt.ColumnInt64(0);
  e.record_id = stmt.ColumnText(1);
  e.op = static_cast<ChangeOp>(stmt.ColumnInt(2));
  e.version = static_cast<std::int32_t>(stmt.ColumnInt64(3));
  const auto entry_hash = HashOf(stmt.ColumnBlob(4));
  if (!entry_hash) return std::nullopt;
  e.entry_hash = *entry_hash;
  e.body = std::string(stmt.ColumnBlob(5));
  e.record_hash = RecordHash(e.body);
  e.prev_hash = prev;
  return e;
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
// and the link after it); a mismatch is refined when the next entry is checked.
void CheckEntry(const ChangeEntry& e, LogCheckCursor& at, std::vector<StoreProblem>& problems) {
  auto add = [&](std::string_view detail) {
    Add(problems, ProblemKind::kChain, e.origin, e.seq, e.record_id, std::string(detail));
  };
  if (e.seq != at.seq + 1) add("expected seq " + std::to_string(at.seq + 1) + " (a gap)");
  if (e.op != ChangeOp::kUpsert && e.op != ChangeOp::kRetract) add("unknown op");
  const Hash256 computed = EntryHash(e);
  if (at.mismatch) {
    ChangeEntry relinked = e;
    relinked.prev_hash = at.computed;
    if (computed == e.entry_hash) {
      problems[*at.mismatch].detail = kContentChanged;
    } else if (EntryHash(relinked) == e.entry_hash) {
      problems[*at.mismatch].detail = kStoredHashChanged;
      add("the link to seq " + std::to_string(at.seq) + " breaks: its stored entry_hash changed");
      at = {e.seq, e.entry_hash, e.entry_hash, std::nullopt};
      return;
    }
  }
  at = {e.seq, e.entry_hash, computed, std::nullopt};
  if (computed != e.entry_hash) {
    at.mismatch = problems.size();
    add(kUnclear);
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
std::int64_t CheckLogSlice(sqlite::Database& db, const std::string& origin,
                           const SignPublicKey* key, LogCheckCursor& at, std::int64_t max,
                           std::vector<StoreProblem>& problems) {
  sqlite::Statement stmt(db, "SELECT " + std::string(kChangeColumns) +
                                 " FROM changes WHERE origin = ? AND seq > ? ORDER BY seq LIMIT ?");
  stmt.Bind(1, origin).Bind(2, at.seq).Bind(3, max);
  const std::int64_t from = at.seq;
  std::map<std::int64_t, Hash256> hashes;  // seq -> stored entry_hash, for the signed heads
  std::int64_t read = 0;
  while (stmt.Step()) {
    ++read;
    const auto e = ReadChange(stmt, origin, at.stored);
    if (!e) {
      Add(problems, ProblemKind::kChain, origin, stmt.ColumnInt64(0), stmt.ColumnText(1),
          "the stored entry_hash is not 32 bytes");
      at.seq = stmt.ColumnInt64(0);
      at.mismatch.reset();
      continue;
    }
    CheckEntry(*e, at, problems);
    hashes[e->seq] = e->entry_hash;
  }
  sqlite::Statement heads(db,
                          "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ? "
                          "AND seq > ? AND seq <= ? ORDER BY seq");
  heads.Bind(1, origin).Bind(2, from).Bind(3, at.seq);
  while (heads.Step()) {
    const std::int64_t seq = heads.ColumnInt64(0);
    const auto it = hashes.find(seq);
    CheckSignedHead(origin, seq, heads.ColumnBlob(1), heads.ColumnBlob(2),
                    it == hashes.end() ? std::nullopt : std::optional<Hash256>(it->second), key,
                    problems);
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
  if (end.mismatch && head_hash == end.stored) {
    problems[*end.mismatch].detail =
        "the body or the entry's fields changed: they no longer match the entry_hash the "
        "signed head holds";
  } else if (end.mismatch && head_hash == end.computed) {
    problems[*end.mismatch].detail =
        "the stored entry_hash changed: the signed head holds the hash of the entry as it is";
  }
  CheckSignedHead(origin, seq, head.ColumnBlob(1), head.ColumnBlob(2), end.stored, key, problems);
}

// The records row against the change at its seq (whose body is the record's: the body is
// stored once, docs/STORE.md), its lookup key, columns and person rows. `row` has the columns of
// kRecordCheckColumns, the change's NULL when there is no change at (origin, seq).
class RecordChecker {
 public:
  explicit RecordChecker(sqlite::Database& db)
      : person_(db, "SELECT 1 FROM record_persons WHERE token_key = ? AND record_key = ?") {}

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
    const std::string_view body = row.ColumnBlob(6);
    CanonicalRecord record;
    try {
      record = DecodeSingleObject(body);
    } catch (const Error&) {
      return add(ProblemKind::kRecord, "body does not decode");
    }
    if (row.ColumnText(7) != KindName(record.kind()) ||
        row.ColumnText(8) != StatusName(record.status)) {
      add(ProblemKind::kIndex, "kind or status column differs from the body");
    }
    for (const Hmac256& token : ColumnsOf(record).tokens) {
      person_.Bind(1, TokenKey(token)).Bind(2, row.ColumnInt64(2));
      const bool found = person_.Step();
      person_.Reset();
      if (!found) return add(ProblemKind::kIndex, "a person index row is missing");
    }
  }

 private:
  sqlite::Statement person_;
};

constexpr std::string_view kRecordCheckColumns =
    "r.rowid, r.record_id, r.record_key, r.origin, r.version, r.seq, c.body, r.kind, r.status, "
    "c.record_id, c.version";

// Checks up to `max` records rows after `after_rowid` (all origins, or one); advances it.
std::int64_t CheckRecordSlice(sqlite::Database& db, const std::optional<std::string>& origin,
                              std::int64_t& after_rowid, std::int64_t max,
                              std::vector<StoreProblem>& problems) {
  sqlite::Statement stmt(db, "SELECT " + std::string(kRecordCheckColumns) +
                                 " FROM records r LEFT JOIN changes c ON c.origin = r.origin AND "
                                 "c.seq = r.seq WHERE r.rowid > ?1 AND (?2 IS NULL OR r.origin = "
                                 "?2) ORDER BY r.rowid LIMIT ?3");
  stmt.Bind(1, after_rowid).Bind(2, origin).Bind(3, max);
  RecordChecker checker(db);
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

const SignPublicKey* KeyOf(const std::map<std::string, SignPublicKey>& keys,
                           const std::string& origin) {
  const auto it = keys.find(origin);
  return it == keys.end() ? nullptr : &it->second;
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
    while ((n = CheckLogSlice(db, origin, key, at, kFullSlice, report.problems)) > 0) {
      report.entries += n;
      if (n < kFullSlice) break;
    }
    CheckLogEnd(db, origin, key, at, report.problems);
    CheckRecordsAreLatest(db, origin, report.problems);
  }
  std::int64_t rowid = 0, n = 0;
  while ((n = CheckRecordSlice(db, options.origin, rowid, kFullSlice, report.problems)) > 0) {
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
    if (CheckLogSlice(db, origin, key, chain_at_, rows_per_step_, current_) < rows_per_step_) {
      CheckLogEnd(db, origin, key, chain_at_, current_);
      chain_at_ = {};
      if (++origin_index_ == origins_.size()) records_phase_ = true;
    }
    return false;
  }
  if (CheckRecordSlice(db, std::nullopt, record_rowid_, rows_per_step_, current_) <
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

namespace {

// The last signed head at or below `below` whose hash is the stored entry hash at its seq and
// whose signature verifies (0 when none).
std::int64_t LastSoundHead(sqlite::Database& db, const std::string& origin, std::int64_t below,
                           const SignPublicKey* key) {
  sqlite::Statement stmt(db,
                         "SELECT s.seq, s.head_hash, s.signature, c.entry_hash FROM signed_heads s "
                         "JOIN changes c ON c.origin = s.origin AND c.seq = s.seq "
                         "WHERE s.origin = ? AND s.seq <= ? ORDER BY s.seq DESC");
  stmt.Bind(1, origin).Bind(2, below);
  while (stmt.Step()) {
    const auto hash = HashOf(stmt.ColumnBlob(1));
    const auto signature = SignatureOf(stmt.ColumnBlob(2));
    if (!hash || !signature || stmt.ColumnBlob(1) != stmt.ColumnBlob(3)) continue;
    const std::int64_t seq = stmt.ColumnInt64(0);
    if (key && !VerifyHead({origin, seq, *hash, *signature}, *key)) continue;
    return seq;
  }
  return 0;
}

// Rewrites the records of `ids` (of `origin`) from their latest change at or below `max_seq`;
// a record without one is dropped; one whose latest change is itself damaged is left alone
// (reported). One pass over the origin's log.
std::int64_t RestoreFromLatest(Store& store, const std::string& origin,
                               const std::set<std::string>& ids, std::int64_t max_seq,
                               RepairReport& report) {
  if (ids.empty()) return 0;
  sqlite::Database& db = store.db();
  db.Exec("CREATE TEMP TABLE IF NOT EXISTS repair_ids(id TEXT PRIMARY KEY)");
  db.Exec("DELETE FROM temp.repair_ids");
  {
    sqlite::Statement insert(db, "INSERT OR IGNORE INTO temp.repair_ids VALUES(?)");
    for (const std::string& id : ids) insert.Bind(1, id).Run();
  }
  std::map<std::string, ChangeEntry> latest;
  // With the stored entry_hash of the entry before each (its prev_hash, not stored).
  sqlite::Statement stmt(db, "SELECT " + std::string(kChangeColumns) +
                                 ", (SELECT p.entry_hash FROM changes p WHERE p.origin = "
                                 "changes.origin AND p.seq = changes.seq - 1) FROM changes "
                                 "WHERE origin = ? AND seq <= ? AND record_id IN "
                                 "(SELECT id FROM temp.repair_ids) ORDER BY seq");
  stmt.Bind(1, origin).Bind(2, max_seq);
  while (stmt.Step()) {
    const Hash256 prev = HashOf(stmt.ColumnBlob(6)).value_or(kZeroHash);
    if (auto e = ReadChange(stmt, origin, prev)) latest[e->record_id] = std::move(*e);
  }
  std::int64_t restored = 0;
  for (const std::string& id : ids) {
    const auto it = latest.find(id);
    if (it == latest.end()) {
      store.DropRecord(id);
    } else if (EntryHash(it->second) != it->second.entry_hash) {
      report.unrepaired.push_back("origin " + origin + " record " + id +
                                  ": its latest change (seq " + std::to_string(it->second.seq) +
                                  ") is damaged too");
      continue;
    } else {
      store.RestoreRecord(it->second);
    }
    ++restored;
  }
  db.Exec("DELETE FROM temp.repair_ids");
  return restored;
}

// Drops `origin`'s log beyond `keep`, its signed heads beyond it and the records they wrote
// (restored to their last kept version); the head goes back to the signed head at `keep`.
// Returns the ids of those records.
std::set<std::string> CutLog(Store& store, const std::string& origin, std::int64_t keep,
                             RepairReport& report) {
  sqlite::Database& db = store.db();
  std::set<std::string> ids;
  {
    sqlite::Statement stmt(db, "SELECT record_id FROM records WHERE origin = ? AND seq > ?");
    stmt.Bind(1, origin).Bind(2, keep);
    while (stmt.Step()) ids.insert(stmt.ColumnText(0));
  }
  for (const char* sql : {"DELETE FROM changes WHERE origin = ? AND seq > ?",
                          "DELETE FROM signed_heads WHERE origin = ? AND seq > ?"}) {
    sqlite::Statement stmt(db, sql);
    stmt.Bind(1, origin).Bind(2, keep).Run();
  }
  if (keep == 0) {
    sqlite::Statement drop(db, "DELETE FROM heads WHERE origin = ?");
    drop.Bind(1, origin).Run();
  } else {
    sqlite::Statement reset(
        db,
        "UPDATE heads SET (seq, head_hash, signature) = (SELECT seq, "
        "head_hash, signature FROM signed_heads WHERE origin = ?1 AND seq = ?2) "
        "WHERE origin = ?1");
    reset.Bind(1, origin).Bind(2, keep).Run();
  }
  report.records_restored += RestoreFromLatest(store, origin, ids, keep, report);
  report.logs_cut[origin] = keep;
  return ids;
}

}  // namespace

ChainCursor LastSoundCursor(Store& store, const std::string& origin, std::int64_t at_most) {
  const auto keys = OriginKeys(store);
  const std::int64_t seq = LastSoundHead(store.db(), origin, at_most, KeyOf(keys, origin));
  if (seq == 0) return {};
  sqlite::Statement stmt(store.db(),
                         "SELECT head_hash FROM signed_heads WHERE origin = ? AND seq = ?");
  stmt.Bind(1, origin).Bind(2, seq);
  const auto hash = stmt.Step() ? HashOf(stmt.ColumnBlob(0)) : std::nullopt;
  return hash ? ChainCursor{seq, *hash} : ChainCursor{};
}

std::int64_t CutOriginLog(Store& store, const std::string& origin, std::int64_t at_most,
                          RepairReport& report) {
  const auto keys = OriginKeys(store);
  const std::int64_t keep = LastSoundHead(store.db(), origin, at_most, KeyOf(keys, origin));
  CutLog(store, origin, keep, report);
  return keep;
}

RepairReport RepairStore(Store& store, const VerifyReport& verified) {
  RepairReport report;
  if (verified.sound()) return report;
  const auto keys = OriginKeys(store);
  std::map<std::string, std::int64_t> first_bad;             // origin -> first bad seq of its log
  std::map<std::string, std::set<std::string>> bad_records;  // origin -> record ids
  for (const StoreProblem& p : verified.problems) {
    switch (p.kind) {
      case ProblemKind::kChain:
      case ProblemKind::kHead: {
        auto [it, fresh] = first_bad.try_emplace(p.origin, p.seq);
        if (!fresh) it->second = std::min(it->second, p.seq);
        break;
      }
      case ProblemKind::kRecord:
      case ProblemKind::kIndex:
        bad_records[p.origin].insert(p.record_id);
        break;
      case ProblemKind::kIntegrity:
        report.reindexed = true;
        break;
    }
  }
  sqlite::Transaction tx(store.db());
  for (const auto& [origin, seq] : first_bad) {
    if (origin == store.region()) {
      report.unrepaired.push_back(
          "origin " + origin +
          " is this hub's own log: it is fetched again from members (serve does "
          "so; verify --repair when members are reachable), else restore "
          "carehub.db from a backup");
      continue;
    }
    const std::int64_t keep =
        LastSoundHead(store.db(), origin, std::max<std::int64_t>(seq - 1, 0), KeyOf(keys, origin));
    for (const std::string& id : CutLog(store, origin, keep, report)) {
      bad_records[origin].erase(id);  // restored already
    }
  }
  for (const auto& [origin, ids] : bad_records) {
    const auto cut = report.logs_cut.find(origin);
    const std::int64_t max_seq =
        cut != report.logs_cut.end() ? cut->second : std::numeric_limits<std::int64_t>::max();
    report.records_restored += RestoreFromLatest(store, origin, ids, max_seq, report);
  }
  if (report.reindexed) store.db().Exec("REINDEX");
  tx.Commit();
  return report;
}

}  // namespace carehub
