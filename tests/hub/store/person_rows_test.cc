// PersonRows (hub/store/person_rows.h): the record_persons writes of a bulk write are held until
// Flush and then take effect as if written in the order queued; a savepoint's rows can be
// dropped; a group of relayed batches that shares one queue ends with the origin's person rows.
#include "hub/store/person_rows.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

#include "hub/store/ingest.h"
#include "hub/store/store.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using Rows = std::set<std::pair<std::int64_t, std::int64_t>>;

Rows PersonRowsOf(sqlite::Database& db) {
  sqlite::Statement read(db, "SELECT token_key, record_key FROM record_persons");
  Rows rows;
  while (read.Step()) rows.emplace(read.ColumnInt64(0), read.ColumnInt64(1));
  return rows;
}

class PersonRowsTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  Store store_ = Store::Init(tmp_ / "hub", {.region = "sh"});
};

TEST_F(PersonRowsTest, QueuedRowsAreWrittenAtFlushAsIfInTheOrderQueued) {
  sqlite::Transaction tx(store_.db());
  PersonRows rows(store_.db());
  rows.Insert(3, 1);
  rows.Insert(-5, 2);
  rows.Insert(2, 1);
  rows.Delete(-5, 2);  // after its insert: gone
  rows.Delete(4, 4);   // never there: nothing
  rows.Insert(-5, 2);  // and back
  rows.Insert(3, 1);   // twice: one row
  EXPECT_TRUE(PersonRowsOf(store_.db()).empty());
  rows.Flush();
  EXPECT_EQ(rows.Size(), 0U);
  tx.Commit();
  EXPECT_EQ(PersonRowsOf(store_.db()), (Rows{{-5, 2}, {2, 1}, {3, 1}}));
}

TEST_F(PersonRowsTest, DeleteAllRemovesStoredAndEarlierQueuedRowsOfItsRecordOnly) {
  {
    sqlite::Transaction tx(store_.db());
    PersonRows rows(store_.db());
    rows.Insert(5, 7);
    rows.Insert(5, 8);
    rows.Flush();
    tx.Commit();
  }
  sqlite::Transaction tx(store_.db());
  PersonRows rows(store_.db());
  rows.Insert(6, 7);
  rows.DeleteAll(7);
  rows.Insert(8, 7);
  rows.Insert(9, 1);
  rows.Flush();
  tx.Commit();
  EXPECT_EQ(PersonRowsOf(store_.db()), (Rows{{5, 8}, {8, 7}, {9, 1}}));
}

TEST_F(PersonRowsTest, TruncateDropsWhatWasQueuedAfterTheMark) {
  sqlite::Transaction tx(store_.db());
  PersonRows rows(store_.db());
  rows.Insert(1, 1);
  const std::size_t mark = rows.Size();
  rows.Insert(2, 2);
  rows.DeleteAll(1);
  rows.Truncate(mark);
  rows.Flush();
  tx.Commit();
  EXPECT_EQ(PersonRowsOf(store_.db()), (Rows{{1, 1}}));
}

// As the exchange's writer does: batches applied into one transaction with one queue, flushed
// before the commit; the relay ends with the same person rows as the origin.
TEST_F(PersonRowsTest, AGroupOfRelayedBatchesEndsWithTheOriginsPersonRows) {
  {
    IngestSink sink(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {.batch_size = 100});
    for (int i = 0; i < 250; ++i) sink.Accept(testing::TestAssessment(i));
    sink.Finish();
  }
  Store relay = Store::Init(tmp_ / "relay",
                            {.region = "js", .federation_key_file = tmp_ / "hub/federation.key"});
  const std::string origin = store_.region();
  const SignedHead head = *store_.Head(origin);
  const auto entries = store_.ReadChanges(origin, 0, head.seq);
  ASSERT_EQ(entries.size(), 250U);
  sqlite::Transaction group(relay.db());
  PersonRows persons(relay.db());
  const ApplyResult result = relay.ApplyRemoteBatch(
      origin, entries, head, store_.keys().sign_public(), EntryHashes::kClaimed, &persons);
  ASSERT_FALSE(result.rejected.has_value()) << *result.rejected;
  EXPECT_EQ(result.applied, 250);
  EXPECT_TRUE(PersonRowsOf(relay.db()).empty());
  EXPECT_GT(persons.Size(), 0U);
  persons.Flush();
  group.Commit();
  EXPECT_EQ(PersonRowsOf(relay.db()), PersonRowsOf(store_.db()));
  EXPECT_FALSE(PersonRowsOf(relay.db()).empty());
}

}  // namespace
}  // namespace carehub
