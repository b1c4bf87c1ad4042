// Repair of a hub store (RepairStore, CutOriginLog; hub/store/verify.h): records rows rewritten
// from their latest change, another origin's damaged log cut back to a sound signed head.
#include <algorithm>
#include <limits>
#include <set>

#include "hub/store/verify.h"
#include "hub/store/verify_internal.h"

namespace carehub {

using verify_internal::HashOf;
using verify_internal::kChangeColumns;
using verify_internal::KeyOf;
using verify_internal::ReadChange;
using verify_internal::SignatureOf;

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
  std::map<std::string, bool> decompresses;  // record id -> its latest change's body does
  std::optional<std::string> body_problem;
  while (stmt.Step()) {
    const Hash256 prev = HashOf(stmt.ColumnBlob(7)).value_or(kZeroHash);
    if (auto e = ReadChange(stmt, origin, prev, store.bodies(), body_problem)) {
      decompresses[e->record_id] = !body_problem;
      latest[e->record_id] = std::move(*e);
    }
  }
  std::int64_t restored = 0;
  for (const std::string& id : ids) {
    const auto it = latest.find(id);
    if (it == latest.end()) {
      store.DropRecord(id);
    } else if (!decompresses[id] || EntryHash(it->second) != it->second.entry_hash) {
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
  // The records first, while the changes they point at are still there: dropping a record
  // reads its body for the person index rows to delete (without the body it must scan the
  // whole person index, once per record: minutes for a relay's cut log of 8000 records).
  report.records_restored += RestoreFromLatest(store, origin, ids, keep, report);
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
