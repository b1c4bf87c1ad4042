// hub/store/verify (issue 17): a sound store verifies; a records row pointing at the wrong change
// or version, one changed byte in a relayed change-log body, a dropped person index row or a
// forged signed head is named with origin, seq and record id; repair restores records from their
// changes (own records keep re-ingesting as "unchanged") and cuts a damaged relayed log back to a
// sound signed head, after which relaying again converges to the origin's digest; the hub's own
// log is never cut. Issue 16: the upgrade of a hub that held every body twice (records.body)
// keeps every record as it read before and verifies.
#include "hub/store/verify.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/lookup_keys.h"
#include "hub/store/migrations.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;

// What verify says of an entry whose body or fields changed while the entry after it still links
// to its stored entry_hash (record_hash and prev_hash are not stored since step 12).
constexpr std::string_view kContentChanged =
    "the body or the entry's fields changed: they no longer match the entry_hash the next entry "
    "links to";

void Ingest(Store& store, int from, int count, int batch_size = 100) {
  IngestSink sink(store, "/data/a" + std::to_string(from) + ".csv", "sha-" + std::to_string(from),
                  "shanghai/assessment", {.batch_size = batch_size});
  for (int i = from; i < from + count; ++i) sink.Accept(TestAssessment(i));
  sink.Finish();
}

// Relays `origin` from `from` into `to` one signed head at a time, as the exchange does.
void Relay(Store& from, Store& to, const std::string& origin) {
  sqlite::Statement heads(from.db(),
                          "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ? "
                          "AND seq > ? ORDER BY seq");
  heads.Bind(1, origin).Bind(2, to.Tip(origin).seq);
  while (heads.Step()) {
    SignedHead head{origin, heads.ColumnInt64(0), {}, {}};
    const auto hash = heads.ColumnBlob(1);
    const auto signature = heads.ColumnBlob(2);
    std::copy(hash.begin(), hash.end(), head.head_hash.begin());
    std::copy(signature.begin(), signature.end(), head.signature.begin());
    const ChainCursor tip = to.Tip(origin);
    const auto entries = from.ReadChanges(origin, tip.seq, head.seq - tip.seq);
    const ApplyResult result =
        to.ApplyRemoteBatch(origin, entries, head, from.keys().sign_public());
    ASSERT_FALSE(result.rejected.has_value()) << *result.rejected;
  }
}

// Flips one bit of byte 40 (or the last byte of a shorter blob) of one row's blob column.
void FlipByte(Store& store, const std::string& table, const std::string& column,
              const std::string& where) {
  sqlite::Statement read(store.db(), "SELECT " + column + " FROM " + table + " WHERE " + where);
  ASSERT_TRUE(read.Step()) << where;
  std::string blob(read.ColumnBlob(0));
  read.Reset();
  blob[std::min<std::size_t>(40, blob.size() - 1)] ^= 1;
  sqlite::Statement write(store.db(), "UPDATE " + table + " SET " + column + " = ? WHERE " + where);
  ASSERT_EQ(write.BindBlob(1, blob).Run(), 1);
}

std::vector<std::string> Lines(const VerifyReport& report) {
  std::vector<std::string> lines;
  for (const StoreProblem& p : report.problems) lines.push_back(ProblemLine(p));
  return lines;
}

std::string RecordIdAtSeq(Store& store, const std::string& origin, std::int64_t seq) {
  sqlite::Statement stmt(store.db(), "SELECT record_id FROM changes WHERE origin = ? AND seq = ?");
  stmt.Bind(1, origin).Bind(2, seq);
  EXPECT_TRUE(stmt.Step());
  return stmt.ColumnText(0);
}

class VerifyTest : public ::testing::Test {
 protected:
  VerifyTest()
      : a_(Store::Init(tmp_ / "a", {.region = "sh"})),
        b_(Store::Init(tmp_ / "b",
                       {.region = "js", .federation_key_file = tmp_ / "a" / "federation.key"})) {
    // B knows A as a member (its signing key), as `peers add` would record it.
    sqlite::Statement add(
        b_.db(), "INSERT INTO peers(name, region, curve_key, sign_key) VALUES(?, ?, ?, ?)");
    add.Bind(1, "a")
        .Bind(2, a_.region())
        .Bind(3, a_.keys().curve_public())
        .BindBlob(4, std::span<const std::uint8_t>(a_.keys().sign_public()))
        .Run();
  }

