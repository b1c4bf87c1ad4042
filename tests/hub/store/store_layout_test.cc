// Issue 16, migration step 12: a change row stores neither record_hash nor prev_hash (both are
// recomputed where needed), and its body compressed with a zstd dictionary trained per schema.
// A hub in the step-11 layout keeps every entry, record, digest and served batch across the
// upgrade, verifies, and goes on ingesting (compressed) and relaying. Compressed and raw hubs
// hand out byte-identical bodies and digests; a damaged compressed body is named by reads and
// verify and repaired from a member.
#include <gtest/gtest.h>

#include "hub/store/body_codec.h"
#include "hub/store/compact.h"
#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/migrations.h"
#include "hub/store/verify.h"
#include "schemas/codec.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;

void Ingest(Store& store, int from, int count, const std::string& name, int batch_size = 100) {
  IngestSink sink(store, "/data/" + name + ".csv", "sha-" + name, "shanghai/assessment",
                  {.batch_size = batch_size});
  for (int i = from; i < from + count; ++i) sink.Accept(TestAssessment(i));
  sink.Finish();
}

// A history with every kind of entry: `count` records, new versions (score 99) of the first
// `updated`, and a retraction of record 7.
void IngestUpdateRetract(Store& store, int count, int updated) {
  Ingest(store, 0, count, "first");
  IngestSink sink(store, "/data/v2.csv", "sha-v2", "shanghai/assessment", {.batch_size = 100});
  for (int i = 0; i < updated; ++i) {
    CanonicalRecord r = TestAssessment(i);
    std::get<Assessment>(r.body).total_score = 99;
    sink.Accept(std::move(r));
  }
  EXPECT_EQ(sink.Finish().updated, updated);
  ASSERT_TRUE(store.Retract(TestAssessment(7).record_id).has_value());
}

// Relays `origin` from `from` into `to` one signed head at a time, as the exchange does.
void Relay(Store& from, Store& to, const std::string& origin) {
  sqlite::Statement heads(from.db(),
                          "SELECT seq FROM signed_heads WHERE origin = ? AND seq > ? ORDER BY seq");
  heads.Bind(1, origin).Bind(2, to.Tip(origin).seq);
  std::vector<std::int64_t> seqs;
  while (heads.Step()) seqs.push_back(heads.ColumnInt64(0));
  for (const std::int64_t seq : seqs) {
    const ChainCursor tip = to.Tip(origin);
    const auto entries = from.ReadChanges(origin, tip.seq, seq - tip.seq);
    sqlite::Statement head(from.db(),
                           "SELECT head_hash, signature FROM signed_heads WHERE origin = ? AND "
                           "seq = ?");
    head.Bind(1, origin).Bind(2, seq);
    ASSERT_TRUE(head.Step());
    SignedHead signed_head{origin, seq, {}, {}};
    std::copy(head.ColumnBlob(0).begin(), head.ColumnBlob(0).end(), signed_head.head_hash.begin());
    std::copy(head.ColumnBlob(1).begin(), head.ColumnBlob(1).end(), signed_head.signature.begin());
    const ApplyResult result =
        to.ApplyRemoteBatch(origin, entries, signed_head, from.keys().sign_public());
    ASSERT_FALSE(result.rejected.has_value()) << *result.rejected;
  }
}

