// The writer's WAL and pages (hub/store/sqlite_db.h): a database file carehub creates gets its
// page size while an existing file keeps its own, and BulkWriteMode keeps the WAL near its
// bound by restarting it in place (the file is reused, never cut) while every row commits.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hub/store/sqlite_db.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;

std::uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

TEST(BulkWriteModeTest, ANewFileGetsCarehubsPageSizeAndAnOldOneKeepsItsOwn) {
  TempDir tmp;
  const std::string fresh = (tmp / "fresh.db").string();
  {
    sqlite::Database db(fresh);
    db.Exec("CREATE TABLE t(x)");
  }
  EXPECT_EQ(sqlite::Database(fresh).QueryInt("PRAGMA page_size"), 16384);

  // A file made by SQLite's defaults (a hub created before session 12) keeps 4096.
  const std::string old = (tmp / "old.db").string();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(old.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA page_size=4096; CREATE TABLE t(x); INSERT INTO t VALUES(1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  sqlite::Database reopened(old);
  reopened.Exec("INSERT INTO t VALUES(2)");
  EXPECT_EQ(reopened.QueryInt("PRAGMA page_size"), 4096);
  EXPECT_EQ(reopened.QueryInt("SELECT count(*) FROM t"), 2);
}

TEST(BulkWriteModeTest, TheWalRestartsInPlaceNearItsBound) {
  TempDir tmp;
  const std::string path = (tmp / "bulk.db").string();
  sqlite::Database db(path);
  db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, blob BLOB)");
  constexpr std::uint64_t kBound = 1 << 20;
  constexpr int kCommits = 150;
  constexpr int kRowsPerCommit = 20;  // ~20 pages of 16 KiB: ~330 KB of frames a commit
  std::vector<std::uintmax_t> wal_sizes;
  {
    sqlite::BulkWriteMode bulk(db, 4, kBound);
    sqlite::Statement insert(db, "INSERT INTO t(blob) VALUES(randomblob(12000))");
    for (int commit = 0; commit < kCommits; ++commit) {
      sqlite::Transaction tx(db);
      for (int row = 0; row < kRowsPerCommit; ++row) insert.Run();
      tx.Commit();
      bulk.Poke();
      wal_sizes.push_back(FileSize(path + "-wal"));
    }
  }
  // ~50 MB of frames went through a WAL file that stayed a few commits past the bound (a
  // RESTART refused while the checkpointer thread still copies is tried after the next commit)...
  const std::uintmax_t largest = *std::max_element(wal_sizes.begin(), wal_sizes.end());
  const std::uintmax_t written = std::uintmax_t{kCommits} * kRowsPerCommit * (16384 + 24);
  EXPECT_GT(largest, kBound);
  EXPECT_LT(largest, written / 3);
  // ...and was reused, never cut (a TRUNCATE checkpoint would have shrunk it).
  for (std::size_t i = 1; i < wal_sizes.size(); ++i) {
    EXPECT_GE(wal_sizes[i], wal_sizes[i - 1]) << "the WAL file shrank after commit " << i;
  }
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), kCommits * kRowsPerCommit);
  sqlite::Statement check(db, "PRAGMA integrity_check");
  ASSERT_TRUE(check.Step());
  EXPECT_EQ(check.ColumnText(0), "ok");
}

}  // namespace
}  // namespace carehub