  TempDir tmp_;
  Store a_, b_;
};

TEST_F(VerifyTest, ASoundStoreVerifies) {
  Ingest(a_, 0, 250);
  Relay(a_, b_, "310000");
  const VerifyReport a = VerifyStore(a_);
  EXPECT_TRUE(a.sound()) << ProblemLine(a.problems.at(0));
  EXPECT_EQ(a.entries, 250);
  EXPECT_EQ(a.records, 250);
  const VerifyReport b = VerifyStore(b_);
  EXPECT_TRUE(b.sound()) << ProblemLine(b.problems.at(0));
  EXPECT_TRUE(b.notes.empty());
}

// A records row holds no body (issue 16): it reads the body of the change at its (origin, seq).
// A row pointing at another record's change reads the wrong body; verify names it, repair
// points it back.
TEST_F(VerifyTest, ARecordsRowAtTheWrongChangeIsNamedAndRepairRestoresIt) {
  Ingest(a_, 0, 250);
  const auto before = ComputeDigests(a_);
  const std::string id = RecordIdAtSeq(a_, "310000", 17);
  a_.db().Exec("UPDATE records SET seq = 18 WHERE record_id = '" + id + "'");
  ASSERT_NE(ComputeDigests(a_), before);

  const VerifyReport report = VerifyStore(a_);
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{"record origin=310000 seq=17 record=" + id +
                                          ": records row is at seq 18, not at its latest change",
                                      "record origin=310000 seq=18 record=" + id +
                                          ": the change at its seq is of another record"}));
  const StoreProblem& p = report.problems.at(0);
  EXPECT_EQ(p.kind, ProblemKind::kRecord);
  EXPECT_EQ(p.origin, "310000");
  EXPECT_EQ(p.record_id, id);

  const RepairReport repair = RepairStore(a_, report);
  EXPECT_EQ(repair.records_restored, 1);
  EXPECT_TRUE(repair.unrepaired.empty());
  EXPECT_TRUE(VerifyStore(a_).sound());
  EXPECT_EQ(ComputeDigests(a_), before);
  // The restored own record still has its content hash: re-ingesting it changes nothing.
  IngestSink sink(a_, "/data/again.csv", "sha-again", "shanghai/assessment", {});
  sink.Accept(TestAssessment(16));
  const IngestSummary summary = sink.Finish();
  EXPECT_EQ(summary.unchanged, 1);
  EXPECT_EQ(a_.Head("310000")->seq, 250);
}

TEST_F(VerifyTest, ARelayedRecordAndAMissingPersonRowAreRepairedFromTheLog) {
  Ingest(a_, 0, 120);
  Relay(a_, b_, "310000");
  const std::string tampered = RecordIdAtSeq(b_, "310000", 5);
  const std::string unindexed = RecordIdAtSeq(b_, "310000", 6);
  b_.db().Exec("UPDATE records SET version = 2 WHERE record_id = '" + tampered + "'");
  b_.db().Exec("DELETE FROM record_persons WHERE record_key = " +
               std::to_string(RecordKey(unindexed)));
  // The lookup columns the body decides (read by projection, not a full decode).
  const std::string restated = RecordIdAtSeq(b_, "310000", 7);
  const std::string rekinded = RecordIdAtSeq(b_, "310000", 8);
  b_.db().Exec("UPDATE records SET status = 'REVOKED' WHERE record_id = '" + restated + "'");
  b_.db().Exec("UPDATE records SET kind = 'facility' WHERE record_id = '" + rekinded + "'");
  const VerifyReport report = VerifyStore(b_);
  ASSERT_EQ(report.problems.size(), 4u) << Lines(report).front();
  EXPECT_EQ(report.problems[0].record_id, tampered);
  EXPECT_EQ(report.problems[0].detail, "version differs from its change");
  EXPECT_EQ(report.problems[1].kind, ProblemKind::kIndex);
  EXPECT_EQ(report.problems[1].record_id, unindexed);
  EXPECT_EQ(report.problems[1].detail, "a person index row is missing");
  for (int i : {2, 3}) {
    EXPECT_EQ(report.problems[i].kind, ProblemKind::kIndex);
    EXPECT_EQ(report.problems[i].detail, "kind or status column differs from the body");
  }
  EXPECT_EQ(report.problems[2].record_id, restated);
  EXPECT_EQ(report.problems[3].record_id, rekinded);
  RepairStore(b_, report);
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), ComputeDigests(a_, std::string("310000")));
  EXPECT_EQ(b_.RecordsByToken(testing::TestToken(6)).size(), 1u);
}

