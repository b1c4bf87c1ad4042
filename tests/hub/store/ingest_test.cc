// Ingest into the store: batches, idempotent re-ingest, supersede, resume,
// quarantine, and the relayed-batch apply built on the same tables. Rows are
// built in the test (hub_test_records.h) and fed through IngestSink as the
// connector engine would.
#include "hub/store/ingest.h"

#include <gtest/gtest.h>

#include <variant>

#include "schemas/codec.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;
using testing::TestFacility;
using testing::TestRejection;
using testing::TestToken;

using Row = std::variant<CanonicalRecord, Rejection>;

// n rows; every 10th row (10, 20, ...) is rejected.
std::vector<Row> MakeRows(int n, std::int64_t ingested_at = 1'700'000'000'000) {
  std::vector<Row> rows;
  for (int i = 1; i <= n; ++i) {
    if (i % 10 == 0) {
      rows.emplace_back(TestRejection(i));
    } else {
      rows.emplace_back(TestAssessment(i, "310000", "a.csv", i, ingested_at));
    }
  }
  return rows;
}

IngestSummary Feed(Store& store, std::vector<Row> rows, const std::string& sha = "sha-1",
                   std::int64_t batch = 1000) {
  IngestSink sink(store, "/data/a.csv", sha, "shanghai/assessment", {.batch_size = batch});
  for (Row& row : rows) {
    if (auto* record = std::get_if<CanonicalRecord>(&row)) {
      sink.Accept(std::move(*record));
    } else {
      sink.Reject(std::move(std::get<Rejection>(row)));
    }
  }
  return sink.Finish();
}

std::int64_t Count(Store& store, const std::string& table) {
  return store.db().QueryInt("SELECT count(*) FROM " + table).value_or(-1);
}

void ExpectInvariants(const IngestSummary& s) {
  EXPECT_EQ(s.read, s.accepted + s.quarantined);
  EXPECT_EQ(s.accepted, s.inserted + s.updated + s.unchanged);
}

class IngestTest : public ::testing::Test {
 protected:
  IngestTest() : store_(Store::Init(tmp_ / "hub", {.region = "sh"})) {}
  TempDir tmp_;
  Store store_;
};

// With max_batch_size, a batch is (rows in the store) / 8 between the two bounds: each commit
// leaves a signed head, so the heads show where the batches ended.
TEST_F(IngestTest, GrowingBatchesFollowTheStoreSize) {
  {
    IngestSink sink(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {.batch_size = 1000});
    for (int i = 1; i <= 16000; ++i) sink.Accept(TestAssessment(i));
    sink.Finish();
  }
  ASSERT_EQ(Count(store_, "signed_heads"), 16);
  IngestSink sink(store_, "/data/b.csv", "sha-b", "shanghai/assessment",
                  {.batch_size = 1000, .max_batch_size = 2400});
  for (int i = 16001; i <= 24000; ++i) sink.Accept(TestAssessment(i));
  const IngestSummary s = sink.Finish();
  EXPECT_EQ(s.inserted, 8000);
  std::vector<std::int64_t> ends;
  sqlite::Statement heads(store_.db(),
                          "SELECT seq FROM signed_heads WHERE seq > 16000 ORDER BY seq");
  while (heads.Step()) ends.push_back(heads.ColumnInt64(0));
  // 16000 / 8 = 2000; 18000 / 8 = 2250; 20250 / 8 = 2531 -> capped at 2400; the rest. (20000:
  // the head signed every 10000 entries, inside the second batch.)
  EXPECT_EQ(ends, (std::vector<std::int64_t>{18000, 20000, 20250, 22650, 24000}));
}

// A batch larger than 10000 entries still leaves a signed head every 10000 seqs, so that the
// exchange can serve the log in batches of at most 20000 entries.
TEST_F(IngestTest, LargeBatchesSignAHeadEveryTenThousandEntries) {
  IngestSink sink(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {.batch_size = 25000});
  for (int i = 1; i <= 30000; ++i) sink.Accept(TestAssessment(i));
  EXPECT_EQ(sink.Finish().inserted, 30000);
  std::vector<std::int64_t> heads;
  sqlite::Statement stmt(store_.db(), "SELECT seq FROM signed_heads ORDER BY seq");
  while (stmt.Step()) heads.push_back(stmt.ColumnInt64(0));
  EXPECT_EQ(heads, (std::vector<std::int64_t>{10000, 20000, 25000, 30000}));
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);
}

