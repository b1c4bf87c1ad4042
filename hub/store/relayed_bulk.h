// The bulk path of relayed batches (a hub's first catch-up of an origin): the same idea as an
// ingest's bulk load (bulk_load.h) for Store::ApplyRemoteBatch. While the store holds nothing
// of an origin, an entry that creates a record of it needs no id probe, and when the store is
// small beside what is to come, the record indexes are dropped with the first batch and built
// once, sorted, when the catch-up ends (docs/STORE.md "Relayed bulk path").
//
// Why the probe may be skipped (IsNew): an entry of version 1 creates its record (a later
// version always follows one of the same origin's log); its id is checked to be the one its
// origin derives (MakeRecordId(origin, kind, source id): no other origin's record can carry it
// unless that log forged it); the origin's log was empty here when the run joined it and its
// tip is still the one this run left (else the origin leaves the path, as BulkLoad does); and
// the record key of every record written through the run is in an exact set (IdSet,
// connectors/id_set.h: a table, then a sorted temporary file behind a blocked Bloom filter), so
// a malformed log that creates one record twice is probed. Anything else is probed; a probe
// while the indexes are dropped builds them first (the drop ends, the probes skipped so far stay
// valid). The set is exact because of that: with a Bloom filter of the keys, every false hit
// was a probe that ended the drop (32 bits per record: ~4 of them expected in a 1M catch-up).
//
// Contract: one writer thread, one connection; BeginBatch, IsNew and Written are called inside
// the batch's transaction. The dropped indexes are derived data: a crash leaves a consistent
// store without them and the next read-write open builds them (RepairRecordIndexes). A rolled
// back transaction restores them; the run then keeps them. Finish builds what is missing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/id_set.h"
#include "hub/store/body_codec.h"
#include "hub/store/sqlite_db.h"
#include "hub/store/store.h"
#include "schemas/record.h"

namespace carehub {

class RelayedBulk {
 public:
  // `may_drop` false: the indexes are never dropped (a serving hub whose background check
  // looks records up by id on the loop thread: without them each lookup would scan).
  // `keys_in_memory`: record keys the set holds in memory before it spills (IdSet). The set is
  // the reader's: an 8 MiB table, then with the first spill a fixed 8 MiB Bloom filter, so its
  // memory stays put from ~790k records to 11M (a filter grown at 10 bits per key was the part
  // of a catch-up's memory that grew with the records: 6 MB at 5M).
  static constexpr std::size_t kKeysInMemory = IdSet::kDefaultSpillAt;
  explicit RelayedBulk(sqlite::Database& db, bool may_drop = true,
                       std::size_t keys_in_memory = kKeysInMemory)
      : db_(db), keys_in_memory_(keys_in_memory), drop_tried_(!may_drop) {}
  ~RelayedBulk();  // builds indexes still dropped, errors ignored (the next open builds them)
  RelayedBulk(const RelayedBulk&) = delete;
  RelayedBulk& operator=(const RelayedBulk&) = delete;

  // Before a batch of `origin`: the origin's seq this hub knows to be coming (its advertised
  // head), which decides the drop and ends the origin's run once reached (ShouldFinish).
  void Expect(const std::string& origin, std::int64_t advertised_seq);
  // In the batch's transaction, with the origin's stored tip: joins the origin when its log is
  // empty (dropping the indexes with the first batch when the store holds at most as many
  // records as are coming), leaves it when someone else appended since this run's last batch.
  // Returns true when the batch's entries may skip the probe (IsNew).
  bool BeginBatch(const std::string& origin, std::int64_t tip_seq);
  // After the batch's writes (same transaction), with the tip it left.
  void EndBatch(const std::string& origin, std::int64_t tip_seq);
  // True when the entry can only create its record (see the header comment; `derived_id`: its
  // id is the one its origin derives); its key is then in the set (written without a probe).
  bool IsNew(std::string_view origin, std::int32_t version, bool derived_id,
             std::int64_t record_key);
  // A hint: `record_key` is likely to be passed to IsNew soon (a few entries ahead); its set
  // lookup is fetched into the cache meanwhile. No effect on the run.
  void Prefetch(std::int64_t record_key) const {
    if (written_) written_->Prefetch(static_cast<std::uint64_t>(record_key));
  }
  // Every other record written (or probed) while a run is open, whatever its origin.
  void Written(std::int64_t record_key);
  // A probe is about to be made: builds the indexes this run dropped first.
  void NeedIndexes();
  // True when the run should end: every joined origin reached the head it was expected to
  // reach (or every one left while the indexes are dropped).
  bool ShouldFinish() const;
  // Ends the run (in the caller's transaction): builds the indexes it dropped; no origin joins
  // again and every entry is probed from now on.
  void Finish();
  // The transaction of the current batch or group was rolled back: the run ends (see above).
  void RolledBack();