// Every record as read: id, version, status, body (uncompressed).
std::vector<std::string> RecordsAsRead(Store& store) {
  std::vector<std::string> rows;
  store.ForEachRecord({}, [&rows](const StoredRecord& r) {
    rows.push_back(r.record_id + "|" + std::to_string(r.version) + "|" +
                   std::string(StatusName(r.status)) + "|" + r.body);
    return true;
  });
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::int64_t Count(Store& store, const std::string& sql) {
  return store.db().QueryInt(sql).value_or(-1);
}

// The layout of step 11: changes(origin, seq, record_id, op, version, record_hash, prev_hash,
// entry_hash, body), the hashes filled as the step-11 writers did, bodies raw; no dictionaries.
void BackToTheLayoutOfStep11(Store& store) {
  sqlite::Database& db = store.db();
  sqlite::Transaction tx(db);
  db.Exec(
      "CREATE TABLE changes_v11(origin TEXT NOT NULL, seq INTEGER NOT NULL, record_id TEXT NOT "
      "NULL, op INTEGER NOT NULL, version INTEGER NOT NULL, record_hash BLOB NOT NULL, prev_hash "
      "BLOB NOT NULL, entry_hash BLOB NOT NULL, body BLOB NOT NULL)");
  {
    sqlite::Statement read(db,
                           "SELECT rowid, origin, seq, record_id, op, version, entry_hash, "
                           "carehub_body(dict, body, origin, seq, record_id) FROM changes "
                           "ORDER BY origin, seq");
    sqlite::Statement write(db,
                            "INSERT INTO changes_v11(rowid, origin, seq, record_id, op, version, "
                            "record_hash, prev_hash, entry_hash, body) "
                            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    std::string origin;
    std::string prev(32, '\0');
    while (read.Step()) {
      if (read.ColumnText(1) != origin) prev.assign(32, '\0');
      origin = read.ColumnText(1);
      const Hash256 record_hash = RecordHash(read.ColumnBlob(7));
      write.Bind(1, read.ColumnInt64(0))
          .Bind(2, origin)
          .Bind(3, read.ColumnInt64(2))
          .Bind(4, read.ColumnText(3))
          .Bind(5, read.ColumnInt64(4))
          .Bind(6, read.ColumnInt64(5))
          .BindBlob(7, std::span<const std::uint8_t>(record_hash))
          .BindBlob(8, prev)
          .BindBlob(9, read.ColumnBlob(6))
          .BindBlob(10, read.ColumnBlob(7))
          .Run();
      prev = std::string(read.ColumnBlob(6));
    }
  }
  db.Exec(
      "DROP TABLE changes; ALTER TABLE changes_v11 RENAME TO changes; "
      "CREATE UNIQUE INDEX changes_origin_seq ON changes(origin, seq); "
      "DROP TABLE body_dictionaries; PRAGMA user_version=11");
  tx.Commit();
}

class StoreLayoutTest : public ::testing::Test {
 protected:
  StoreLayoutTest()
      : a_(Store::Init(tmp_ / "a", {.region = "sh"})),
        b_(Store::Init(tmp_ / "b",
                       {.region = "js", .federation_key_file = tmp_ / "a" / "federation.key"})) {}

  TempDir tmp_;
  Store a_, b_;
};

TEST_F(StoreLayoutTest, TheUpgradeToChangesWithoutDerivedHashesKeepsEverything) {
  IngestUpdateRetract(a_, 300, 40);
  Relay(a_, b_, "310000");
  const auto digests_a = ComputeDigests(a_);
  const auto digests_b = ComputeDigests(b_);
  const auto log_a = a_.ReadChanges("310000", 0, 10000);
  const auto log_b = b_.ReadChanges("310000", 0, 10000);
  ASSERT_EQ(log_a.size(), 341u);
  EXPECT_EQ(log_a, log_b);

  BackToTheLayoutOfStep11(a_);
  BackToTheLayoutOfStep11(b_);
  Store a = Store::Open(tmp_ / "a");
  Store b = Store::Open(tmp_ / "b");
  for (Store* store : {&a, &b}) {
    EXPECT_EQ(SchemaVersion(store->db()), LatestSchemaVersion());
    EXPECT_EQ(store->db().QueryInt("SELECT count(*) FROM pragma_table_info('changes') "
                                   "WHERE name IN ('record_hash', 'prev_hash')"),
              0);
    const VerifyReport report = VerifyStore(*store);
    EXPECT_TRUE(report.sound()) << (report.sound() ? "" : ProblemLine(report.problems[0]));
    EXPECT_EQ(report.entries, 341);
    // Served batches carry the same hashes as before (recomputed, not stored).
    EXPECT_EQ(store->ReadChanges("310000", 0, 10000), log_a);
    EXPECT_EQ(store->ReadChanges("310000", 150, 20),
              std::vector<ChangeEntry>(log_a.begin() + 150, log_a.begin() + 170));
  }
  EXPECT_EQ(ComputeDigests(a), digests_a);
  EXPECT_EQ(ComputeDigests(b), digests_b);

  // Both go on writing in the new layout, with compressed bodies once a schema has samples.
  a.bodies().set_training_samples(40);
  b.bodies().set_training_samples(40);
  Ingest(a, 300, 150, "more");
  Relay(a, b, "310000");
  EXPECT_EQ(Count(a, "SELECT count(*) FROM changes WHERE dict IS NOT NULL"), 150);
  // B relayed them: its first 39 bodies stay raw, the 40th trains B's dictionary and is compressed.
  EXPECT_EQ(Count(b, "SELECT count(*) FROM changes WHERE dict IS NOT NULL"), 111);
  EXPECT_TRUE(VerifyStore(a).sound());
  EXPECT_TRUE(VerifyStore(b).sound());
  EXPECT_EQ(ComputeDigests(b, std::string("310000")), ComputeDigests(a, std::string("310000")));
}

// Three hubs hold the same origin: A ingests with compression, R relays it and stores it raw, C
// relays it and compresses after its own samples. Bodies, batches, digests, lookups, new versions
// and retractions read the same everywhere; the compressed hubs are smaller.
TEST_F(StoreLayoutTest, CompressedAndRawHubsReadTheSameBodiesAndDigests) {
  Store c = Store::Init(tmp_ / "c",
                        {.region = "zj", .federation_key_file = tmp_ / "a" / "federation.key"});
  a_.bodies().set_training_samples(100);
  c.bodies().set_training_samples(100);
  IngestUpdateRetract(a_, 300, 30);
  Relay(a_, b_, "310000");
  Relay(a_, c, "310000");
  // The first 100 bodies trained A's dictionary and were compressed with it too (one chunk); the
  // new versions and the retraction as well. C stored the first 99 of its samples raw (the 100th
  // trained its dictionary and was compressed with it).
  EXPECT_EQ(Count(a_, "SELECT count(*) FROM changes WHERE dict IS NULL"), 0);
  EXPECT_EQ(Count(b_, "SELECT count(*) FROM changes WHERE dict IS NOT NULL"), 0);
  EXPECT_EQ(Count(c, "SELECT count(*) FROM changes WHERE dict IS NULL"), 99);
  EXPECT_EQ(Count(a_, "SELECT count(*) FROM body_dictionaries"), 1);
  EXPECT_EQ(Count(c, "SELECT count(*) FROM body_dictionaries"), 1);
  EXPECT_LT(Count(a_, "SELECT sum(length(body)) FROM changes") * 5,
            Count(b_, "SELECT sum(length(body)) FROM changes") * 4);

  const auto log = a_.ReadChanges("310000", 0, 1000);
  ASSERT_EQ(log.size(), 331u);
  EXPECT_EQ(b_.ReadChanges("310000", 0, 1000), log);
  EXPECT_EQ(c.ReadChanges("310000", 0, 1000), log);
  EXPECT_EQ(RecordsAsRead(b_), RecordsAsRead(a_));
  EXPECT_EQ(RecordsAsRead(c), RecordsAsRead(a_));
  const auto digest = ComputeDigests(a_, std::string("310000"));
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), digest);
  EXPECT_EQ(ComputeDigests(c, std::string("310000")), digest);
  for (Store* store : {&a_, &b_, &c}) {
    EXPECT_TRUE(VerifyStore(*store).sound());
    EXPECT_EQ(store->RecordsByToken(testing::TestToken(12)).size(), 1u);
    EXPECT_EQ(store->RecordById(TestAssessment(7).record_id)->status, RecordStatus::kRetracted);
    const auto updated = store->RecordById(TestAssessment(3).record_id);
    ASSERT_TRUE(updated.has_value());
    EXPECT_EQ(updated->version, 2);
    EXPECT_EQ(std::get<Assessment>(DecodeSingleObject(updated->body).body).total_score, 99);
  }
  // Re-ingesting the same rows into the compressed hub changes nothing.
  IngestSink again(a_, "/data/again.csv", "sha-again", "shanghai/assessment", {});
  for (int i = 100; i < 120; ++i) again.Accept(TestAssessment(i));
  EXPECT_EQ(again.Finish().unchanged, 20);
}