TEST_F(VerifyTest, ATamperedRelayedLogIsCutBackToASoundHeadAndRefetched) {
  Ingest(a_, 0, 1000);  // signed heads every 100 entries
  Relay(a_, b_, "310000");
  const auto origin_digest = ComputeDigests(a_, std::string("310000"));
  ASSERT_EQ(ComputeDigests(b_, std::string("310000")), origin_digest);
  // One byte of a relayed change body, the only copy of that record's body (issue 16): both the
  // records digest and the log digest change.
  FlipByte(b_, "changes", "body", "origin = '310000' AND seq = 457");
  const auto tampered = ComputeDigests(b_, std::string("310000"));
  EXPECT_NE(tampered[0].sha256_hex, origin_digest[0].sha256_hex);
  EXPECT_NE(tampered[0].log_sha256_hex, origin_digest[0].log_sha256_hex);

  const VerifyReport report = VerifyStore(b_);
  const std::string id = RecordIdAtSeq(b_, "310000", 457);
  EXPECT_EQ(Lines(report), (std::vector<std::string>{"chain origin=310000 seq=457 record=" + id +
                                                     ": " + std::string(kContentChanged)}));
  const RepairReport repair = RepairStore(b_, report);
  EXPECT_EQ(repair.logs_cut.at("310000"), 400);
  EXPECT_EQ(repair.records_restored, 600);
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_EQ(b_.Head("310000")->seq, 400);
  EXPECT_EQ(b_.CountRecords(RecordFilter{std::nullopt, "310000"}), 400);

  Relay(a_, b_, "310000");  // what the next sync does
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), origin_digest);
  EXPECT_TRUE(VerifyStore(b_).sound());
}

// SQLite virtual machine steps (in thousands) that `body` runs on `db`: a measure of work that
// does not depend on the machine's speed or load.
template <typename F>
std::int64_t KiloSteps(sqlite::Database& db, F&& body) {
  std::int64_t count = 0;
  sqlite3_progress_handler(
      db.handle(), 1000,
      [](void* n) {
        ++*static_cast<std::int64_t*>(n);
        return 0;
      },
      &count);
  body();
  sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
  return count;
}

