// The relayed bulk path (hub/store/relayed_bulk.h): a first catch-up of an origin skips the id
// probe of entries that create records and drops the record indexes until its end; it stores
// exactly what the ordinary path stores (new versions and retractions included), probes a
// record created twice by a malformed signed log, leaves an origin another writer appended to,
// and a rolled-back transaction ends it with the indexes in place.
#include "hub/store/relayed_bulk.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/store/bulk_load.h"
#include "hub/store/change_log.h"
#include "hub/store/ingest.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;

constexpr const char* kOrigin = "310000";

std::int64_t Count(Store& store, const std::string& sql) {
  return store.db().QueryInt(sql).value_or(-1);
}

// records (without rowid) and record_persons, sorted.
std::vector<std::string> Rows(Store& store) {
  std::vector<std::string> rows;
  sqlite::Statement records(store.db(),
                            "SELECT record_id, record_key, kind, origin, version, status, "
                            "subject_org, seq, fingerprint FROM records ORDER BY record_id");
  while (records.Step()) {
    std::string row;
    for (int c = 0; c < 9; ++c) row += std::string(records.ColumnText(c)) + "|";
    rows.push_back(row);
  }
  sqlite::Statement persons(store.db(),
                            "SELECT token_key, record_key FROM record_persons "
                            "ORDER BY token_key, record_key");
  while (persons.Step()) {
    rows.push_back(std::string(persons.ColumnText(0)) + "/" + persons.ColumnText(1));
  }
  return rows;
}

// The source hub's log as batches, each ending at a head it signed: an ingest of 1..300, the
// retraction of five of them, an ingest of 301..400.
struct SourceLog {
  std::vector<std::vector<ChangeEntry>> batches;
  std::vector<SignedHead> heads;
};

SourceLog MakeSource(Store& sh) {
  SourceLog log;
  auto cut = [&](std::int64_t after) {
    const SignedHead head = *sh.Head(kOrigin);
    log.batches.push_back(sh.ReadChanges(kOrigin, after, head.seq - after));
    log.heads.push_back(head);
    return head.seq;
  };
  auto load = [&](int first, int last) {
    IngestSink sink(sh, "/data/sh" + std::to_string(first) + ".csv", "sha" + std::to_string(first),
                    "shanghai/assessment", {.batch_size = 1000});
    for (int i = first; i <= last; ++i) sink.Accept(TestAssessment(i));
    sink.Finish();
  };
  load(1, 300);
  std::int64_t seq = cut(0);
  for (int i = 10; i <= 50; i += 10) {
    EXPECT_TRUE(sh.Retract(TestAssessment(i).record_id).has_value());
  }
  seq = cut(seq);
  load(301, 400);
  cut(seq);
  return log;
}

ApplyResult Apply(Store& to, Store& from, const SourceLog& log, std::size_t i, RelayedBulk* bulk) {
  if (bulk == nullptr) {
    return to.ApplyRemoteBatch(kOrigin, log.batches[i], log.heads[i], from.keys().sign_public());
  }
  return ApplyRemoteBatch(to, kOrigin, log.batches[i], log.heads[i], from.keys().sign_public(),
                          EntryHashes::kClaimed, nullptr, *bulk);
}

TEST(RelayedBulkTest, StoresWhatTheOrdinaryPathStores) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  ASSERT_EQ(log.batches.size(), 3u);
  Store plain = Store::Init(tmp / "plain", {.region = "js"});
  Store bulk_hub = Store::Init(tmp / "bulk", {.region = "js"});
  RelayedBulk bulk(bulk_hub.db());
  bulk.Expect(kOrigin, log.heads.back().seq);
  for (std::size_t i = 0; i < log.batches.size(); ++i) {
    EXPECT_FALSE(Apply(plain, sh, log, i, nullptr).rejected);
    const ApplyResult r = Apply(bulk_hub, sh, log, i, &bulk);
    EXPECT_FALSE(r.rejected);
    EXPECT_EQ(r.applied, static_cast<std::int64_t>(log.batches[i].size()));
    // The first batch only creates records: the indexes stay dropped; the retractions (version
    // 2) are probed, which builds them.
    EXPECT_EQ(RecordIndexesPresent(bulk_hub.db()), i > 0) << i;
  }
  EXPECT_TRUE(bulk.ShouldFinish());
  bulk.Finish();
  EXPECT_TRUE(RecordIndexesPresent(bulk_hub.db()));
  EXPECT_EQ(Count(bulk_hub, "SELECT count(*) FROM records"), 400);
  EXPECT_EQ(Count(bulk_hub, "SELECT count(*) FROM records WHERE status = 'RETRACTED'"), 5);
  EXPECT_EQ(Rows(bulk_hub), Rows(plain));
  EXPECT_EQ(VerifyStoredLog(bulk_hub.db(), kOrigin, sh.keys().sign_public()), std::nullopt);
}

TEST(RelayedBulkTest, OnlyCreationsSkipTheProbeAndTheIndexesComeBackAtTheEnd) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  Store hub = Store::Init(tmp / "hub", {.region = "js"});
  {
    RelayedBulk bulk(hub.db());
    bulk.Expect(kOrigin, log.heads.back().seq);
    EXPECT_FALSE(Apply(hub, sh, log, 0, &bulk).rejected);
    EXPECT_FALSE(RecordIndexesPresent(hub.db()));
    EXPECT_FALSE(bulk.ShouldFinish());  // the advertised head is not reached yet
  }                                     // a run that stops builds the indexes it dropped
  EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  EXPECT_EQ(Count(hub, "SELECT count(*) FROM records"), 300);
}

