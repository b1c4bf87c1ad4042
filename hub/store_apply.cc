// The Store writes that need the Avro codec: relayed batches and retractions (kept apart from
// store.cc so that the lookups link without the codec).
#include <algorithm>
#include <cstring>

#include "hub/store.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

std::string_view Bytes(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

// Writes verified entries of a relayed origin: change rows verbatim, the current version of
// each record with its lookup columns and person tokens, then the signed head. The caller
// holds the transaction.
class RemoteWriter {
 public:
  explicit RemoteWriter(sqlite::Database& db)
      : insert_change_(db,
                       "INSERT INTO changes(origin, seq, record_id, op, version, record_hash, "
                       "prev_hash, entry_hash, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        lookup_(db, "SELECT version, body FROM records WHERE record_id = ?"),
        upsert_record_(db,
                       "INSERT INTO records(record_id, kind, origin, version, status, "
                       "subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, "
                       "content_hash, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                       "NULL, ?12) ON CONFLICT(record_id) DO UPDATE SET kind = ?2, origin = ?3, "
                       "version = ?4, status = ?5, subject_org = ?6, pivot_level = ?7, "
                       "effective_on = ?8, valid_until = ?9, seq = ?10, fingerprint = ?11, "
                       "content_hash = NULL, body = ?12"),
        insert_person_(db, "INSERT OR IGNORE INTO record_persons(token, record_id) VALUES(?, ?)"),
        delete_person_(db, "DELETE FROM record_persons WHERE token = ? AND record_id = ?"),
        upsert_head_(db,
                     "INSERT INTO heads(origin, seq, head_hash, signature) VALUES(?, ?, ?, ?) "
                     "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq, "
                     "head_hash = excluded.head_hash, signature = excluded.signature") {}

  void Write(std::string_view origin, const ChangeEntry& e) {
    insert_change_.BindTextStatic(1, origin)
        .Bind(2, e.seq)
        .BindTextStatic(3, e.record_id)
        .Bind(4, static_cast<int>(e.op))
        .Bind(5, static_cast<std::int64_t>(e.version))
        .BindBlobStatic(6, Bytes(e.record_hash))
        .BindBlobStatic(7, Bytes(e.prev_hash))
        .BindBlobStatic(8, Bytes(e.entry_hash))
        .BindBlobStatic(9, e.body)
        .Run();

    const CanonicalRecord record = DecodeSingleObject(e.body);
    if (record.record_id != e.record_id) {
      throw Error::Corruption("change " + std::string(origin) + "/" + std::to_string(e.seq) +
                              ": body is of another record");
    }
    const RecordColumns columns = ColumnsOf(record);
    lookup_.BindTextStatic(1, e.record_id);
    if (lookup_.Step()) {
      const int stored_version = lookup_.ColumnInt(0);
      if (stored_version > e.version) {  // an older version: the log keeps it, records do not
        lookup_.Reset();
        return;
      }
      const CanonicalRecord previous = DecodeSingleObject(lookup_.ColumnBlob(1));
      lookup_.Reset();
      for (const Hmac256& token : ColumnsOf(previous).tokens) {
        if (std::find(columns.tokens.begin(), columns.tokens.end(), token) !=
            columns.tokens.end()) {
          continue;
        }
        delete_person_.BindBlob(1, std::span<const std::uint8_t>(token))
            .BindTextStatic(2, e.record_id)
            .Run();
      }
    } else {
      lookup_.Reset();
    }
    const auto fingerprint = SingleObjectFingerprint(e.body);
    upsert_record_.BindTextStatic(1, e.record_id)
        .BindTextStatic(2, KindName(record.kind()))
        .BindTextStatic(3, origin)
        .Bind(4, static_cast<std::int64_t>(e.version))
        .BindTextStatic(5, StatusName(record.status))
        .Bind(6, columns.subject_org)
        .Bind(7, columns.pivot_level)
        .Bind(8, columns.effective_on)
        .Bind(9, columns.valid_until)
        .Bind(10, e.seq)
        .Bind(11, static_cast<std::int64_t>(fingerprint.value_or(0)))
        .BindBlobStatic(12, e.body)
        .Run();
    for (const Hmac256& token : columns.tokens) {
      insert_person_.BindBlob(1, std::span<const std::uint8_t>(token))
          .BindTextStatic(2, e.record_id)
          .Run();
    }
  }

  void WriteHead(const SignedHead& head) {
    upsert_head_.BindTextStatic(1, head.origin)
        .Bind(2, head.seq)
        .BindBlobStatic(3, Bytes(head.head_hash))
        .BindBlob(4, std::span<const std::uint8_t>(head.signature))
        .Run();
  }

 private:
  sqlite::Statement insert_change_, lookup_, upsert_record_, insert_person_, delete_person_,
      upsert_head_;
};

}  // namespace

