// The Store operations that need the Avro codec: relayed batches, retractions and the lookup by
// person token (which checks candidates against the tokens in their bodies); kept apart from
// store.cc so that the other lookups link without the codec.
#include <algorithm>
#include <cstring>
#include <set>

#include "hub/store/body_codec.h"
#include "hub/store/bulk_load.h"
#include "hub/store/lookup_keys.h"
#include "hub/store/person_rows.h"
#include "hub/store/relayed_bulk.h"
#include "hub/store/store.h"
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
  // Person rows go to `persons`, written by its owner before the commit (person_rows.h).
  // `bulk`: the relayed bulk path (relayed_bulk.h), `on_run` when this batch's origin is on it.
  RemoteWriter(sqlite::Database& db, BodyCodec& bodies, PersonRows& persons,
               RelayedBulk* bulk = nullptr, bool on_run = false)
      : bodies_(bodies),
        persons_(persons),
        bulk_(bulk),
        on_run_(on_run),
        // record_hash and prev_hash were checked (VerifyBatch) and are not stored (derivable);
        // the body is stored compressed when its schema has a dictionary.
        insert_change_(db,
                       "INSERT INTO changes(origin, seq, record_id, op, version, entry_hash, "
                       "dict, body) VALUES(?, ?, ?, ?, ?, ?, ?, ?)"),
        // The stored version's body is its change's (dict and body NULL when that change is
        // missing).
        lookup_(db,
                "SELECT r.rowid, r.version, c.dict, c.body FROM records r LEFT JOIN changes c ON "
                "c.origin = r.origin AND c.seq = r.seq WHERE r.record_key = ? AND r.record_id = ?"),
        insert_record_(db,
                       "INSERT INTO records(record_id, record_key, kind, origin, version, status, "
                       "subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, "
                       "content_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                       "?12, NULL)"),
        update_record_(db,
                       "UPDATE records SET kind = ?3, origin = ?4, version = ?5, status = ?6, "
                       "subject_org = ?7, pivot_level = ?8, effective_on = ?9, valid_until = ?10, "
                       "seq = ?11, fingerprint = ?12, content_hash = NULL "
                       "WHERE rowid = ?1 AND record_key = ?2"),
        upsert_head_(db,
                     "INSERT INTO heads(origin, seq, head_hash, signature) VALUES(?, ?, ?, ?) "
                     "ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq, "
                     "head_hash = excluded.head_hash, signature = excluded.signature"),
        db_(db) {
    bodies_.StoreTrained();  // a rolled-back transaction may have taken their rows
    // A bulk load of the hub's own file may have dropped the record indexes (bulk_load.h):
    // without them every lookup below would scan `records`, so they are built first, in this
    // transaction. The load then goes on without dropping them again. A batch on the relayed
    // bulk path probes only what may exist (RelayedBulk::IsNew), building them then.
    if (on_run_) return;
    if (bulk_ != nullptr) bulk_->NeedIndexes();
    if (!RecordIndexesPresent(db)) BuildRecordIndexes(db);
  }

  // `prepared`: PrepareRelayedOne(origin, e), or null (prepared here).
  void Write(std::string_view origin, const ChangeEntry& e,
             const RelayedColumns* prepared = nullptr) {
    WriteChange(origin, e, prepared);
    WriteRecord(origin, e, prepared);
  }

  // The body as stored: compressed by PrepareRelayed when it used the dictionary this codec
  // encodes the schema with (the same bytes), else encoded here.
  void WriteChange(std::string_view origin, const ChangeEntry& e,
                   const RelayedColumns* prepared = nullptr) {
    std::optional<std::int64_t> dict;
    std::string_view stored;
    if (prepared != nullptr && prepared->received) {
      StoreReceived(*prepared->received);
      dict = prepared->dict;
      stored = prepared->compressed;
    } else if (prepared != nullptr && prepared->dict && EncodesWith(*prepared)) {
      dict = prepared->dict;
      stored = prepared->compressed;
    } else {
      dict = bodies_.Encode(e.body, compressed_);
      stored = dict ? std::string_view(compressed_) : std::string_view(e.body);
    }
    insert_change_.BindTextStatic(1, origin)
        .Bind(2, e.seq)
        .BindTextStatic(3, e.record_id)
        .Bind(4, static_cast<int>(e.op))
        .Bind(5, static_cast<std::int64_t>(e.version))
        .BindBlobStatic(6, Bytes(e.entry_hash))
        .Bind(7, dict)
        .BindBlobStatic(8, stored)
        .Run();
  }

  // The current version of the record from `e`, whose change row is written already (an older
  // version than the stored one is kept in the log only). The records row points at the change
  // (origin, seq) and holds no body of its own.
  void WriteRecord(std::string_view origin, const ChangeEntry& e,
                   const RelayedColumns* prepared = nullptr) {
    std::optional<RelayedColumns> own;
    const RelayedColumns& p = prepared ? *prepared : own.emplace(PrepareRelayedOne(origin, e));
    if (!p.of_entry) {
      throw Error::Corruption("change " + std::string(origin) + "/" + std::to_string(e.seq) +
                              ": body is of another record");
    }
    const RecordColumns& columns = p.columns;
    const std::int64_t record_key = p.record_key;
    std::optional<std::int64_t> stored_rowid;
    if (!on_run_ || !bulk_->IsNew(origin, e.version, p.derived_id, record_key)) {
      if (bulk_ != nullptr) {
        bulk_->NeedIndexes();
        bulk_->Written(record_key);  // (IsNew adds the keys it lets through)
      }
      if (!Probe(e, columns, record_key, stored_rowid)) return;  // an older version
    }
    sqlite::Statement& write = stored_rowid ? update_record_ : insert_record_;
    if (stored_rowid) {
      write.Bind(1, *stored_rowid);
    } else {
      write.BindTextStatic(1, e.record_id);
    }
    write.Bind(2, record_key)
        .BindTextStatic(3, KindName(p.kind))
        .BindTextStatic(4, origin)
        .Bind(5, static_cast<std::int64_t>(e.version))
        .BindTextStatic(6, StatusName(p.status))
        .Bind(7, columns.subject_org)
        .Bind(8, columns.pivot_level)
        .Bind(9, columns.effective_on)
        .Bind(10, columns.valid_until)
        .Bind(11, e.seq)
        .Bind(12, static_cast<std::int64_t>(p.fingerprint))
        .Run();
    for (const Hmac256& token : columns.tokens) {
      persons_.Insert(TokenKey(token), record_key);
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
  // A dictionary a version-6 BATCH's frames use, stored in this transaction unless it is
  // (StoreBodyDictionary: a different dictionary under its id throws Error::Corruption). Once
  // per dictionary and writer (a batch's).
  void StoreReceived(const BodyDictionary& d) {
    if (received_.count(d.id())) return;
    StoreBodyDictionary(db_.handle(), d);
    received_.insert(d.id());
  }

  bool EncodesWith(const RelayedColumns& p) {
    if (p.fingerprint != encoding_fingerprint_ || !encoding_) {
      encoding_ = bodies_.EncodingDictionary(p.fingerprint);
      encoding_fingerprint_ = p.fingerprint;
    }
    return encoding_ && encoding_->id() == *p.dict;
  }

  // Looks the record up: false when the stored version is newer than e's (the log keeps e,
  // records do not); else `stored_rowid` is its row, if any, and the person rows of tokens the
  // new version drops are queued for deletion.
  bool Probe(const ChangeEntry& e, const RecordColumns& columns, std::int64_t record_key,
             std::optional<std::int64_t>& stored_rowid) {
    lookup_.Bind(1, record_key).BindTextStatic(2, e.record_id);
    if (!lookup_.Step()) {
      lookup_.Reset();
      return true;
    }
    stored_rowid = lookup_.ColumnInt64(0);
    const int stored_version = lookup_.ColumnInt(1);
    if (stored_version > e.version) {
      lookup_.Reset();
      return false;
    }
    const std::optional<CanonicalRecord> previous = PreviousVersion();
    lookup_.Reset();
    if (!previous) {  // its change is gone or damaged: drop all its persons
      persons_.DeleteAll(record_key);
    } else {
      for (const std::int64_t key : DroppedTokenKeys(ColumnsOf(*previous).tokens, columns.tokens)) {
        persons_.Delete(key, record_key);
      }
    }
    return true;
  }

  // The stored version found by lookup_, nullopt when its change is missing or damaged.
  std::optional<CanonicalRecord> PreviousVersion() {
    if (lookup_.IsNull(3)) return std::nullopt;
    try {
      return DecodeSingleObject(
          bodies_.Read(lookup_.ColumnOptionalInt64(2), lookup_.ColumnBlob(3), scratch_));
    } catch (const Error&) {
      return std::nullopt;
    }
  }

  BodyCodec& bodies_;
  std::string compressed_, scratch_;
  DictionaryPtr encoding_;           // bodies_' dictionary of encoding_fingerprint_ (EncodesWith)
  std::set<std::int64_t> received_;  // dictionaries StoreReceived stored (or found stored)
  std::uint64_t encoding_fingerprint_ = 0;
  PersonRows& persons_;
  RelayedBulk* bulk_;
  bool on_run_;
  sqlite::Statement insert_change_, lookup_, insert_record_, update_record_, upsert_head_;
  sqlite::Database& db_;
};

}  // namespace