// One compressed body cut short: reads that need it fail naming origin, seq and record; a served
// batch carries it as stored, so it fails verification; verify names the entry (and the record
// reading it); repair cuts the relayed log back and the next relay restores it.
TEST_F(StoreLayoutTest, ADamagedCompressedBodyIsNamedAndRepaired) {
  b_.bodies().set_training_samples(50);
  sqlite::Statement add(b_.db(),
                        "INSERT INTO peers(name, region, curve_key, sign_key) VALUES(?, ?, ?, ?)");
  add.Bind(1, "a")
      .Bind(2, a_.region())
      .Bind(3, a_.keys().curve_public())
      .BindBlob(4, std::span<const std::uint8_t>(a_.keys().sign_public()))
      .Run();
  Ingest(a_, 0, 300, "first");
  Relay(a_, b_, "310000");
  const auto digest = ComputeDigests(a_, std::string("310000"));
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 6) "
      "WHERE origin = '310000' AND seq = 222");
  ASSERT_EQ(Count(b_, "SELECT dict IS NOT NULL FROM changes WHERE seq = 222"), 1);
  sqlite::Statement id_at(b_.db(), "SELECT record_id FROM changes WHERE seq = 222");
  ASSERT_TRUE(id_at.Step());
  const std::string id = id_at.ColumnText(0);
  id_at.Reset();
  try {
    b_.RecordById(id);
    ADD_FAILURE() << "read a damaged body";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("origin=310000 seq=222 record=" + id), std::string::npos)
        << e.what();
  }
  const auto served = b_.ReadChanges("310000", 200, 100);
  EXPECT_TRUE(VerifyChainSegment("310000", {200, served[0].prev_hash}, served).has_value());

  const VerifyReport report = VerifyStore(b_);
  ASSERT_EQ(report.problems.size(), 2u) << ProblemLine(report.problems[0]);
  EXPECT_EQ(
      ProblemLine(report.problems[0])
          .rfind("chain origin=310000 seq=222 record=" + id + ": body does not decompress: ", 0),
      0u)
      << ProblemLine(report.problems[0]);
  EXPECT_EQ(report.problems[1].kind, ProblemKind::kRecord);
  EXPECT_EQ(report.problems[1].record_id, id);
  const RepairReport repair = RepairStore(b_, report);
  EXPECT_EQ(repair.logs_cut.at("310000"), 200);
  EXPECT_TRUE(VerifyStore(b_).sound());
  Relay(a_, b_, "310000");
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), digest);
  EXPECT_TRUE(b_.RecordById(id).has_value());
}

