// The bulk path of an ingest (hub/store/bulk_load.h): a load into a store without records of
// the hub's origin skips the id probes and builds the record indexes at its end; it stores
// exactly what the ordinary path stores, leaves it as soon as another writer appends to the
// origin, and a load that stops half-way leaves indexes that the next open builds again.
#include "hub/store/bulk_load.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "hub/store/change_log.h"
#include "hub/store/ingest.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;
using testing::TestToken;

// Assessments first..last through one sink.
IngestSummary Load(Store& store, int first, int last, const std::string& file, bool bulk,
                   std::int64_t batch = 1000) {
  IngestSink sink(store, file, "sha-" + file, "shanghai/assessment",
                  {.batch_size = batch, .bulk_load = bulk});
  for (int i = first; i <= last; ++i) sink.Accept(TestAssessment(i));
  return sink.Finish();
}

std::int64_t Count(Store& store, const std::string& sql) {
  return store.db().QueryInt(sql).value_or(-1);
}

// Every column of records and changes, in storage order.
std::vector<std::string> Dump(Store& store) {
  std::vector<std::string> rows;
  sqlite::Statement records(store.db(),
                            "SELECT rowid, record_id, record_key, kind, origin, version, status, "
                            "subject_org, seq, hex(content_hash) FROM records ORDER BY rowid");
  while (records.Step()) {
    std::string row;
    for (int c = 0; c < 10; ++c) row += std::string(records.ColumnText(c)) + "|";
    rows.push_back(row);
  }
  sqlite::Statement changes(store.db(),
                            "SELECT origin, seq, record_id, op, version, hex(entry_hash), "
                            "hex(body) FROM changes ORDER BY rowid");
  while (changes.Step()) {
    std::string row;
    for (int c = 0; c < 7; ++c) row += std::string(changes.ColumnText(c)) + "|";
    rows.push_back(row);
  }
  return rows;
}

TEST(BulkLoadTest, StoresWhatTheOrdinaryPathStoresAndBuildsTheIndexes) {
  TempDir tmp;
  Store bulk = Store::Init(tmp / "bulk", {.region = "sh", .now_ms = [] { return 1; }});
  Store plain = Store::Init(tmp / "plain", {.region = "sh", .now_ms = [] { return 1; }});
  const IngestSummary a = Load(bulk, 1, 3500, "/data/a.csv", true);
  const IngestSummary b = Load(plain, 1, 3500, "/data/a.csv", false);
  EXPECT_EQ(a.inserted, 3500);
  EXPECT_EQ(SummaryLine(a), SummaryLine(b));
  EXPECT_TRUE(RecordIndexesPresent(bulk.db()));
  // The same rows: ids, keys, seqs, content hashes, bodies, entry hashes.
  EXPECT_EQ(Dump(bulk), Dump(plain));
  EXPECT_EQ(bulk.RecordById(TestAssessment(7).record_id)->version, 1);
  EXPECT_EQ(bulk.RecordsByToken(TestToken(7)).size(), 1u);
  EXPECT_EQ(VerifyStoredLog(bulk.db(), "310000", bulk.keys().sign_public()), std::nullopt);

  // The store holds records of its origin now: the next load probes, finds them unchanged.
  const IngestSummary again = Load(bulk, 1, 4000, "/data/b.csv", true);
  EXPECT_EQ(again.unchanged, 3500);
  EXPECT_EQ(again.inserted, 500);
  EXPECT_EQ(Count(bulk, "SELECT count(*) FROM records"), 4000);
  EXPECT_EQ(Count(bulk, "SELECT count(*) FROM changes"), 4000);
}

// The indexes are gone while the load runs (seen from another connection, which does not
// repair them), and back when it finishes.
TEST(BulkLoadTest, IndexesAreDroppedDuringTheLoadAndBuiltAtItsEnd) {
  TempDir tmp;
  Store store = Store::Init(tmp / "hub", {.region = "sh"});
  IngestSink sink(store, "/data/a.csv", "sha", "shanghai/assessment", {.batch_size = 1000});
  for (int i = 1; i <= 1000; ++i) sink.Accept(TestAssessment(i));  // one batch, handed whole
  sqlite::Database reader((tmp / "hub" / "carehub.db").string(),
                          {.mode = sqlite::OpenMode::kReadOnly});
  while (reader.QueryInt("SELECT count(*) FROM changes").value_or(0) < 1000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // until the writer committed
  }
  EXPECT_FALSE(RecordIndexesPresent(reader));
  for (int i = 1001; i <= 2500; ++i) sink.Accept(TestAssessment(i));
  const IngestSummary s = sink.Finish();
  EXPECT_EQ(s.inserted, 2500);
  EXPECT_TRUE(RecordIndexesPresent(store.db()));
  EXPECT_TRUE(RecordIndexesPresent(reader));
}

