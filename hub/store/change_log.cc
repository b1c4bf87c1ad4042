#include "hub/store/change_log.h"

#include <cstring>

#include "schemas/error.h"
#include "schemas/sha256.h"

namespace carehub {
namespace {

constexpr std::string_view kEntryDomain = "carehub.change.v1";
constexpr std::string_view kHeadDomain = "carehub.head.v1";

void PutU16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void PutU32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void PutU64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void PutHash(std::string& out, const Hash256& h) {
  out.append(reinterpret_cast<const char*>(h.data()), h.size());
}
void PutShortString(std::string& out, std::string_view s, const char* what) {
  if (s.size() > 0xFFFF) throw Error::InvalidInput(std::string(what) + " longer than 65535 bytes");
  PutU16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}

std::string_view AsBytes(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

Hash256 HashFromBlob(std::string_view blob, const char* what) {
  Hash256 h{};
  if (blob.size() != h.size()) {
    throw Error::Corruption(std::string("stored ") + what + " is not 32 bytes");
  }
  std::memcpy(h.data(), blob.data(), h.size());
  return h;
}

std::string SeqText(std::int64_t seq) { return std::to_string(seq); }

}  // namespace

Hash256 Sha256(std::string_view bytes) { return Sha256Of(bytes); }

Hash256 EntryHash(std::string_view origin, std::int64_t seq, ChangeOp op,
                  std::string_view record_id, std::int32_t version, const Hash256& record_hash,
                  const Hash256& prev_hash) {
  // One buffer per thread (~140 bytes with a 32-byte record id, past the short-string size):
  // every entry read, served, verified and applied is hashed here, and a fresh string was a
  // malloc and free per entry.
  thread_local std::string message;
  message.clear();
  message.reserve(kEntryDomain.size() + 2 + origin.size() + 8 + 1 + 2 + record_id.size() + 4 + 64);
  message.append(kEntryDomain);
  PutShortString(message, origin, "origin");
  PutU64(message, static_cast<std::uint64_t>(seq));
  message.push_back(static_cast<char>(op));
  PutShortString(message, record_id, "record_id");
  PutU32(message, static_cast<std::uint32_t>(version));
  PutHash(message, record_hash);
  PutHash(message, prev_hash);
  return Sha256(message);
}

Hash256 EntryHash(const ChangeEntry& e) {
  return EntryHash(e.origin, e.seq, e.op, e.record_id, e.version, e.record_hash, e.prev_hash);
}

std::string HeadMessage(std::string_view origin, std::int64_t seq, const Hash256& head_hash) {
  std::string message;
  message.append(kHeadDomain);
  PutShortString(message, origin, "origin");
  PutU64(message, static_cast<std::uint64_t>(seq));
  PutHash(message, head_hash);
  return message;
}

SignedHead SignHead(const HubKeys& keys, std::string_view origin, std::int64_t seq,
                    const Hash256& head_hash) {
  SignedHead head;
  head.origin = std::string(origin);
  head.seq = seq;
  head.head_hash = head_hash;
  head.signature = keys.Sign(HeadMessage(origin, seq, head_hash));
  return head;
}

bool VerifyHead(const SignedHead& head, const SignPublicKey& origin_key) {
  return VerifySignature(origin_key, HeadMessage(head.origin, head.seq, head.head_hash),
                         head.signature);
}

std::optional<std::string> VerifyChainSegment(std::string_view origin, const ChainCursor& from,
                                              std::span<const ChangeEntry> entries,
                                              EntryHashes hashes) {
  const bool recompute = hashes == EntryHashes::kClaimed;
  const bool entry_hash_claimed = hashes != EntryHashes::kDerivedHere;
  ChainCursor at = from;
  for (const ChangeEntry& e : entries) {
    const auto where = [&] { return "origin " + std::string(origin) + " seq " + SeqText(e.seq); };
    if (e.origin != origin) return where() + ": entry of another origin";
    if (e.seq != at.seq + 1) {
      return "origin " + std::string(origin) + ": expected seq " + SeqText(at.seq + 1) + ", got " +
             SeqText(e.seq);
    }
    if (e.op != ChangeOp::kUpsert && e.op != ChangeOp::kRetract) return where() + ": unknown op";
    if (e.prev_hash != at.hash) return where() + ": prev_hash does not continue the chain";
    if (recompute && RecordHash(e.body) != e.record_hash) {
      return where() + ": record_hash does not match body";
    }
    if (entry_hash_claimed && EntryHash(e) != e.entry_hash) {
      return where() + ": entry_hash does not match the entry";
    }
    at.seq = e.seq;
    at.hash = e.entry_hash;
  }
  return std::nullopt;
}

std::optional<std::string> VerifyBatch(std::string_view origin, const ChainCursor& from,
                                       std::span<const ChangeEntry> entries, const SignedHead& head,
                                       const SignPublicKey& origin_key, EntryHashes hashes) {
  if (auto problem = VerifyChainSegment(origin, from, entries, hashes)) return problem;
  if (head.origin != origin) return "head is of origin " + head.origin;
  const ChainCursor end =
      entries.empty() ? from : ChainCursor{entries.back().seq, entries.back().entry_hash};
  if (head.seq != end.seq || head.head_hash != end.hash) {
    return "origin " + std::string(origin) + ": signed head seq " + SeqText(head.seq) +
           " does not match the batch end seq " + SeqText(end.seq);
  }
  if (!VerifyHead(head, origin_key)) {
    return "origin " + std::string(origin) + ": head signature does not verify";
  }
  return std::nullopt;
}

ChainCursor ReadTip(sqlite::Database& db, std::string_view origin) {
  sqlite::Statement stmt(
      db, "SELECT seq, entry_hash FROM changes WHERE origin = ? ORDER BY seq DESC LIMIT 1");
  stmt.Bind(1, origin);
  if (!stmt.Step()) return {};
  return {stmt.ColumnInt64(0), HashFromBlob(stmt.ColumnBlob(1), "entry_hash")};
}

std::optional<SignedHead> ReadHead(sqlite::Database& db, std::string_view origin) {
  sqlite::Statement stmt(db, "SELECT seq, head_hash, signature FROM heads WHERE origin = ?");
  stmt.Bind(1, origin);
  if (!stmt.Step()) return std::nullopt;
  SignedHead head;
  head.origin = std::string(origin);
  head.seq = stmt.ColumnInt64(0);
  head.head_hash = HashFromBlob(stmt.ColumnBlob(1), "head_hash");
  const std::string_view signature = stmt.ColumnBlob(2);
  if (signature.size() != head.signature.size()) {
    throw Error::Corruption("stored head signature is not 64 bytes");
  }
  std::memcpy(head.signature.data(), signature.data(), signature.size());
  return head;
}

ChangeLogWriter::ChangeLogWriter(sqlite::Database& db, std::string origin)
    : db_(db),
      origin_(std::move(origin)),
      insert_(db,
              "INSERT INTO changes(origin, seq, record_id, op, version, entry_hash, dict, body) "
              "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"),
      upsert_head_(db,
                   "INSERT INTO heads(origin, seq, head_hash, signature) VALUES(?, ?, ?, ?) "
                   "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq, "
                   "head_hash = excluded.head_hash, signature = excluded.signature") {
  Reload();
}

void ChangeLogWriter::Reload() { tip_ = ReadTip(db_, origin_); }

std::int64_t ChangeLogWriter::Append(std::string_view record_id, ChangeOp op, std::int32_t version,
                                     const Hash256& record_hash, const StoredBody& body) {
  const std::int64_t seq = tip_.seq + 1;
  const Hash256 entry = EntryHash(origin_, seq, op, record_id, version, record_hash, tip_.hash);
  insert_.BindTextStatic(1, origin_)
      .Bind(2, seq)
      .BindTextStatic(3, record_id)
      .Bind(4, static_cast<int>(op))
      .Bind(5, static_cast<std::int64_t>(version))
      .BindBlobStatic(6, AsBytes(entry))
      .Bind(7, body.dict)
      .BindBlobStatic(8, body.bytes);
  insert_.Run();
  tip_ = {seq, entry};
  return seq;
}

std::optional<SignedHead> ChangeLogWriter::StoreSignedHead(const HubKeys& keys) {
  if (tip_.seq == 0) return std::nullopt;
  SignedHead head = SignHead(keys, origin_, tip_.seq, tip_.hash);
  upsert_head_.BindTextStatic(1, origin_)
      .Bind(2, head.seq)
      .BindBlobStatic(3, AsBytes(head.head_hash))
      .BindBlob(4, std::span<const std::uint8_t>(head.signature));
  upsert_head_.Run();
  return head;
}

std::optional<std::string> VerifyStoredLog(sqlite::Database& db, std::string_view origin,
                                           const SignPublicKey& origin_key) {
  sqlite::Statement stmt(
      db,
      "SELECT seq, record_id, op, version, entry_hash, carehub_body(dict, body, origin, seq, "
      "record_id) FROM changes WHERE origin = ? ORDER BY seq");
  stmt.Bind(1, origin);
  ChainCursor at;
  ChangeEntry e;
  e.origin = std::string(origin);
  while (stmt.Step()) {
    e.seq = stmt.ColumnInt64(0);
    e.record_id = stmt.ColumnText(1);
    e.op = static_cast<ChangeOp>(stmt.ColumnInt(2));
    e.version = static_cast<std::int32_t>(stmt.ColumnInt64(3));
    e.entry_hash = HashFromBlob(stmt.ColumnBlob(4), "entry_hash");
    e.body = std::string(stmt.ColumnBlob(5));
    // Not stored (docs/STORE.md): the body's hash and the stored entry_hash before it.
    e.record_hash = RecordHash(e.body);
    e.prev_hash = at.hash;
    if (auto problem = VerifyChainSegment(origin, at, std::span<const ChangeEntry>(&e, 1))) {
      return problem;
    }
    at = {e.seq, e.entry_hash};
  }
  auto head = ReadHead(db, origin);
  if (!head) {
    if (at.seq == 0) return std::nullopt;
    return "origin " + std::string(origin) + ": changes without a signed head";
  }
  if (head->seq != at.seq || head->head_hash != at.hash) {
    return "origin " + std::string(origin) + ": signed head seq " + SeqText(head->seq) +
           " is not the log end seq " + SeqText(at.seq);
  }
  if (!VerifyHead(*head, origin_key)) {
    return "origin " + std::string(origin) + ": head signature does not verify";
  }
  return std::nullopt;
}

}  // namespace carehub