RelayedColumns PrepareRelayedOne(std::string_view origin, const ChangeEntry& e) {
  const CanonicalRecord record = DecodeSingleObject(e.body);
  RelayedColumns p;
  p.kind = record.kind();
  p.status = record.status;
  p.columns = ColumnsOf(record);
  p.record_key = RecordKey(e.record_id);
  p.fingerprint = SingleObjectFingerprint(e.body).value_or(0);
  p.of_entry = record.record_id == e.record_id;
  p.derived_id =
      e.version == 1 &&
      MakeRecordId(origin, p.kind, record.provenance.source_record_id) == record.record_id;
  return p;
}

// PrepareRelayed: relayed_prepare.cc.

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

namespace {

constexpr std::size_t kPrefetchAhead = 4;

// Store::ApplyRemoteBatch, with the relayed bulk path when `bulk` is given.
ApplyResult ApplyRemote(Store& store, std::string_view origin, std::span<const ChangeEntry> entries,
                        const SignedHead& head, const SignPublicKey& origin_key, EntryHashes hashes,
                        PersonRows* group_persons, RelayedBulk* bulk,
                        std::span<const RelayedColumns> prepared) {
  if (origin == store.region()) {
    return {0, "changes of origin " + std::string(origin) + " are this hub's own"};
  }
  sqlite::Database& db = store.db();
  sqlite::Transaction tx(db);
  const ChainCursor tip = ReadTip(db, origin);
  // Entries this hub holds already (a duplicate or overlapping pull) are skipped; what is
  // left must continue the stored chain exactly.
  std::size_t first = 0;
  while (first < entries.size() && entries[first].seq <= tip.seq) ++first;
  const auto fresh = entries.subspan(first);
  if (prepared.size() == entries.size()) {
    prepared = prepared.subspan(first);
  } else {
    prepared = {};  // each entry prepared by the writer
  }
  if (fresh.empty() && head.seq <= tip.seq) return {0, std::nullopt};
  if (auto problem = VerifyBatch(origin, tip, fresh, head, origin_key, hashes)) {
    return {0, problem};
  }
  std::optional<PersonRows> own_persons;
  PersonRows& persons = group_persons ? *group_persons : own_persons.emplace(db);
  const std::size_t mark = persons.Size();
  try {
    const bool on_run = bulk != nullptr && bulk->BeginBatch(std::string(origin), tip.seq);
    RemoteWriter writer(db, store.bodies(), persons, bulk, on_run);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      // The record key set's slot of the entry a few ahead (IsNew: a cache miss each otherwise).
      if (on_run && i + kPrefetchAhead < prepared.size()) {
        bulk->Prefetch(prepared[i + kPrefetchAhead].record_key);
      }
      writer.Write(origin, fresh[i], prepared.empty() ? nullptr : &prepared[i]);
    }
    writer.WriteHead(head);
    if (bulk != nullptr) bulk->EndBatch(std::string(origin), head.seq);
    if (!group_persons) persons.Flush();
    tx.Commit();
  } catch (...) {
    persons.Truncate(mark);  // this batch's savepoint is rolled back with its person rows
    if (bulk != nullptr) bulk->RolledBack();
    throw;
  }
  return {static_cast<std::int64_t>(fresh.size()), std::nullopt};
}

}  // namespace

