// Issue 16, migration step 12: a change row stores neither record_hash nor prev_hash (both are
// recomputed where needed). A hub in the step-11 layout keeps every entry, record, digest and
// served batch across the upgrade, verifies, and goes on ingesting and relaying.
#include <gtest/gtest.h>

#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/migrations.h"
#include "hub/store/verify.h"
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
                           "body FROM changes "
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
  Ingest(a_, 0, 300, "first");
  {
    IngestSink sink(a_, "/data/v2.csv", "sha-v2", "shanghai/assessment", {.batch_size = 100});
    for (int i = 0; i < 40; ++i) {
      CanonicalRecord r = TestAssessment(i);
      std::get<Assessment>(r.body).total_score = 99;
      sink.Accept(std::move(r));
    }
    EXPECT_EQ(sink.Finish().updated, 40);
  }
  ASSERT_TRUE(a_.Retract(TestAssessment(7).record_id).has_value());
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
    const VerifyReport report = VerifyStore(*store, {.origin = std::string("310000")});
    EXPECT_TRUE(report.sound()) << (report.sound() ? "" : ProblemLine(report.problems[0]));
    EXPECT_EQ(report.entries, 341);
    // Served batches carry the same hashes as before (recomputed, not stored).
    EXPECT_EQ(store->ReadChanges("310000", 0, 10000), log_a);
    EXPECT_EQ(store->ReadChanges("310000", 150, 20),
              std::vector<ChangeEntry>(log_a.begin() + 150, log_a.begin() + 170));
  }
  EXPECT_EQ(ComputeDigests(a), digests_a);
  EXPECT_EQ(ComputeDigests(b), digests_b);

  // Both go on writing in the new layout.
  Ingest(a, 300, 50, "more");
  Relay(a, b, "310000");
  EXPECT_TRUE(VerifyStore(b).sound());
  EXPECT_EQ(ComputeDigests(b, std::string("310000")), ComputeDigests(a, std::string("310000")));
}

}  // namespace
}  // namespace carehub
