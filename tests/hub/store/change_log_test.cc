#include "hub/store/change_log.h"

#include <gtest/gtest.h>

#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;

constexpr std::string_view kId = "0123456789abcdef0123456789abcdef";

// Expected values computed independently (Python hashlib/struct) from the layout in
// docs/STORE.md, so a change of the byte layout cannot go unnoticed.
TEST(ChangeLogTest, EntryHashAndHeadMessageFollowTheDocumentedLayout) {
  const Hash256 record_hash = RecordHash("body-1");
  const Hash256 entry = EntryHash("310000", 1, ChangeOp::kUpsert, kId, 1, record_hash, kZeroHash);
  EXPECT_EQ(ToHex(entry), "6d39a55b3bcf3ed959ee630530e090c17ca5fdc6a249b5898a58d30b6bf0e7ca");
  const std::string message = HeadMessage("310000", 1, entry);
  EXPECT_EQ(ToHex(reinterpret_cast<const std::uint8_t*>(message.data()), message.size()),
            "636172656875622e686561642e7631000633313030303000000000000000016d39a55b3bcf3ed959ee"
            "630530e090c17ca5fdc6a249b5898a58d30b6bf0e7ca");
  // Every field takes part.
  EXPECT_NE(EntryHash("310000", 1, ChangeOp::kRetract, kId, 1, record_hash, kZeroHash), entry);
  EXPECT_NE(EntryHash("310000", 2, ChangeOp::kUpsert, kId, 1, record_hash, kZeroHash), entry);
  EXPECT_NE(EntryHash("310000", 1, ChangeOp::kUpsert, kId, 2, record_hash, kZeroHash), entry);
  EXPECT_NE(EntryHash("320000", 1, ChangeOp::kUpsert, kId, 1, record_hash, kZeroHash), entry);
  // The message is built in a buffer kept per thread: nothing of an earlier hash is left in it.
  EXPECT_EQ(EntryHash("310000", 1, ChangeOp::kUpsert, kId, 1, record_hash, kZeroHash), entry);
  EXPECT_EQ(
      EntryHash("310000", 1, ChangeOp::kUpsert, std::string(300, 'x'), 1, record_hash, kZeroHash),
      EntryHash("310000", 1, ChangeOp::kUpsert, std::string(300, 'x'), 1, record_hash, kZeroHash));
  EXPECT_EQ(EntryHash("310000", 1, ChangeOp::kUpsert, kId, 1, record_hash, kZeroHash), entry);
}

class ChangeLogStoreTest : public ::testing::Test {
 protected:
  ChangeLogStoreTest() : store_(Store::Init(tmp_ / "hub", {.region = "sh"})) {}

  // Appends n entries with bodies "body-<i>" in one transaction and signs the head.
  void AppendEntries(int from, int n) {
    ChangeLogWriter log(store_.db(), store_.region());
    sqlite::Transaction tx(store_.db());
    for (int i = from; i < from + n; ++i) {
      const std::string body = "body-" + std::to_string(i);
      log.Append(MakeRecordId("310000", RecordKind::kAssessment, std::to_string(i)),
                 ChangeOp::kUpsert, 1, body, RecordHash(body));
    }
    log.StoreSignedHead(store_.keys());
    tx.Commit();
  }

  TempDir tmp_;
  Store store_;
};

TEST_F(ChangeLogStoreTest, AppendedLogVerifiesAndHeadIsSigned) {
  AppendEntries(1, 5);
  AppendEntries(6, 3);
  EXPECT_EQ(store_.Tip("310000").seq, 8);
  auto head = store_.Head("310000");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 8);
  EXPECT_TRUE(VerifyHead(*head, store_.keys().sign_public()));
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);

  const auto all = store_.ReadChanges("310000", 0, 100);
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[0].prev_hash, kZeroHash);
  EXPECT_EQ(all[1].prev_hash, all[0].entry_hash);
  EXPECT_EQ(VerifyBatch("310000", {}, all, *head, store_.keys().sign_public()), std::nullopt);
  // A suffix verifies from the cursor of its predecessor.
  const auto tail = store_.ReadChanges("310000", 5, 100);
  ASSERT_EQ(tail.size(), 3u);
  EXPECT_EQ(VerifyBatch("310000", {5, all[4].entry_hash}, tail, *head, store_.keys().sign_public()),
            std::nullopt);
  EXPECT_NE(VerifyBatch("310000", {4, all[3].entry_hash}, tail, *head, store_.keys().sign_public()),
            std::nullopt);
}

