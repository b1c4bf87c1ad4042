// Writers waiting for the write lock announce it (hub/store/sqlite_db.h kWriterWaitingFor): a
// connection that holds the lock sees OtherWriterWaiting() while another one waits, and no
// longer once the waiter got the lock or gave up; a connection whose busy timeout was set by
// PRAGMA (the exchange's) does not announce.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include "hub/store/sqlite_db.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

class WriterWaitingTest : public ::testing::Test {
 protected:
  void SetUp() override { holder_.Exec("CREATE TABLE t(x INTEGER)"); }

  // Polls `db` for up to 3 s until OtherWriterWaiting() equals `want`.
  static bool Becomes(const sqlite::Database& db, bool want) {
    for (int i = 0; i < 300; ++i) {
      if (db.OtherWriterWaiting() == want) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  TempDir tmp_;
  std::string path_ = (tmp_ / "w.db").string();
  sqlite::Database holder_{path_};
};

TEST_F(WriterWaitingTest, AWaitingWriterIsSeenUntilItHasTheLock) {
  EXPECT_FALSE(holder_.OtherWriterWaiting());
  std::optional<sqlite::Transaction> held(std::in_place, holder_);
  std::atomic<bool> written{false};
  std::thread waiter([&] {
    sqlite::Database other(path_, {.busy_timeout_ms = 10000});
    other.Exec("INSERT INTO t VALUES(1)");  // waits for the holder's lock
    written = true;
  });
  EXPECT_TRUE(Becomes(holder_, true)) << "the waiting writer was not announced";
  EXPECT_FALSE(written);
  held->Commit();  // as the exchange commits its group when a writer waits
  held.reset();
  waiter.join();
  EXPECT_TRUE(written);
  EXPECT_TRUE(Becomes(holder_, false)) << "the announcement outlived the wait";
  struct stat st {};
  ASSERT_EQ(::stat((path_ + "-writers").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 0);
}

TEST_F(WriterWaitingTest, AWriterThatGaveUpIsNoLongerSeen) {
  sqlite::Transaction held(holder_);
  sqlite::Database other(path_, {.busy_timeout_ms = 400});
  EXPECT_THROW(other.Exec("INSERT INTO t VALUES(1)"), sqlite::SqliteError);
  EXPECT_TRUE(std::filesystem::exists(path_ + "-writers"));  // it waited, and said so
  EXPECT_TRUE(Becomes(holder_, false));
}

TEST_F(WriterWaitingTest, AConnectionWhoseBusyTimeoutPragmaSetDoesNotAnnounce) {
  sqlite::Transaction held(holder_);
  sqlite::Database exchange_like(path_);
  exchange_like.Exec("PRAGMA busy_timeout=300");  // SQLite's own handler, as the exchange sets
  EXPECT_THROW(exchange_like.Exec("INSERT INTO t VALUES(1)"), sqlite::SqliteError);
  EXPECT_FALSE(std::filesystem::exists(path_ + "-writers"));
  EXPECT_FALSE(holder_.OtherWriterWaiting());
}

}  // namespace
}  // namespace carehub
