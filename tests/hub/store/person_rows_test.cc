// PersonRows (hub/store/person_rows.h): the record_persons writes of a bulk write are held until
// Flush and then take effect as if written in the order queued; a savepoint's rows can be
// dropped; a group of relayed batches that shares one queue ends with the origin's person rows.
#include "hub/store/person_rows.h"

#include <gtest/gtest.h>

#include <random>
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

// The queue keeps inserts apart from removals (16 bytes each): whatever the mix, the rows after a
// Flush are those of the ops applied one by one in the order queued, from the same stored rows.
TEST_F(PersonRowsTest, RandomQueuesEndAsIfEachOpRanInTheOrderQueued) {
  std::mt19937 random(16);
  const auto pick = [&random](int n) { return static_cast<std::int64_t>(random() % n) - 1; };
  for (int round = 0; round < 60; ++round) {
    sqlite::Transaction tx(store_.db());
    store_.db().Exec("DELETE FROM record_persons");
    Rows expected;
    for (int i = 0; i < 6; ++i) {  // stored before the queue
      const std::pair<std::int64_t, std::int64_t> row{pick(4), pick(4)};
      store_.db().Exec("INSERT OR IGNORE INTO record_persons VALUES(" + std::to_string(row.first) +
                       ", " + std::to_string(row.second) + ")");
      expected.insert(row);
    }
    PersonRows rows(store_.db());
    for (int op = 0; op < 40; ++op) {
      const std::int64_t token = pick(4);
      const std::int64_t record = pick(4);
      switch (random() % 6) {
        case 0:
        case 1:
        case 2:
          rows.Insert(token, record);
          expected.emplace(token, record);
          break;
        case 3:
        case 4:
          rows.Delete(token, record);
          expected.erase({token, record});
          break;
        default:
          rows.DeleteAll(record);
          std::erase_if(expected, [record](const auto& row) { return row.second == record; });
      }
    }
    rows.Flush();
    EXPECT_EQ(rows.Size(), 0U);
    EXPECT_EQ(PersonRowsOf(store_.db()), expected) << "round " << round;
    tx.Rollback();
  }
}

// Truncate keeps the ops queued before the mark, inserts and removals alike.
TEST_F(PersonRowsTest, TruncateBetweenInsertsAndRemovalsKeepsWhatCameBefore) {
  sqlite::Transaction tx(store_.db());
  PersonRows rows(store_.db());
  rows.Insert(1, 1);
  rows.Delete(1, 1);
  rows.Insert(2, 2);
  const std::size_t mark = rows.Size();
  rows.Delete(2, 2);
  rows.Insert(3, 3);
  rows.DeleteAll(2);
  rows.Insert(1, 1);
  rows.Truncate(mark);
  EXPECT_EQ(rows.Size(), 3U);
  rows.Insert(4, 4);
  rows.Flush();
  tx.Commit();
  EXPECT_EQ(PersonRowsOf(store_.db()), (Rows{{2, 2}, {4, 4}}));
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