// A serving hub (its background check looks records up by id) keeps its indexes; the probes
// are still skipped and the rows are the same.
TEST(RelayedBulkTest, WithoutDropTheIndexesStayAndTheRowsAreTheSame) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  Store plain = Store::Init(tmp / "plain", {.region = "js"});
  Store hub = Store::Init(tmp / "hub", {.region = "js"});
  RelayedBulk bulk(hub.db(), false);
  bulk.Expect(kOrigin, log.heads.back().seq);
  for (std::size_t i = 0; i < log.batches.size(); ++i) {
    EXPECT_FALSE(Apply(plain, sh, log, i, nullptr).rejected);
    EXPECT_FALSE(Apply(hub, sh, log, i, &bulk).rejected);
    EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  }
  EXPECT_EQ(Rows(hub), Rows(plain));
}

// A signed log that creates one record twice (version 1 at seq 301 again): the set of written
// keys sends the second creation to a probe, which finds the first: one row, as on the ordinary
// path; also when the first creation's key has long spilled from memory into the set's file.
TEST(RelayedBulkTest, ARecordCreatedTwiceByAMalformedLogIsStoredOnce) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  std::vector<ChangeEntry> entries = log.batches[0];
  ChangeEntry again = entries[6];
  again.seq = static_cast<std::int64_t>(entries.size()) + 1;
  again.prev_hash = entries.back().entry_hash;
  again.entry_hash = EntryHash(again);
  entries.push_back(again);
  const SignedHead head = SignHead(sh.keys(), kOrigin, again.seq, again.entry_hash);

  for (const std::size_t in_memory : {RelayedBulk::kKeysInMemory, std::size_t{16}}) {
    Store hub = Store::Init(tmp / ("hub" + std::to_string(in_memory)), {.region = "js"});
    RelayedBulk bulk(hub.db(), true, in_memory);
    bulk.Expect(kOrigin, again.seq);
    const ApplyResult r = ApplyRemoteBatch(hub, kOrigin, entries, head, sh.keys().sign_public(),
                                           EntryHashes::kClaimed, nullptr, bulk);
    ASSERT_FALSE(r.rejected) << *r.rejected;
    EXPECT_TRUE(RecordIndexesPresent(hub.db()));  // the probe built them
    bulk.Finish();
    EXPECT_EQ(Count(hub, "SELECT count(*) FROM records"), 300) << in_memory;
    EXPECT_EQ(Count(hub, "SELECT seq FROM records WHERE record_id = '" + again.record_id + "'"),
              again.seq)
        << in_memory;
  }
}

// The set of written keys is exact: 300 creations with the set spilling every 16 keys probe
// nothing, so the indexes stay dropped until the end (a false hit would have built them), and
// the rows are the ordinary path's.
TEST(RelayedBulkTest, CreationsNeverProbeSoTheIndexesStayDroppedUntilTheEnd) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  Store plain = Store::Init(tmp / "plain", {.region = "js"});
  Store hub = Store::Init(tmp / "hub", {.region = "js"});
  RelayedBulk bulk(hub.db(), true, 16);
  bulk.Expect(kOrigin, log.heads[0].seq);
  EXPECT_FALSE(Apply(plain, sh, log, 0, nullptr).rejected);
  EXPECT_FALSE(Apply(hub, sh, log, 0, &bulk).rejected);
  EXPECT_FALSE(RecordIndexesPresent(hub.db()));
  EXPECT_TRUE(bulk.ShouldFinish());
  bulk.Finish();
  EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  EXPECT_EQ(Rows(hub), Rows(plain));
}

// Another connection applies the middle batch: the run sees a tip it did not leave, leaves the
// origin and probes the rest; nothing is stored twice.
TEST(RelayedBulkTest, AnotherWriterOfTheOriginEndsItsRun) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  Store hub = Store::Init(tmp / "hub", {.region = "js"});
  Store other = Store::Open(tmp / "hub");
  Store plain = Store::Init(tmp / "plain", {.region = "js"});
  RelayedBulk bulk(hub.db());
  bulk.Expect(kOrigin, log.heads.back().seq);
  EXPECT_FALSE(Apply(hub, sh, log, 0, &bulk).rejected);
  EXPECT_FALSE(Apply(other, sh, log, 1, nullptr).rejected);  // builds the indexes first
  EXPECT_FALSE(Apply(hub, sh, log, 2, &bulk).rejected);
  EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  for (std::size_t i = 0; i < log.batches.size(); ++i) Apply(plain, sh, log, i, nullptr);
  EXPECT_EQ(Rows(hub), Rows(plain));
}

// The batch runs inside a group transaction that is rolled back: the drop is undone with it and
// the run ends; the next batches are applied on the ordinary path.
TEST(RelayedBulkTest, ARolledBackGroupEndsTheRunWithTheIndexesInPlace) {
  TempDir tmp;
  Store sh = Store::Init(tmp / "sh", {.region = "sh"});
  const SourceLog log = MakeSource(sh);
  Store hub = Store::Init(tmp / "hub", {.region = "js"});
  RelayedBulk bulk(hub.db());
  bulk.Expect(kOrigin, log.heads.back().seq);
  {
    sqlite::Transaction group(hub.db(), sqlite::TransactionKind::kImmediate);
    EXPECT_FALSE(Apply(hub, sh, log, 0, &bulk).rejected);
    EXPECT_FALSE(RecordIndexesPresent(hub.db()));
  }
  bulk.RolledBack();
  EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  EXPECT_EQ(Count(hub, "SELECT count(*) FROM records"), 0);
  for (std::size_t i = 0; i < log.batches.size(); ++i) {
    EXPECT_FALSE(Apply(hub, sh, log, i, &bulk).rejected);
    EXPECT_TRUE(RecordIndexesPresent(hub.db()));
  }
  EXPECT_EQ(Count(hub, "SELECT count(*) FROM records"), 400);
}

}  // namespace
}  // namespace carehub
