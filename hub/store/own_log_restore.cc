// RestoreOwnLog and RestoreRelayedLog (hub/store/verify.h): a damaged range of a change log
// rewritten from a member's verified copy. The own log is never cut (members hold it and would
// see a fork), so its damaged bodies are put back in place instead, once the fetched range is
// proven to be exactly what this hub signed; a relayed log likewise, proven from the stored
// entry below the damage to a head its origin signed, so that nothing below is cut.
#include <algorithm>

#include "hub/store/body_codec.h"
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

OwnLogRestore RestoreLog(Store& store, const ChainCursor& from,
                         const std::vector<ChangeEntry>& entries, const SignedHead& head,
                         const SignPublicKey& key) {
  OwnLogRestore out;
  out.refused = VerifyBatch(head.origin, from, entries, head, key);
  if (out.refused) return out;
  out.refused = DisagreesWithHeldHeads(store, from, entries, head);
  if (out.refused) return out;
  sqlite::Transaction tx(store.db());
  const std::vector<ChangeEntry> held =
      store.ReadChanges(head.origin, from.seq, static_cast<std::int64_t>(entries.size()));
  // record_hash and prev_hash are not stored (step 12, docs/STORE.md); the body is stored as a
  // writer stores it (compressed when its schema has a dictionary).
  store.bodies().StoreTrained();
  sqlite::Statement update(store.db(),
                           "UPDATE changes SET record_id = ?, op = ?, version = ?, "
                           "entry_hash = ?, dict = ?, body = ? WHERE origin = ? AND seq = ?");
  std::string packed;
  for (const ChangeEntry& e : entries) {
    const std::size_t i = static_cast<std::size_t>(e.seq - from.seq - 1);  // held in seq order
    if (i < held.size()) {
      const ChangeEntry& h = held[i];
      if (h.seq == e.seq && h.record_id == e.record_id && h.op == e.op && h.version == e.version &&
          h.record_hash == e.record_hash && h.prev_hash == e.prev_hash &&
          h.entry_hash == e.entry_hash && h.body == e.body) {
        continue;
      }
    }
    const std::optional<std::int64_t> dict = store.bodies().Encode(e.body, packed);
    update.Reset();
    update.Bind(1, e.record_id).Bind(2, static_cast<std::int64_t>(e.op)).Bind(3, e.version);
    update.BindBlob(4, Bytes(e.entry_hash)).Bind(5, dict).BindBlob(6, dict ? packed : e.body);
    update.Bind(7, head.origin).Bind(8, e.seq);
    if (update.Run() != 1) {
      out.refused = "this hub holds no entry at seq " + std::to_string(e.seq);
      return out;  // rolled back
    }
    ++out.rewritten;
  }
  tx.Commit();
  return out;
}

}  // namespace

OwnLogRestore RestoreOwnLog(Store& store, const ChainCursor& from,
                            const std::vector<ChangeEntry>& entries, const SignedHead& head) {
  if (head.origin != store.region()) {
    return {0, "origin " + head.origin + " is not this hub's own"};
  }
  return RestoreLog(store, from, entries, head, store.keys().sign_public());
}

OwnLogRestore RestoreRelayedLog(Store& store, const ChainCursor& from,
                                const std::vector<ChangeEntry>& entries, const SignedHead& head,
                                const SignPublicKey& key) {
  if (head.origin == store.region()) return {0, "origin " + head.origin + " is this hub's own"};
  return RestoreLog(store, from, entries, head, key);
}

std::optional<ChainCursor> RelayedDamage(Store& store, const std::string& origin,
                                         const std::vector<StoreProblem>& found) {
  if (origin == store.region()) return std::nullopt;
  std::optional<std::int64_t> first;
  for (const StoreProblem& p : found) {
    if (p.origin != origin) continue;
    if (p.kind == ProblemKind::kHead) return std::nullopt;
    if (p.kind == ProblemKind::kChain) first = std::min(first.value_or(p.seq), p.seq);
  }
  if (!first || *first < 1) return std::nullopt;
  if (*first == 1) return ChainCursor{};
  sqlite::Statement stmt(store.db(), "SELECT entry_hash FROM changes WHERE origin = ? AND seq = ?");
  stmt.Bind(1, origin).Bind(2, *first - 1);
  if (!stmt.Step() || stmt.ColumnBlob(0).size() != 32) return std::nullopt;
  ChainCursor cursor{*first - 1, {}};
  std::copy(stmt.ColumnBlob(0).begin(), stmt.ColumnBlob(0).end(), cursor.hash.begin());
  return cursor;
}

}  // namespace carehub