// A hub whose bodies are stored raw (as one upgraded from before step 12 keeps them): compaction
// compresses every one of them, its own and relayed, training the dictionary from the stored
// bodies; nothing any reader sees changes, the file shrinks, a second run has nothing to do, and
// the hub goes on ingesting and relaying.
TEST_F(StoreLayoutTest, CompactionCompressesRawBodiesAndEveryReadStaysTheSame) {
  a_.bodies().set_training_samples(1'000'000);  // no dictionary: every body stored raw
  b_.bodies().set_training_samples(1'000'000);
  IngestUpdateRetract(a_, 400, 30);
  Relay(a_, b_, "310000");
  ASSERT_EQ(Count(a_, "SELECT count(*) FROM changes WHERE dict IS NULL"), 431);
  const auto log = a_.ReadChanges("310000", 0, 1000);
  const auto records = RecordsAsRead(a_);
  const auto digests_a = ComputeDigests(a_);
  const auto digests_b = ComputeDigests(b_);

  for (Store* store : {&a_, &b_}) {
    store->bodies().set_training_samples(100);
    const CompactReport report = CompactBodies(*store, {.batch_rows = 64});
    EXPECT_EQ(report.raw_before, 431);
    EXPECT_EQ(report.compressed, 431);  // the 100 samples too, in the second pass
    EXPECT_EQ(report.raw_after, 0);
    EXPECT_LT(report.body_bytes_after * 2, report.body_bytes_before);
    EXPECT_TRUE(report.vacuumed) << report.vacuum_skipped.value_or("");
    EXPECT_LT(report.file_bytes_after, report.file_bytes_before);
    EXPECT_EQ(Count(*store, "SELECT count(*) FROM body_dictionaries"), 1);
    EXPECT_EQ(store->ReadChanges("310000", 0, 1000), log);
    EXPECT_EQ(RecordsAsRead(*store), records);
    const VerifyReport verify = VerifyStore(*store);
    EXPECT_TRUE(verify.sound()) << (verify.sound() ? "" : ProblemLine(verify.problems[0]));
    EXPECT_EQ(store->RecordById(TestAssessment(7).record_id)->status, RecordStatus::kRetracted);

    const CompactReport again = CompactBodies(*store);
    EXPECT_EQ(again.raw_before, 0);
    EXPECT_EQ(again.compressed, 0);
  }
  EXPECT_EQ(ComputeDigests(a_), digests_a);
  EXPECT_EQ(ComputeDigests(b_), digests_b);

  Ingest(a_, 400, 50, "more");
  Relay(a_, b_, "310000");
  EXPECT_EQ(Count(b_, "SELECT count(*) FROM changes WHERE dict IS NULL"), 0);
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), ComputeDigests(a_, std::string("310000")));
}

