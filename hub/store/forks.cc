#include "hub/store/forks.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "hub/store/verify.h"
#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::string_view kColumns =
    "id, origin, fork_seq, agree_seq, held_seq, held_hash, held_signature, other_seq, "
    "other_hash, other_signature, other_from, how, detected_at_ms, resolved_at_ms, kept_hash";

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <std::size_t N>
std::array<std::uint8_t, N> Bytes(std::string_view blob) {
  std::array<std::uint8_t, N> out{};
  if (blob.size() == N) std::memcpy(out.data(), blob.data(), N);
  return out;
}

SignedHead HeadAt(const sqlite::Statement& stmt, const std::string& origin, int column) {
  SignedHead head;
  head.origin = origin;
  head.seq = stmt.ColumnInt64(column);
  head.head_hash = Bytes<32>(stmt.ColumnBlob(column + 1));
  head.signature = Bytes<64>(stmt.ColumnBlob(column + 2));
  return head;
}

ForkEvidence ReadEvidence(const sqlite::Statement& stmt) {
  ForkEvidence e;
  e.id = stmt.ColumnInt64(0);
  e.origin = stmt.ColumnText(1);
  e.fork_seq = stmt.ColumnInt64(2);
  e.agree_seq = stmt.ColumnInt64(3);
  e.held = HeadAt(stmt, e.origin, 4);
  e.other = HeadAt(stmt, e.origin, 7);
  e.other_from = stmt.ColumnText(10);
  e.how = stmt.ColumnText(11);
  e.detected_ms = stmt.ColumnInt64(12);
  e.resolved_ms = stmt.ColumnOptionalInt64(13);
  if (e.resolved_ms) e.kept = Bytes<32>(stmt.ColumnBlob(14));
  return e;
}

std::span<const std::uint8_t> Span(const auto& bytes) {
  return std::span<const std::uint8_t>(bytes.data(), bytes.size());
}

}  // namespace

bool RecordForkEvidence(sqlite::Database& db, ForkEvidence e) {
  sqlite::Statement insert(
      db,
      "INSERT OR IGNORE INTO fork_evidence(origin, fork_seq, agree_seq, held_seq, held_hash, "
      "held_signature, other_seq, other_hash, other_signature, other_from, how, detected_at_ms) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, e.origin).Bind(2, e.fork_seq).Bind(3, e.agree_seq).Bind(4, e.held.seq);
  insert.BindBlob(5, Span(e.held.head_hash)).BindBlob(6, Span(e.held.signature));
  insert.Bind(7, e.other.seq).BindBlob(8, Span(e.other.head_hash));
  insert.BindBlob(9, Span(e.other.signature)).Bind(10, e.other_from).Bind(11, e.how);
  insert.Bind(12, e.detected_ms != 0 ? e.detected_ms : NowMs());
  return insert.Run() > 0;
}

std::vector<ForkEvidence> ListForkEvidence(sqlite::Database& db, bool open_only) {
  sqlite::Statement stmt(db, "SELECT " + std::string(kColumns) + " FROM fork_evidence" +
                                 (open_only ? " WHERE resolved_at_ms IS NULL" : "") +
                                 " ORDER BY id");
  std::vector<ForkEvidence> out;
  while (stmt.Step()) out.push_back(ReadEvidence(stmt));
  return out;
}

std::set<std::string> HeldOrigins(sqlite::Database& db) {
  sqlite::Statement stmt(db,
                         "SELECT DISTINCT origin FROM fork_evidence WHERE resolved_at_ms IS NULL");
  std::set<std::string> out;
  while (stmt.Step()) out.insert(stmt.ColumnText(0));
  return out;
}

bool IsRejectedHead(sqlite::Database& db, const std::string& origin, std::int64_t seq,
                    const Hash256& hash) {
  sqlite::Statement stmt(
      db,
      "SELECT 1 FROM fork_evidence WHERE origin = ?1 AND resolved_at_ms IS NOT NULL AND "
      "((other_seq = ?2 AND other_hash = ?3 AND kept_hash <> other_hash) OR "
      "(held_seq = ?2 AND held_hash = ?3 AND kept_hash <> held_hash)) LIMIT 1");
  stmt.Bind(1, origin).Bind(2, seq).BindBlob(3, Span(hash));
  return stmt.Step();
}

int RecordForkPoint(sqlite::Database& db, const std::string& origin, const std::string& other_from,
                    const Hash256& other_hash, std::int64_t agree_seq, std::int64_t fork_seq) {
  sqlite::Statement update(db,
                           "UPDATE fork_evidence SET agree_seq = ?, fork_seq = ? WHERE origin = ? "
                           "AND (other_from = ? OR other_hash = ?) AND resolved_at_ms IS NULL");
  update.Bind(1, agree_seq).Bind(2, fork_seq).Bind(3, origin).Bind(4, other_from);
  update.BindBlob(5, std::string_view(reinterpret_cast<const char*>(other_hash.data()), 32));
  return update.Run();
}

ForkResolution ResolveFork(Store& store, const std::string& origin, const Hash256& keep) {
  sqlite::Database& db = store.db();
  sqlite::Transaction tx(db);
  std::vector<ForkEvidence> open;
  for (ForkEvidence& e : ListForkEvidence(db, true)) {
    if (e.origin == origin) open.push_back(std::move(e));
  }
  if (open.empty()) throw Error::InvalidInput("no open fork evidence for origin " + origin);
  const auto is = [&](auto member) {
    return std::any_of(open.begin(), open.end(),
                       [&](const ForkEvidence& e) { return (e.*member).head_hash == keep; });
  };
  ForkResolution resolution;
  resolution.kept_held = is(&ForkEvidence::held);
  if (!resolution.kept_held) {
    if (!is(&ForkEvidence::other)) {
      throw Error::InvalidInput("the head to keep is neither head of an open fork of origin " +
                                origin + " (carehub fork show lists them)");
    }
    if (origin == store.region()) {
      throw Error::InvalidInput("origin " + origin +
                                " is this hub's own log: it cannot be cut; restore carehub.db "
                                "from a backup of the branch to keep");
    }
    std::int64_t agree = open.front().agree_seq;
    for (const ForkEvidence& e : open) agree = std::min(agree, e.agree_seq);
    RepairReport report;
    resolution.cut_to = CutOriginLog(store, origin, agree, report);
  }
  sqlite::Statement close(db,
                          "UPDATE fork_evidence SET resolved_at_ms = ?, kept_hash = ? WHERE "
                          "origin = ? AND resolved_at_ms IS NULL");
  close.Bind(1, NowMs()).BindBlob(2, Span(keep)).Bind(3, origin);
  resolution.resolved = close.Run();
  tx.Commit();
  return resolution;
}

}  // namespace carehub
