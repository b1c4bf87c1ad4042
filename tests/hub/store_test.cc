#include "hub/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "hub/migrations.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

unsigned ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(StoreTest, InitCreatesHubWithRegionKeysAndFederationKey) {
  TempDir tmp;
  const fs::path dir = tmp / "hub";
  Store store = Store::Init(dir, {.region = "sh"});
  EXPECT_EQ(store.region(), "310000");
  EXPECT_EQ(store.federation_key().size(), 32u);
  EXPECT_EQ(ModeOf(dir / "federation.key"), 0600u);
  EXPECT_EQ(ModeOf(dir / "keys" / "sign.secret"), 0600u);
  EXPECT_EQ(ModeOf(dir / "keys" / "curve.secret"), 0600u);
  EXPECT_EQ(store.keys().curve_public().size(), 40u);
  EXPECT_EQ(SchemaVersion(store.db()), LatestSchemaVersion());
  EXPECT_EQ(store.db().QueryInt("SELECT count(*) FROM meta WHERE key = 'created_at'"), 1);
  // WAL and foreign keys are on for every connection.
  sqlite::Statement mode(store.db(), "PRAGMA journal_mode");
  ASSERT_TRUE(mode.Step());
  EXPECT_EQ(mode.ColumnText(0), "wal");
  EXPECT_EQ(store.db().QueryInt("PRAGMA foreign_keys"), 1);

  Store reopened = Store::Open(dir);
  EXPECT_EQ(reopened.region(), "310000");
  EXPECT_EQ(reopened.federation_key(), store.federation_key());
  EXPECT_EQ(reopened.keys().sign_public(), store.keys().sign_public());
}

TEST(StoreTest, InitIsIdempotentButRefusesAnotherRegion) {
  TempDir tmp;
  const fs::path dir = tmp / "hub";
  const auto first = Store::Init(dir, {.region = "440000"}).keys().sign_public();
  // Same region again: keeps keys.
  EXPECT_EQ(Store::Init(dir, {.region = "gd"}).keys().sign_public(), first);
  try {
    Store::Init(dir, {.region = "hk"});
    FAIL() << "init with another region must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("440000"), std::string::npos) << e.what();
  }
}

TEST(StoreTest, SharedFederationKeyIsCopiedAndMustMatch) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Store b =
      Store::Init(tmp / "b", {.region = "js", .federation_key_file = tmp / "a" / "federation.key"});
  EXPECT_EQ(a.federation_key(), b.federation_key());
  EXPECT_EQ(ModeOf(tmp / "b" / "federation.key"), 0600u);
  Store c = Store::Init(tmp / "c", {.region = "zj"});
  EXPECT_NE(c.federation_key(), a.federation_key());
  EXPECT_THROW(
      Store::Init(tmp / "c", {.region = "zj", .federation_key_file = tmp / "a" / "federation.key"}),
      Error);
  // A key file of the wrong size is refused before anything is created.
  std::ofstream(tmp / "short.key") << "too short";
  EXPECT_THROW(Store::Init(tmp / "d", {.region = "ah", .federation_key_file = tmp / "short.key"}),
               Error);
  EXPECT_FALSE(fs::exists(tmp / "d" / "carehub.db"));
}

TEST(StoreTest, RegionsResolveByAliasOrCode) {
  EXPECT_EQ(ResolveRegion("mo"), "820000");
  EXPECT_EQ(ResolveRegion("310115"), "310115");
  EXPECT_FALSE(ResolveRegion("990000").has_value());
  EXPECT_FALSE(ResolveRegion("31000").has_value());
  EXPECT_FALSE(ResolveRegion("xx").has_value());
  TempDir tmp;
  EXPECT_THROW(Store::Init(tmp / "hub", {.region = "990000"}), Error);
}

TEST(StoreTest, OpenOfNonHubIsNotFound) {
  TempDir tmp;
  try {
    Store::Open(tmp.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
}

TEST(StoreTest, MigrationsAreOrderedAndRefuseNewerDatabases) {
  int expected = 1;
  for (const Migration& step : Migrations()) EXPECT_EQ(step.version, expected++);
  TempDir tmp;
  sqlite::Database db((tmp / "x.db").string());
  Migrate(db);
  Migrate(db);  // idempotent
  EXPECT_EQ(SchemaVersion(db), LatestSchemaVersion());
  db.Exec("PRAGMA user_version=" + std::to_string(LatestSchemaVersion() + 1));
  EXPECT_THROW(Migrate(db), Error);
}

TEST(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
  TempDir tmp;
  sqlite::Database db((tmp / "x.db").string());
  db.Exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
  sqlite::Statement insert(db, "INSERT INTO t(x) VALUES(?)");
  {
    sqlite::Transaction tx(db);
    insert.Bind(1, 1).Run();
  }
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), 0);
  {
    sqlite::Transaction tx(db);
    insert.Bind(1, 2).Run();
    tx.Commit();
  }
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), 1);
  try {
    insert.Bind(1, 2).Run();
    FAIL();
  } catch (const sqlite::SqliteError& e) {
    EXPECT_EQ(e.extended_code(), SQLITE_CONSTRAINT_PRIMARYKEY);
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  }
  // The statement is reusable after an error.
  insert.Reset();
  insert.Bind(1, 3).Run();
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), 2);
  EXPECT_THROW(sqlite::Statement(db, "SELEKT 1"), sqlite::SqliteError);
}

}  // namespace
}  // namespace carehub