Hash256 ContentHash(CanonicalRecord& record, std::string& scratch) {
  Provenance& p = record.provenance;
  std::string file = std::move(p.source_file);
  const std::int64_t row = p.source_row;
  const std::int64_t at = p.ingested_at_ms;
  const int version = record.version;
  p.source_file.clear();
  p.source_row = 0;
  p.ingested_at_ms = 0;
  record.version = 0;
  scratch.clear();
  EncodeBody(record, scratch);
  p.source_file = std::move(file);
  p.source_row = row;
  p.ingested_at_ms = at;
  record.version = version;
  return Sha256(scratch);
}

ApplyResult Store::ApplyRemoteBatch(std::string_view origin, std::span<const ChangeEntry> entries,
                                    const SignedHead& head, const SignPublicKey& origin_key) {
  if (origin == region_) {
    return {0, "changes of origin " + std::string(origin) + " are this hub's own"};
  }
  sqlite::Transaction tx(db_);
  const ChainCursor tip = ReadTip(db_, origin);
  // Entries this hub holds already (a duplicate or overlapping pull) are skipped; what is
  // left must continue the stored chain exactly.
  std::size_t first = 0;
  while (first < entries.size() && entries[first].seq <= tip.seq) ++first;
  const auto fresh = entries.subspan(first);
  if (fresh.empty() && head.seq <= tip.seq) return {0, std::nullopt};
  if (auto problem = VerifyBatch(origin, tip, fresh, head, origin_key)) return {0, problem};
  RemoteWriter writer(db_);
  for (const ChangeEntry& e : fresh) writer.Write(origin, e);
  writer.WriteHead(head);
  tx.Commit();
  return {static_cast<std::int64_t>(fresh.size()), std::nullopt};
}

std::int64_t Store::ApplyVerifiedBatch(std::string_view origin,
                                       std::span<const ChangeEntry> entries,
                                       const SignedHead& head) {
  sqlite::Transaction tx(db_);
  RemoteWriter writer(db_);
  for (const ChangeEntry& e : entries) writer.Write(origin, e);
  writer.WriteHead(head);
  tx.Commit();
  return static_cast<std::int64_t>(entries.size());
}

std::optional<int> Store::Retract(std::string_view record_id) {
  sqlite::Transaction tx(db_);
  auto stored = RecordById(record_id);
  if (!stored) return std::nullopt;
  if (stored->origin != region_) {
    throw Error::InvalidInput("record " + std::string(record_id) + " belongs to origin " +
                              stored->origin + "; only its origin can retract it");
  }
  if (stored->status == RecordStatus::kRetracted) return std::nullopt;
  CanonicalRecord record = DecodeSingleObject(stored->body);
  record.status = RecordStatus::kRetracted;
  record.version = stored->version + 1;
  std::string scratch;
  const Hash256 content = ContentHash(record, scratch);
  const std::string body = EncodeSingleObject(record);
  const Hash256 record_hash = RecordHash(body);
  ChangeLogWriter log(db_, region_);
  const std::int64_t seq =
      log.Append(record.record_id, ChangeOp::kRetract, record.version, body, record_hash);
  sqlite::Statement update(db_,
                           "UPDATE records SET version = ?, status = ?, seq = ?, "
                           "content_hash = ?, body = ? WHERE record_id = ?");
  update.Bind(1, record.version)
      .Bind(2, StatusName(record.status))
      .Bind(3, seq)
      .BindBlob(4, Bytes(content))
      .BindBlob(5, body)
      .Bind(6, record_id)
      .Run();
  log.StoreSignedHead(keys_);
  tx.Commit();
  return record.version;
}

}  // namespace carehub