// Another writer appends to the origin between two batches (here an ingest of overlapping rows
// on another connection): the run leaves the bulk path, probes, and stores nothing twice.
TEST(BulkLoadTest, AnotherWriterOfTheOriginEndsTheBulkPath) {
  TempDir tmp;
  Store store = Store::Init(tmp / "hub", {.region = "sh"});
  IngestSink sink(store, "/data/a.csv", "sha-a", "shanghai/assessment", {.batch_size = 1000});
  for (int i = 1; i <= 1000; ++i) sink.Accept(TestAssessment(i));  // one batch, handed whole
  {
    Store other = Store::Open(tmp / "hub");  // waits for the batch's commit (busy timeout)
    const IngestSummary o = Load(other, 501, 2000, "/data/b.csv", true);
    EXPECT_EQ(o.unchanged + o.inserted, 1500);
  }
  for (int i = 1001; i <= 3000; ++i) sink.Accept(TestAssessment(i));
  const IngestSummary s = sink.Finish();
  EXPECT_EQ(s.inserted + s.unchanged, 3000);
  EXPECT_EQ(Count(store, "SELECT count(*) FROM records"), 3000);
  EXPECT_EQ(Count(store, "SELECT count(DISTINCT record_id) FROM records"), 3000);
  EXPECT_EQ(Count(store, "SELECT count(*) FROM changes"), 3000);
  EXPECT_TRUE(RecordIndexesPresent(store.db()));
  EXPECT_EQ(VerifyStoredLog(store.db(), "310000", store.keys().sign_public()), std::nullopt);
}

// serve's writer (its own connection, open before the load started) applies a relayed batch
// while a bulk load has the record indexes dropped: it builds them first rather than scan
// `records` for every entry, and the load goes on and finishes with every record.
TEST(BulkLoadTest, ARelayedBatchDuringTheLoadBuildsTheIndexesFirst) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  ASSERT_EQ(Load(sh, 1, 50, "/data/sh.csv", true).inserted, 50);
  Store store = Store::Init(tmp / "hub", {.region = "js"});
  Store serve_writer = Store::Open(tmp / "hub");
  IngestSink sink(store, "/data/js.csv", "sha-js", "jiangsu/assessment", {.batch_size = 1000});
  for (int i = 1; i <= 1000; ++i) sink.Accept(TestAssessment(i, "320000"));  // one batch
  while (Count(serve_writer, "SELECT count(*) FROM changes") < 1000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // until the writer committed
  }
  ASSERT_FALSE(RecordIndexesPresent(serve_writer.db()));

  EXPECT_EQ(serve_writer.ApplyVerifiedBatch("310000", sh.ReadChanges("310000", 0, 100),
                                            *sh.Head("310000")),
            50);
  EXPECT_TRUE(RecordIndexesPresent(serve_writer.db()));
  sqlite::Statement plan(serve_writer.db(),
                         "EXPLAIN QUERY PLAN SELECT 1 FROM records WHERE record_key = 1");
  ASSERT_TRUE(plan.Step());
  EXPECT_NE(std::string(plan.ColumnText(3)).find("records_key"), std::string::npos);

  for (int i = 1001; i <= 2500; ++i) sink.Accept(TestAssessment(i, "320000"));
  EXPECT_EQ(sink.Finish().inserted, 2500);
  EXPECT_EQ(Count(store, "SELECT count(*) FROM records"), 2550);
  EXPECT_TRUE(RecordIndexesPresent(store.db()));
  EXPECT_EQ(VerifyStoredLog(store.db(), "320000", store.keys().sign_public()), std::nullopt);
}

// A load that stops after some batches (as a crash would, minus the process exit) builds the
// indexes it dropped when its writer goes; one whose indexes are missing (a kill -9: see
// crash_test.cc) has them built by the next open.
TEST(BulkLoadTest, AnInterruptedLoadLeavesIndexesTheOpenRepairs) {
  TempDir tmp;
  {
    Store store = Store::Init(tmp / "hub", {.region = "sh"});
    {
      IngestSink sink(store, "/data/a.csv", "sha", "shanghai/assessment", {.batch_size = 1000});
      for (int i = 1; i <= 2500; ++i) sink.Accept(TestAssessment(i));
    }  // no Finish
    EXPECT_TRUE(RecordIndexesPresent(store.db()));
    EXPECT_EQ(Count(store, "SELECT count(*) FROM records") % 1000, 0);
    store.db().Exec("DROP INDEX records_key; DROP INDEX records_subject_org");
    EXPECT_FALSE(RecordIndexesPresent(store.db()));
    // Queries answer without them.
    EXPECT_EQ(store.RecordById(TestAssessment(7).record_id)->version, 1);
  }
  Store reopened = Store::Open(tmp / "hub");
  EXPECT_TRUE(RecordIndexesPresent(reopened.db()));
  sqlite::Statement plan(reopened.db(),
                         "EXPLAIN QUERY PLAN SELECT 1 FROM records WHERE record_key = 1");
  ASSERT_TRUE(plan.Step());
  EXPECT_NE(std::string(plan.ColumnText(3)).find("records_key"), std::string::npos);
}

}  // namespace
}  // namespace carehub