TEST_F(IngestTest, FreshIngestWritesRecordsChangesAndQuarantine) {
  const auto s = Feed(store_, MakeRows(2500));
  ExpectInvariants(s);
  EXPECT_EQ(s.read, 2500);
  EXPECT_EQ(s.quarantined, 250);
  EXPECT_EQ(s.inserted, 2250);
  EXPECT_EQ(Count(store_, "records"), 2250);
  EXPECT_EQ(Count(store_, "changes"), 2250);
  EXPECT_EQ(Count(store_, "record_persons"), 2250);
  EXPECT_EQ(store_.QuarantineCount(), 250);
  EXPECT_EQ(store_.Head("310000")->seq, 2250);
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);
  EXPECT_EQ(store_.db().QueryInt("SELECT complete FROM ingest_runs"), 1);
  EXPECT_EQ(store_.db().QueryInt("SELECT rows_done FROM ingest_runs"), 2500);

  // Lookups see what was written, decoded back to the same record.
  const CanonicalRecord expected = TestAssessment(7);
  auto stored = store_.RecordById(expected.record_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->version, 1);
  EXPECT_EQ(stored->origin, "310000");
  EXPECT_EQ(stored->pivot_level, 2);
  EXPECT_EQ(DecodeSingleObject(stored->body), expected);
  auto by_token = store_.RecordsByToken(TestToken(7));
  ASSERT_EQ(by_token.size(), 1u);
  EXPECT_EQ(by_token[0].record_id, expected.record_id);
  EXPECT_TRUE(store_.RecordsByToken(TestToken(10)).empty());  // row 10 was rejected
  EXPECT_EQ(store_.CountRecords({.kind = RecordKind::kAssessment, .origin = "310000"}), 2250);
  EXPECT_EQ(store_.CountRecords({.kind = RecordKind::kFacility, .origin = std::nullopt}), 0);

  // Quarantine keeps file, row, field, reason (and the raw row locally).
  const auto quarantine = store_.ListQuarantine(3);
  ASSERT_EQ(quarantine.size(), 3u);
  EXPECT_EQ(quarantine[0].row, 10);
  EXPECT_EQ(quarantine[0].file, "/data/a.csv");
  EXPECT_EQ(quarantine[0].reason.rfind("bad_check_digit:", 0), 0u);
}

TEST_F(IngestTest, ReingestOfTheSameRowsChangesNothing) {
  Feed(store_, MakeRows(1500));
  const auto head = store_.Head("310000");
  // A later ingest of the same data: new file name, rows and time, same
  // content.
  auto rows = MakeRows(1500, 1'800'000'000'000);
  const auto s = Feed(store_, std::move(rows), "sha-2");
  ExpectInvariants(s);
  EXPECT_EQ(s.unchanged, 1350);
  EXPECT_EQ(s.inserted + s.updated, 0);
  EXPECT_EQ(Count(store_, "changes"), 1350);
  EXPECT_EQ(store_.Head("310000"), head);
  EXPECT_EQ(store_.QuarantineCount(), 150);  // replaced, not doubled
}

TEST_F(IngestTest, ChangedContentSupersedesWithVersionTwoAndOneChange) {
  Feed(store_, MakeRows(1200));
  auto rows = MakeRows(1200);
  auto& changed = std::get<CanonicalRecord>(rows[4]);  // row 5
  std::get<Assessment>(changed.body).total_score = 99;
  // The person also got a second identifier (e.g. an HKID next to the resident
  // id).
  std::get<Assessment>(changed.body).person.tokens = {{IdScheme::kHkId, TestToken(900005)}};
  const std::string id = changed.record_id;
  const auto s = Feed(store_, std::move(rows), "sha-2");
  ExpectInvariants(s);
  EXPECT_EQ(s.updated, 1);
  EXPECT_EQ(s.unchanged, 1079);
  auto stored = store_.RecordById(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(std::get<Assessment>(DecodeSingleObject(stored->body).body).total_score, 99);
  const auto last = store_.ReadChanges("310000", 1080, 10);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].record_id, id);
  EXPECT_EQ(last[0].version, 2);
  EXPECT_EQ(stored->seq, last[0].seq);
  EXPECT_TRUE(store_.RecordsByToken(TestToken(5)).empty());
  EXPECT_EQ(store_.RecordsByToken(TestToken(900005)).size(), 1u);
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);
}

TEST_F(IngestTest, InterruptedRunResumesToTheSameResultAsACleanRun) {
  TempDir clean_dir;
  Store clean = Store::Init(clean_dir / "hub", {.region = "sh"});
  const auto expected = Feed(clean, MakeRows(5000), "sha-x", 1000);

  {
    // Feed 3600 rows, then drop the sink without Finish, like a kill: whole
    // batches only.
    IngestSink sink(store_, "/data/a.csv", "sha-x", "shanghai/assessment", {.batch_size = 1000});
    auto rows = MakeRows(3600);
    for (Row& row : rows) {
      if (auto* record = std::get_if<CanonicalRecord>(&row)) {
        sink.Accept(std::move(*record));
      } else {
        sink.Reject(std::move(std::get<Rejection>(row)));
      }
    }
  }
  const auto partial = Count(store_, "changes");
  EXPECT_EQ(partial % 1000, 0);
  EXPECT_EQ(Count(store_, "records"), partial);
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);

  const auto resumed = Feed(store_, MakeRows(5000), "sha-x", 1000);
  ExpectInvariants(resumed);
  EXPECT_EQ(resumed.read, expected.read);
  EXPECT_EQ(resumed.inserted, expected.inserted);
  EXPECT_EQ(resumed.unchanged, 0);
  EXPECT_EQ(resumed.quarantined, expected.quarantined);
  EXPECT_EQ(Count(store_, "records"), Count(clean, "records"));
  EXPECT_EQ(Count(store_, "changes"), Count(clean, "changes"));
  EXPECT_EQ(store_.QuarantineCount(), clean.QuarantineCount());
  EXPECT_EQ(Count(store_, "ingest_runs"), 1);
}