// Found by bench/soak.sh: cutting a relay's log of 8000 records back took 10 s of CPU (2.5 min
// on a loaded machine, while the hub's writer did nothing else), because the changes were
// deleted before the records were dropped, and a record whose body is gone is dropped by
// scanning the whole person index. Repair work must grow with the records cut, not with
// records cut x records held: twice the records, about twice the work (4x when quadratic).
TEST_F(VerifyTest, CuttingARelayedLogBackDoesWorkLinearInTheRecordsCut) {
  const auto cut_work = [&](int records) {
    TempDir tmp;
    Store a = Store::Init(tmp / "a", {.region = "sh"});
    Store b = Store::Init(tmp / "b",
                          {.region = "js", .federation_key_file = tmp / "a" / "federation.key"});
    sqlite::Statement add(
        b.db(), "INSERT INTO peers(name, region, curve_key, sign_key) VALUES(?, ?, ?, ?)");
    add.Bind(1, "a")
        .Bind(2, a.region())
        .Bind(3, a.keys().curve_public())
        .BindBlob(4, std::span<const std::uint8_t>(a.keys().sign_public()))
        .Run();
    Ingest(a, 0, records, records);  // one signed head at the end: the cut goes back to 0
    Relay(a, b, "310000");
    FlipByte(b, "changes", "body", "origin = '310000' AND seq = 2");
    const VerifyReport report = VerifyStore(b);
    RepairReport repair;
    const std::int64_t work = KiloSteps(b.db(), [&] { repair = RepairStore(b, report); });
    EXPECT_EQ(repair.logs_cut.at("310000"), 0);
    EXPECT_EQ(repair.records_restored, records);
    EXPECT_TRUE(VerifyStore(b).sound());
    sqlite::Statement persons(b.db(), "SELECT count(*) FROM record_persons");
    EXPECT_TRUE(persons.Step());
    EXPECT_EQ(persons.ColumnInt64(0), 0);  // every dropped record's person rows went too
    return work;
  };
  const std::int64_t small = cut_work(1500), large = cut_work(3000);
  std::cerr << "[ measured ] repair of a cut log: " << small << "k VM steps for 1500 records, "
            << large << "k for 3000\n";
  EXPECT_LT(large, 3 * small) << "repair work grows faster than the records cut";
}

// record_hash and prev_hash are not stored (step 12): verify tells a changed stored entry_hash
// (its entry and the link after it) from a changed body (its entry only; at the log's end the
// signed head tells), and repair cuts back before the first and relays again.
TEST_F(VerifyTest, AChangedEntryHashIsToldApartFromAChangedBody) {
  Ingest(a_, 0, 250);  // signed heads at 100, 200, 250
  Relay(a_, b_, "310000");
  const auto origin_digest = ComputeDigests(a_, std::string("310000"));
  FlipByte(b_, "changes", "entry_hash", "origin = '310000' AND seq = 120");
  FlipByte(b_, "changes", "body", "origin = '310000' AND seq = 250");
  const VerifyReport report = VerifyStore(b_);
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{
                "chain origin=310000 seq=120 record=" + RecordIdAtSeq(b_, "310000", 120) +
                    ": the stored entry_hash changed: the next entry links to the hash of the "
                    "entry as it is",
                "chain origin=310000 seq=121 record=" + RecordIdAtSeq(b_, "310000", 121) +
                    ": the link to seq 120 breaks: its stored entry_hash changed",
                "chain origin=310000 seq=250 record=" + RecordIdAtSeq(b_, "310000", 250) +
                    ": the body or the entry's fields changed: they no longer match the "
                    "entry_hash the signed head holds"}));
  const RepairReport repair = RepairStore(b_, report);
  EXPECT_EQ(repair.logs_cut.at("310000"), 100);
  Relay(a_, b_, "310000");
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_EQ(ComputeDigests(b_, std::string("310000")), origin_digest);
}

TEST_F(VerifyTest, AForgedSignedHeadIsFoundAndTheOwnLogIsNeverCut) {
  Ingest(a_, 0, 300);
  // A signed head whose signature no longer verifies (one bit of it flipped).
  FlipByte(a_, "signed_heads", "signature", "origin = '310000' AND seq = 200");
  // and a changed entry of the hub's own log.
  FlipByte(a_, "changes", "body", "origin = '310000' AND seq = 250");
  const VerifyReport report = VerifyStore(a_);
  const std::string id = RecordIdAtSeq(a_, "310000", 250);
  EXPECT_EQ(Lines(report),
            (std::vector<std::string>{
                "chain origin=310000 seq=250 record=" + id + ": " + std::string(kContentChanged),
                "head origin=310000 seq=200: head signature does not verify"}));
  const auto records_before = ComputeDigests(a_)[0].sha256_hex;
  const RepairReport repair = RepairStore(a_, report);
  EXPECT_TRUE(repair.logs_cut.empty());
  // The own log (the damaged body is the only copy of that record's current version).
  EXPECT_EQ(repair.unrepaired.size(), 1u);
  EXPECT_EQ(repair.records_restored, 0);
  EXPECT_EQ(a_.Head("310000")->seq, 300);
  EXPECT_EQ(ComputeDigests(a_)[0].sha256_hex, records_before);
}