ApplyResult Store::ApplyRemoteBatch(std::string_view origin, std::span<const ChangeEntry> entries,
                                    const SignedHead& head, const SignPublicKey& origin_key,
                                    EntryHashes hashes, PersonRows* group_persons) {
  return ApplyRemote(*this, origin, entries, head, origin_key, hashes, group_persons, nullptr, {});
}

ApplyResult ApplyRemoteBatch(Store& store, std::string_view origin,
                             std::span<const ChangeEntry> entries, const SignedHead& head,
                             const SignPublicKey& origin_key, EntryHashes hashes,
                             PersonRows* group_persons, RelayedBulk& bulk,
                             std::span<const RelayedColumns> prepared) {
  return ApplyRemote(store, origin, entries, head, origin_key, hashes, group_persons, &bulk,
                     prepared);
}

void Store::DropRecord(std::string_view record_id) {
  const std::int64_t record_key = RecordKey(record_id);
  sqlite::Statement lookup(db_,
                           "SELECT r.rowid, c.dict, c.body FROM records r LEFT JOIN changes c ON "
                           "c.origin = r.origin AND c.seq = r.seq "
                           "WHERE r.record_key = ? AND r.record_id = ?");
  lookup.Bind(1, record_key).Bind(2, record_id);
  sqlite::Statement drop_person(
      db_, "DELETE FROM record_persons WHERE token_key = ? AND record_key = ?");
  sqlite::Statement drop_row(db_, "DELETE FROM records WHERE rowid = ?");
  std::string scratch;
  while (lookup.Step()) {
    bool decoded = false;
    try {
      const std::string_view body =
          bodies_->Read(lookup.ColumnOptionalInt64(1), lookup.ColumnBlob(2), scratch);
      for (const Hmac256& token : ColumnsOf(DecodeSingleObject(body)).tokens) {
        drop_person.Bind(1, TokenKey(token)).Bind(2, record_key).Run();
      }
      decoded = true;
    } catch (const Error&) {
    }
    if (!decoded) {
      // A damaged body no longer names its persons: drop every person row of the key (a key
      // shared with another record only makes that record's rows be re-added by its repair).
      sqlite::Statement all(db_, "DELETE FROM record_persons WHERE record_key = ?");
      all.Bind(1, record_key).Run();
    }
    drop_row.Bind(1, lookup.ColumnInt64(0)).Run();
  }
}

