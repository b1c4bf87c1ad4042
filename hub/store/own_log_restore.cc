// RestoreOwnLog (hub/store/verify.h): a damaged range of this hub's own change log rewritten
// from a member's verified copy. The own log is never cut (members hold it and would see a
// fork), so its damaged bodies are put back in place instead, once the fetched range is proven
// to be exactly what this hub signed.
#include <algorithm>

#include "hub/store/sqlite_db.h"
#include "hub/store/verify.h"

namespace carehub {
namespace {

std::string_view Bytes(const Hash256& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// Every signed head this hub holds in (from, head.seq] must be the fetched entry's hash there.
std::optional<std::string> DisagreesWithHeldHeads(Store& store, const ChainCursor& from,
                                                  const std::vector<ChangeEntry>& entries,
                                                  const SignedHead& head) {
  const auto held = store.Head(head.origin);
  if (!held || held->seq < head.seq) {
    return "it ends at seq " + std::to_string(head.seq) + ", beyond this hub's head";
  }
  sqlite::Statement stmt(store.db(),
                         "SELECT seq, head_hash FROM signed_heads WHERE origin = ? AND seq > ? "
                         "AND seq <= ?");
  stmt.Bind(1, head.origin).Bind(2, from.seq).Bind(3, head.seq);
  while (stmt.Step()) {
    const std::int64_t seq = stmt.ColumnInt64(0);
    const ChangeEntry& fetched = entries[static_cast<std::size_t>(seq - from.seq - 1)];
    if (stmt.ColumnBlob(1) != Bytes(fetched.entry_hash)) {
      return "its entry at seq " + std::to_string(seq) + " differs from this hub's signed head";
    }
  }
  if (held->seq == head.seq && held->head_hash != head.head_hash) {
    return "its head differs from this hub's head";
  }
  return std::nullopt;
}

}  // namespace

OwnLogRestore RestoreOwnLog(Store& store, const ChainCursor& from,
                            const std::vector<ChangeEntry>& entries, const SignedHead& head) {
  OwnLogRestore out;
  if (head.origin != store.region()) {
    out.refused = "origin " + head.origin + " is not this hub's own";
    return out;
  }
  out.refused = VerifyBatch(head.origin, from, entries, head, store.keys().sign_public());
  if (out.refused) return out;
  out.refused = DisagreesWithHeldHeads(store, from, entries, head);
  if (out.refused) return out;
  sqlite::Transaction tx(store.db());
  const std::vector<ChangeEntry> held =
      store.ReadChanges(head.origin, from.seq, static_cast<std::int64_t>(entries.size()));
  // record_hash and prev_hash are not stored (step 12, docs/STORE.md); the body goes back raw.
  sqlite::Statement update(store.db(),
                           "UPDATE changes SET record_id = ?, op = ?, version = ?, "
                           "entry_hash = ?, dict = NULL, body = ? WHERE origin = ? AND seq = ?");
  for (const ChangeEntry& e : entries) {
    const auto same = std::find_if(held.begin(), held.end(), [&](const ChangeEntry& h) {
      return h.seq == e.seq && h.record_id == e.record_id && h.op == e.op &&
             h.version == e.version && h.record_hash == e.record_hash &&
             h.prev_hash == e.prev_hash && h.entry_hash == e.entry_hash && h.body == e.body;
    });
    if (same != held.end()) continue;
    update.Reset();
    update.Bind(1, e.record_id).Bind(2, static_cast<std::int64_t>(e.op)).Bind(3, e.version);
    update.BindBlob(4, Bytes(e.entry_hash)).BindBlob(5, e.body);
    update.Bind(6, head.origin).Bind(7, e.seq);
    if (update.Run() != 1) {
      out.refused = "this hub holds no entry at seq " + std::to_string(e.seq);
      return out;  // rolled back
    }
    ++out.rewritten;
  }
  tx.Commit();
  return out;
}

}  // namespace carehub