TEST_F(VerifyTest, ABackgroundVerifierFindsTheSameProblemsInBoundedSteps) {
  Ingest(a_, 0, 250);
  Relay(a_, b_, "310000");
  FlipByte(b_, "changes", "body", "origin = '310000' AND seq = 123");
  IncrementalVerifier verifier(40);
  int steps = 0;
  while (!verifier.Step(b_)) ASSERT_LT(++steps, 100);
  // 250 entries in 40-entry slices (7 steps), then 250 records (7 steps).
  EXPECT_EQ(steps + 1, 14);
  EXPECT_EQ(verifier.passes(), 1);
  // The entry (the records row reads that entry's body: nothing else to report).
  ASSERT_EQ(verifier.last_pass().size(), 1u);
  EXPECT_EQ(verifier.last_pass()[0].kind, ProblemKind::kChain);
  EXPECT_EQ(verifier.last_pass()[0].seq, 123);
  EXPECT_EQ(verifier.last_pass(), VerifyStore(b_).problems);
}

TEST_F(VerifyTest, TheVerifyCommandExitsNonZeroNamesTheRecordAndRepairs) {
  Ingest(a_, 0, 50);
  const std::string dir = (tmp_ / "a").string();
  std::string out;
  EXPECT_EQ(testing::RunCommand(testing::CarehubBinary() + " verify --dir " + dir, &out), 0);
  EXPECT_NE(out.find("sound entries=50 records=50"), std::string::npos) << out;
  const std::string id = RecordIdAtSeq(a_, "310000", 9);
  a_.db().Exec("UPDATE records SET seq = 10 WHERE record_id = '" + id + "'");
  EXPECT_EQ(testing::RunCommand(testing::CarehubBinary() + " verify --dir " + dir, &out), 3);
  EXPECT_NE(out.find("record origin=310000 seq=10 record=" + id +
                     ": the change at its seq is of another record"),
            std::string::npos)
      << out;
  EXPECT_EQ(testing::RunCommand(testing::CarehubBinary() + " verify --repair --dir " + dir, &out),
            0);
  EXPECT_NE(out.find("after repair: sound"), std::string::npos) << out;
}

// The layout before migration step 10 (issue 16): records.body, a copy of the body of the change
// at (origin, seq), as the last column. Built from a store of today's layout with the data kept.
void BackToTheLayoutOfStep9(Store& store) {
  sqlite::Transaction tx(store.db());
  store.db().Exec("ALTER TABLE records ADD COLUMN body BLOB NOT NULL DEFAULT x''");
  store.db().Exec(
      "UPDATE records SET body = (SELECT c.body FROM changes c WHERE c.origin = records.origin "
      "AND c.seq = records.seq)");
  store.db().Exec("PRAGMA user_version=9");
  tx.Commit();
}

// Every records row as the old layout read it: rowid, lookup columns, content hash, body.
std::vector<std::string> OldLayoutRows(Store& store) {
  sqlite::Statement stmt(store.db(),
                         "SELECT rowid, record_id, record_key, kind, origin, version, status, "
                         "subject_org, pivot_level, effective_on, valid_until, seq, fingerprint, "
                         "hex(content_hash), hex(body) FROM records ORDER BY rowid");
  std::vector<std::string> rows;
  while (stmt.Step()) {
    std::string row;
    for (int i = 0; i < 15; ++i) row += (stmt.IsNull(i) ? "NULL" : stmt.ColumnText(i)) + "|";
    rows.push_back(row);
  }
  return rows;
}