void Store::RestoreRecord(const ChangeEntry& change) {
  DropRecord(change.record_id);
  PersonRows persons(db_);
  RemoteWriter writer(db_, *bodies_, persons);
  writer.WriteRecord(change.origin, change);
  persons.Flush();
  if (change.origin != region_) return;
  // Own records carry the content hash that makes a re-ingest of the same row "unchanged".
  CanonicalRecord record = DecodeSingleObject(change.body);
  std::string scratch;
  const Hash256 content = ContentHash(record, scratch);
  sqlite::Statement update(
      db_, "UPDATE records SET content_hash = ? WHERE record_key = ? AND record_id = ?");
  update.BindBlob(1, Bytes(content)).Bind(2, RecordKey(change.record_id)).Bind(3, change.record_id);
  update.Run();
}

std::int64_t Store::ApplyVerifiedBatch(std::string_view origin,
                                       std::span<const ChangeEntry> entries,
                                       const SignedHead& head) {
  sqlite::Transaction tx(db_);
  PersonRows persons(db_);
  RemoteWriter writer(db_, *bodies_, persons);
  for (const ChangeEntry& e : entries) writer.Write(origin, e);
  writer.WriteHead(head);
  persons.Flush();
  tx.Commit();
  return static_cast<std::int64_t>(entries.size());
}

std::vector<StoredRecord> Store::RecordsByToken(const Hmac256& token) {
  // record_persons holds 8-byte keys: the candidates are checked against the full token.
  sqlite::Statement stmt(db_, "SELECT " + std::string(kRecordColumns) + " FROM " +
                                  std::string(kRecordsWithBody) +
                                  " WHERE r.record_key IN "
                                  "(SELECT record_key FROM record_persons WHERE token_key = ?) "
                                  "ORDER BY r.record_id");
  stmt.Bind(1, TokenKey(token));
  std::vector<StoredRecord> out;
  while (stmt.Step()) {
    StoredRecord stored = ReadStoredRecord(stmt);
    const std::vector<Hmac256> tokens = ColumnsOf(DecodeSingleObject(stored.body)).tokens;
    if (std::find(tokens.begin(), tokens.end(), token) != tokens.end()) {
      out.push_back(std::move(stored));
    }
  }
  return out;
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
  bodies_->StoreTrained();
  std::string compressed;
  const std::optional<std::int64_t> dict = bodies_->Encode(body, compressed);
  ChangeLogWriter log(db_, region_);
  const std::int64_t seq =
      log.Append(record.record_id, ChangeOp::kRetract, record.version, record_hash,
                 {dict, dict ? std::string_view(compressed) : std::string_view(body)});
  sqlite::Statement update(db_,
                           "UPDATE records SET version = ?, status = ?, seq = ?, "
                           "content_hash = ? WHERE record_key = ? AND record_id = ?");
  update.Bind(1, record.version)
      .Bind(2, StatusName(record.status))
      .Bind(3, seq)
      .BindBlob(4, Bytes(content))
      .Bind(5, RecordKey(record_id))
      .Bind(6, record_id)
      .Run();
  log.StoreSignedHead(keys_);
  tx.Commit();
  return record.version;
}

}  // namespace carehub