 private:
  struct OriginRun {
    std::int64_t tip = 0;     // the tip this run left
    std::int64_t target = 0;  // the advertised head
  };
  bool Insert(std::int64_t record_key);  // IdSet::Insert; an I/O error ends the run

  sqlite::Database& db_;
  std::map<std::string, std::int64_t, std::less<>> expected_;  // origin -> advertised head
  std::map<std::string, OriginRun, std::less<>> runs_;         // joined origins
  std::optional<IdSet> written_;  // the record keys written while the run is open
  std::size_t keys_in_memory_;
  bool dropped_ = false;
  bool drop_tried_ = false;
  bool finished_ = false;
};

// What the writer needs of a relayed entry's body besides its bytes: the body decoded once into
// its lookup columns, and compressed when the writer's dictionary is known. PrepareRelayed runs
// off the writer thread (the exchange's decoder thread prepares a batch while the writer writes
// the one before), so the writer mostly only inserts.
struct RelayedColumns {
  RecordKind kind = RecordKind::kAssessment;
  RecordStatus status = RecordStatus::kActive;
  RecordColumns columns;
  std::int64_t record_key = 0;    // RecordKey(the entry's record_id)
  std::uint64_t fingerprint = 0;  // the writer schema's (0: none)
  bool of_entry = false;          // the body's record_id is the entry's
  bool derived_id = false;        // version 1 and the id its origin derives (IsNew)
  // The body compressed with dictionary `dict` (PrepareRelayed given the writer's encoding
  // dictionaries); the writer stores these bytes when its codec encodes the schema with the
  // same dictionary, else it compresses the body itself.
  std::optional<std::int64_t> dict;
  std::string compressed;
  // Set when `compressed` is the frame as received (a version-6 BATCH, compressed with
  // `received`, not necessarily the writer's dictionary): the writer stores it unchanged under
  // its id, storing the dictionary too when it has not yet.
  DictionaryPtr received;
};
// Throws Error as DecodeSingleObject does when a body does not decode.
RelayedColumns PrepareRelayedOne(std::string_view origin, const ChangeEntry& e);
// The same columns for every entry (relayed_prepare.cc): bodies of a builtin writer schema are
// read with a ProjectionReader instead of being decoded in full (the same values; a body the
// projection does not take is decoded by PrepareRelayedOne, which throws as it does). With
// `dictionaries` (writer schema -> the dictionary the writer's BodyCodec encodes it with), each
// body of such a schema is also compressed (`dict`, `compressed`). With `received` (one per
// entry: the bodies as a version-6 BATCH sent them), a received frame is taken instead (moved
// out of `received`) and only the raw bodies are compressed.
std::vector<RelayedColumns> PrepareRelayed(
    std::string_view origin, std::span<const ChangeEntry> entries,
    const std::map<std::uint64_t, DictionaryPtr>* dictionaries = nullptr,
    std::span<CompressedBody> received = {});
// The same into `out` (replaced; one per entry): the columns it holds from an earlier batch are
// overwritten in place, keeping their buffers, so a receiver that prepares batch after batch
// into recycled vectors allocates little per entry once warmed up (a frame taken from
// `received` replaces the buffer of its entry's `compressed`, which is freed).
void PrepareRelayed(std::string_view origin, std::span<const ChangeEntry> entries,
                    const std::map<std::uint64_t, DictionaryPtr>* dictionaries,
                    std::span<CompressedBody> received, std::vector<RelayedColumns>& out);

// Store::ApplyRemoteBatch on the relayed bulk path `bulk` (the same checks, transaction and
// result; the run ends on an exception). `prepared`: PrepareRelayed of `entries`, or empty (the
// writer prepares each entry itself).
ApplyResult ApplyRemoteBatch(Store& store, std::string_view origin,
                             std::span<const ChangeEntry> entries, const SignedHead& head,
                             const SignPublicKey& origin_key, EntryHashes hashes,
                             PersonRows* group_persons, RelayedBulk& bulk,
                             std::span<const RelayedColumns> prepared = {});

}  // namespace carehub