// The serve worker reads batch after batch into one vector (ReadChanges into `out`): entries left
// from an earlier read, longer or shorter, of another origin, more or fewer of them, are
// overwritten into exactly what a fresh read returns.
TEST_F(ChangeLogStoreTest, ReadingIntoAReusedVectorEqualsAFreshRead) {
  AppendEntries(1, 5);
  AppendEntries(6, 3);
  const auto all = store_.ReadChanges("310000", 0, 100);
  const auto tail = store_.ReadChanges("310000", 5, 100);
  ASSERT_EQ(all.size(), 8u);
  ASSERT_EQ(tail.size(), 3u);
  std::vector<ChangeEntry> reused(4);
  for (ChangeEntry& e : reused) {
    e.origin = "320000";
    e.seq = 99;
    e.record_id = std::string(200, 'r');
    e.body = std::string(5000, 'b');
    e.op = ChangeOp::kRetract;
    e.version = 7;
    e.record_hash = e.prev_hash = e.entry_hash = RecordHash("x");
  }
  store_.ReadChanges("310000", 0, 100, reused);  // more entries than held
  EXPECT_EQ(reused, all);
  store_.ReadChanges("310000", 5, 100, reused);  // fewer
  EXPECT_EQ(reused, tail);
  store_.ReadChanges("310000", 0, 2, reused);  // a limit
  EXPECT_EQ(reused, std::vector<ChangeEntry>(all.begin(), all.begin() + 2));
  store_.ReadChanges("310000", 8, 100, reused);  // none
  EXPECT_TRUE(reused.empty());
  store_.ReadChanges("310000", 0, 100, reused);
  EXPECT_EQ(reused, all);
}

TEST_F(ChangeLogStoreTest, TamperingIsDetected) {
  AppendEntries(1, 4);
  const auto head = *store_.Head("310000");
  const auto key = store_.keys().sign_public();
  const auto good = store_.ReadChanges("310000", 0, 100);

  auto altered = good;
  altered[2].body[0] ^= 1;  // one bit of one record
  EXPECT_NE(VerifyBatch("310000", {}, altered, head, key), std::nullopt);

  altered = good;
  altered[2].body[0] ^= 1;
  altered[2].record_hash = RecordHash(altered[2].body);  // hash fixed up, chain is not
  EXPECT_NE(VerifyBatch("310000", {}, altered, head, key), std::nullopt);

  altered = good;
  std::swap(altered[1], altered[2]);
  EXPECT_NE(VerifyBatch("310000", {}, altered, head, key), std::nullopt);

  auto forged = head;
  forged.signature[10] ^= 1;
  EXPECT_NE(VerifyBatch("310000", {}, good, forged, key), std::nullopt);

  TempDir other_dir;
  Store other = Store::Init(other_dir / "hub", {.region = "sh"});
  EXPECT_NE(VerifyBatch("310000", {}, good, head, other.keys().sign_public()), std::nullopt);
  // A batch that stops before the signed head cannot be verified against it.
  EXPECT_NE(VerifyBatch("310000", {}, std::span(good).first(3), head, key), std::nullopt);

  // Tampering in the database is found by re-verification.
  store_.db().Exec("UPDATE changes SET body = X'00' WHERE seq = 3");
  EXPECT_NE(VerifyStoredLog(store_.db(), "310000", key), std::nullopt);
}

TEST_F(ChangeLogStoreTest, RolledBackAppendLeavesNoTrace) {
  AppendEntries(1, 2);
  ChangeLogWriter log(store_.db(), "310000");
  {
    sqlite::Transaction tx(store_.db());
    log.Append(kId, ChangeOp::kUpsert, 1, "x", RecordHash("x"));
    log.StoreSignedHead(store_.keys());
  }
  log.Reload();
  EXPECT_EQ(log.tip().seq, 2);
  EXPECT_EQ(VerifyStoredLog(store_.db(), "310000", store_.keys().sign_public()), std::nullopt);
}

}  // namespace
}  // namespace carehub