// Too few bodies to train from: they stay raw and no dictionary is stored. A run stopped after
// its first batch leaves a sound store with the same digests; the next run finishes the work.
TEST_F(StoreLayoutTest, AnInterruptedCompactionLeavesASoundStoreAndTheNextRunFinishes) {
  a_.bodies().set_training_samples(1'000'000);
  Ingest(a_, 0, 300, "first");
  const auto digests = ComputeDigests(a_);

  a_.bodies().set_training_samples(1000);
  const CompactReport too_few = CompactBodies(a_, {.vacuum = false});
  EXPECT_EQ(too_few.compressed, 0);
  EXPECT_EQ(too_few.raw_after, 300);
  EXPECT_FALSE(too_few.vacuumed);
  EXPECT_EQ(Count(a_, "SELECT count(*) FROM body_dictionaries"), 0);

  // A fresh connection, as a new `carehub compact` run has, with enough samples this time.
  Store store = Store::Open(tmp_ / "a");
  store.bodies().set_training_samples(50);
  struct Stop {};
  EXPECT_THROW(CompactBodies(store, {.batch_rows = 80,
                                     .progress =
                                         [](std::int64_t compressed) {
                                           if (compressed > 0) throw Stop{};
                                         }}),
               Stop);
  const std::int64_t raw = Count(store, "SELECT count(*) FROM changes WHERE dict IS NULL");
  EXPECT_GT(raw, 0);
  EXPECT_LT(raw, 300);
  EXPECT_TRUE(VerifyStore(store).sound());
  EXPECT_EQ(ComputeDigests(store), digests);

  const CompactReport rest = CompactBodies(store, {.vacuum = false});
  EXPECT_EQ(rest.raw_before, raw);
  EXPECT_EQ(rest.compressed, raw);
  EXPECT_EQ(rest.raw_after, 0);
  EXPECT_TRUE(VerifyStore(store).sound());
  EXPECT_EQ(ComputeDigests(store), digests);
}

}  // namespace
}  // namespace carehub
