// The per-origin, hash-chained, signed change log: the exact byte layouts of record_hash,
// entry_hash and the head signature (docs/STORE.md "Hashes and signatures") live here and only
// here; the exchange verifies relayed batches with VerifyBatch, the store appends its own
// changes with ChangeLogWriter. Pure functions are thread-safe; a ChangeLogWriter belongs to
// the thread that owns its Database.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hub/store/keys.h"
#include "hub/store/sqlite_db.h"

namespace carehub {

using Hash256 = std::array<std::uint8_t, 32>;
inline constexpr Hash256 kZeroHash{};

enum class ChangeOp : std::uint8_t { kUpsert = 1, kRetract = 2 };

// One entry of an origin's change log: a `changes` row, of which record_hash and prev_hash are
// not stored but recomputed when read (SHA-256 of the body; the stored entry_hash before it).
struct ChangeEntry {
  std::string origin;
  std::int64_t seq = 0;
  std::string record_id;
  ChangeOp op = ChangeOp::kUpsert;
  std::int32_t version = 1;
  Hash256 record_hash{};  // SHA-256(body)
  Hash256 prev_hash{};    // entry_hash of seq-1, zeros for seq 1
  Hash256 entry_hash{};
  std::string body;  // Avro single-object encoding exactly as the origin wrote it
  bool operator==(const ChangeEntry&) const = default;
};

// The latest signed position of an origin's log (row of the `heads` table).
struct SignedHead {
  std::string origin;
  std::int64_t seq = 0;
  Hash256 head_hash{};  // entry_hash of (origin, seq)
  Signature signature{};
  bool operator==(const SignedHead&) const = default;
};

// Where a log stands: seq 0 with zero hash is the empty log.
struct ChainCursor {
  std::int64_t seq = 0;
  Hash256 hash{};
  bool operator==(const ChainCursor&) const = default;
};

Hash256 Sha256(std::string_view bytes);
inline Hash256 RecordHash(std::string_view body) { return Sha256(body); }

// SHA-256("carehub.change.v1" || u16 len(origin) || origin || u64 seq || u8 op ||
//         u16 len(record_id) || record_id || u32 version || record_hash || prev_hash),
// integers big-endian.
Hash256 EntryHash(std::string_view origin, std::int64_t seq, ChangeOp op,
                  std::string_view record_id, std::int32_t version, const Hash256& record_hash,
                  const Hash256& prev_hash);
Hash256 EntryHash(const ChangeEntry& entry);

// "carehub.head.v1" || u16 len(origin) || origin || u64 seq || head_hash: the signed message.
std::string HeadMessage(std::string_view origin, std::int64_t seq, const Hash256& head_hash);
SignedHead SignHead(const HubKeys& keys, std::string_view origin, std::int64_t seq,
                    const Hash256& head_hash);
bool VerifyHead(const SignedHead& head, const SignPublicKey& origin_key);

// Where the hashes of entries to verify come from. kClaimed: as a peer (or the disk) gave them,
// so record_hash and entry_hash are recomputed and compared. kDerivedHere: this hub computed
// them itself from the bodies and the first prev_hash (a protocol-version-4 BATCH, decoded by
// wire::Decode), so recomputing them again proves nothing; every other check still runs.
// kRecordHashesHere: this hub computed each record_hash from the body it holds
// (Store::ReadChanges) but entry_hash is the stored one: entry_hash is recomputed and compared,
// record_hash is not hashed a second time.
enum class EntryHashes { kClaimed, kDerivedHere, kRecordHashesHere };

// Checks that `entries` continue the chain at `from` (consecutive seqs from from.seq+1, each
// prev_hash the previous entry_hash, record_hash = SHA-256(body), entry_hash recomputed, all of
// `origin`). Returns nullopt when sound, else what is wrong (no record content in the text).
std::optional<std::string> VerifyChainSegment(std::string_view origin, const ChainCursor& from,
                                              std::span<const ChangeEntry> entries,
                                              EntryHashes hashes = EntryHashes::kClaimed);
// VerifyChainSegment plus: the batch ends exactly at `head` (head.seq = last seq, head_hash =
// last entry_hash; for an empty batch head must equal `from`) and head's signature verifies
// with the origin's key.
std::optional<std::string> VerifyBatch(std::string_view origin, const ChainCursor& from,
                                       std::span<const ChangeEntry> entries, const SignedHead& head,
                                       const SignPublicKey& origin_key,
                                       EntryHashes hashes = EntryHashes::kClaimed);

// Appends this hub's own changes inside the caller's BEGIN IMMEDIATE transaction.
//   ChangeLogWriter log(db, "310000");
//   sqlite::Transaction tx(db);
//   log.Append(id, ChangeOp::kUpsert, 1, body, RecordHash(body));
//   log.StoreSignedHead(keys);
//   tx.Commit();      // on rollback call log.Reload()
// A body as a change row stores it: compressed with dictionary `dict` (body_dictionaries.id,
// hub/store/body_codec.h), or raw when `dict` is nullopt.
struct StoredBody {
  std::optional<std::int64_t> dict;
  std::string_view bytes;
};

class ChangeLogWriter {
 public:
  ChangeLogWriter(sqlite::Database& db, std::string origin);
  // Writes the change row for seq = tip.seq + 1 with `body` stored raw and returns that seq.
  std::int64_t Append(std::string_view record_id, ChangeOp op, std::int32_t version,
                      std::string_view body, const Hash256& record_hash) {
    return Append(record_id, op, version, record_hash, StoredBody{std::nullopt, body});
  }
  // The same with the body as stored; `record_hash` is SHA-256 of the uncompressed body.
  std::int64_t Append(std::string_view record_id, ChangeOp op, std::int32_t version,
                      const Hash256& record_hash, const StoredBody& body);
  // Signs the current tip and upserts the `heads` row; nullopt (and no write) for an empty log.
  std::optional<SignedHead> StoreSignedHead(const HubKeys& keys);
  // Re-reads the tip from the database, e.g. after the caller's transaction rolled back.
  void Reload();
  const ChainCursor& tip() const { return tip_; }
  const std::string& origin() const { return origin_; }

 private:
  sqlite::Database& db_;
  std::string origin_;
  ChainCursor tip_;
  sqlite::Statement insert_;
  sqlite::Statement upsert_head_;
};

// The tip of an origin's log as stored in `changes` (empty cursor when none).
ChainCursor ReadTip(sqlite::Database& db, std::string_view origin);
std::optional<SignedHead> ReadHead(sqlite::Database& db, std::string_view origin);
// Re-verifies the whole stored log of `origin` (chain, record hashes) and its signed head. Needs
// carehub_body on `db` (a Store's connection); a body that does not decompress throws.
std::optional<std::string> VerifyStoredLog(sqlite::Database& db, std::string_view origin,
                                           const SignPublicKey& origin_key);

}  // namespace carehub