TEST_F(IngestTest, RetractWritesANewVersionAndARetractChange) {
  Feed(store_, MakeRows(20), "sha-1", 5);
  const std::string id = TestAssessment(3).record_id;
  EXPECT_EQ(store_.Retract(id), 2);
  EXPECT_EQ(store_.Retract(id), std::nullopt);  // already retracted
  EXPECT_EQ(store_.Retract("00000000000000000000000000000000"), std::nullopt);
  EXPECT_EQ(store_.RecordById(id)->status, RecordStatus::kRetracted);
  const auto tip = store_.ReadChanges("310000", 18, 10);
  ASSERT_EQ(tip.size(), 1u);
  EXPECT_EQ(tip[0].op, ChangeOp::kRetract);
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);
}

TEST_F(IngestTest, FacilitiesAreFoundBySubjectOrg) {
  IngestSink sink(store_, "/data/f.csv", "sha-f", "shanghai/facility", {.batch_size = 1000});
  sink.Accept(TestFacility(1, "91310000MA1FL0XX1X"));
  sink.Accept(TestFacility(2, "91310000MA1FL0XX2X"));
  sink.Finish();
  const auto found = store_.RecordsBySubjectOrg("91310000MA1FL0XX2X");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].kind, RecordKind::kFacility);
  int seen = 0;
  store_.ForEachRecord({.kind = RecordKind::kFacility, .origin = "310000"},
                       [&seen](const StoredRecord&) { return ++seen < 100; });
  EXPECT_EQ(seen, 2);
}

TEST_F(IngestTest, RelayedBatchesAreVerifiedAndAppliedWhole) {
  Feed(store_, MakeRows(300), "sha-1", 100);
  TempDir other_dir;
  Store relay = Store::Init(other_dir / "hub", {.region = "js"});
  const auto key = store_.keys().sign_public();
  const auto head = *store_.Head("310000");
  auto entries = store_.ReadChanges("310000", 0, 1000);

  auto tampered = entries;
  tampered[5].body.back() ^= 1;
  EXPECT_TRUE(relay.ApplyRemoteBatch("310000", tampered, head, key).rejected.has_value());
  EXPECT_EQ(Count(relay, "changes"), 0);
  EXPECT_EQ(Count(relay, "records"), 0);

  // A gap (first 10 missing) is refused; the full batch applies; a repeat
  // changes nothing.
  EXPECT_TRUE(relay.ApplyRemoteBatch("310000", std::span(entries).subspan(10), head, key)
                  .rejected.has_value());
  const auto applied = relay.ApplyRemoteBatch("310000", entries, head, key);
  EXPECT_EQ(applied.rejected, std::nullopt);
  EXPECT_EQ(applied.applied, 270);
  EXPECT_EQ(relay.ApplyRemoteBatch("310000", entries, head, key).applied, 0);
  EXPECT_EQ(Count(relay, "records"), 270);
  EXPECT_EQ(relay.Head("310000"), head);
  EXPECT_EQ(VerifyStoredLog(relay.db(), "310000", key), std::nullopt);
  EXPECT_EQ(relay.RecordsByToken(TestToken(7)).size(), 1u);
  EXPECT_EQ(relay.RecordById(TestAssessment(7).record_id)->body,
            store_.RecordById(TestAssessment(7).record_id)->body);
  // A hub never takes its own origin's changes from someone else.
  EXPECT_TRUE(store_.ApplyRemoteBatch("310000", entries, head, key).rejected.has_value());

  // A retraction travels like any change.
  const std::string id = TestAssessment(7).record_id;
  store_.Retract(id);
  const auto more = store_.ReadChanges("310000", relay.Tip("310000").seq, 1000);
  EXPECT_EQ(relay.ApplyRemoteBatch("310000", more, *store_.Head("310000"), key).applied, 1);
  EXPECT_EQ(relay.RecordById(id)->status, RecordStatus::kRetracted);
  EXPECT_EQ(relay.RecordById(id)->version, 2);
}

}  // namespace
}  // namespace carehub