// The same through today's layout: the body from the change the row points at.
std::vector<std::string> BodyOnceRows(Store& store) {
  sqlite::Statement stmt(store.db(),
                         "SELECT r.rowid, r.record_id, r.record_key, r.kind, r.origin, r.version, "
                         "r.status, r.subject_org, r.pivot_level, r.effective_on, r.valid_until, "
                         "r.seq, r.fingerprint, hex(r.content_hash), hex(c.body) FROM " +
                             std::string(kRecordsWithBody) + " ORDER BY r.rowid");
  std::vector<std::string> rows;
  while (stmt.Step()) {
    std::string row;
    for (int i = 0; i < 15; ++i) row += (stmt.IsNull(i) ? "NULL" : stmt.ColumnText(i)) + "|";
    rows.push_back(row);
  }
  return rows;
}

// Issue 16: a hub written before step 10 holds every body twice. Opening it with this carehub
// drops records.body in one transaction; every row reads back identical (rowid, columns, body),
// verify is sound, digests and person lookups are unchanged, re-ingest finds its rows
// unchanged, and both hubs keep ingesting and relaying.
TEST_F(VerifyTest, TheUpgradeToBodiesStoredOnceKeepsEveryRecordAndVerifies) {
  Ingest(a_, 0, 300);
  // New versions of 40 records (another pivot level) and a retraction: records rows that point
  // at a later change than their first.
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
  const std::vector<std::string> rows_a = BodyOnceRows(a_);
  const std::vector<std::string> rows_b = BodyOnceRows(b_);
  ASSERT_EQ(rows_a.size(), 300u);

  BackToTheLayoutOfStep9(a_);
  BackToTheLayoutOfStep9(b_);
  EXPECT_EQ(OldLayoutRows(a_), rows_a);
  EXPECT_EQ(OldLayoutRows(b_), rows_b);

  Store a = Store::Open(tmp_ / "a");
  Store b = Store::Open(tmp_ / "b");
  for (Store* store : {&a, &b}) {
    EXPECT_EQ(SchemaVersion(store->db()), LatestSchemaVersion());
    EXPECT_EQ(store->db().QueryInt("SELECT count(*) FROM pragma_table_info('records') "
                                   "WHERE name = 'body'"),
              0);
    const VerifyReport report = VerifyStore(*store);
    EXPECT_TRUE(report.sound()) << ::testing::PrintToString(Lines(report));
    EXPECT_EQ(report.records, 300);
  }
  EXPECT_EQ(BodyOnceRows(a), rows_a);
  EXPECT_EQ(BodyOnceRows(b), rows_b);
  EXPECT_EQ(ComputeDigests(a), digests_a);
  EXPECT_EQ(ComputeDigests(b), digests_b);
  EXPECT_EQ(b.RecordsByToken(testing::TestToken(12)).size(), 1u);
  EXPECT_EQ(a.RecordById(TestAssessment(7).record_id)->status, RecordStatus::kRetracted);

  // The own rows keep their content hashes; both hubs go on writing in the new layout.
  {
    IngestSink sink(a, "/data/again.csv", "sha-again", "shanghai/assessment", {});
    for (int i = 100; i < 110; ++i) sink.Accept(TestAssessment(i));
    for (int i = 300; i < 310; ++i) sink.Accept(TestAssessment(i));
    const IngestSummary summary = sink.Finish();
    EXPECT_EQ(summary.unchanged, 10);
    EXPECT_EQ(summary.inserted, 10);
  }
  Relay(a, b, "310000");
  EXPECT_TRUE(VerifyStore(b).sound());
  EXPECT_EQ(ComputeDigests(b, std::string("310000")), ComputeDigests(a, std::string("310000")));
}

// A copy that had drifted from its change before the upgrade (a damaged records.body) is gone
// with the column: the row reads its change's body, which the chain vouches for.
TEST_F(VerifyTest, TheUpgradeKeepsTheChangesBodyOverADamagedCopy) {
  Ingest(a_, 0, 50);
  const auto before = ComputeDigests(a_);
  BackToTheLayoutOfStep9(a_);
  const std::string id = RecordIdAtSeq(a_, "310000", 9);
  FlipByte(a_, "records", "body", "record_id = '" + id + "'");
  Store a = Store::Open(tmp_ / "a");
  EXPECT_TRUE(VerifyStore(a).sound());
  EXPECT_EQ(ComputeDigests(a), before);
}

}  // namespace
}  // namespace carehub
