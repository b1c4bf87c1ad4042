#include "hub/store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "hub/store/ingest.h"
#include "hub/store/lookup_keys.h"
#include "hub/store/migrations.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/support/hub_test_records.h"
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

// A hub written before step 5 (TEXT record ids as the key, full tokens in record_persons) keeps
// every record and every person lookup after the upgrade to the compact keys.
TEST(StoreTest, MigrationToCompactLookupKeysKeepsRecordsAndPersonLookups) {
  TempDir tmp;
  const fs::path dir = tmp / "hub";
  Store::Init(dir, {.region = "sh"});
  fs::remove(dir / "carehub.db");
  std::vector<CanonicalRecord> records;
  {
    sqlite::Database db((dir / "carehub.db").string());
    sqlite::Transaction tx(db);
    for (const Migration& step : Migrations()) {
      if (step.version <= 4) db.Exec(step.sql);
    }
    db.Exec("PRAGMA user_version=4");
    db.Exec("INSERT INTO meta VALUES('region', '310000')");
    sqlite::Statement insert(db,
                             "INSERT INTO records(record_id, kind, origin, version, status, seq, "
                             "fingerprint, body) VALUES(?, 'assessment', '310000', 1, 'ACTIVE', "
                             "?, 0, ?)");
    sqlite::Statement person(db, "INSERT INTO record_persons(token, record_id) VALUES(?, ?)");
    // Each records row's change (the body is read from it since step 10); the hashes do not
    // matter here.
    sqlite::Statement change(db,
                             "INSERT INTO changes VALUES('310000', ?, ?, 1, 1, zeroblob(32), "
                             "zeroblob(32), zeroblob(32), ?)");
    for (int i = 1; i <= 3; ++i) {
      records.push_back(testing::TestAssessment(i));
      const CanonicalRecord& r = records.back();
      insert.Bind(1, r.record_id).Bind(2, i).BindBlob(3, EncodeSingleObject(r)).Run();
      change.Bind(1, i).Bind(2, r.record_id).BindBlob(3, EncodeSingleObject(r)).Run();
      const Hmac256 token = testing::TestToken(i);
      person.BindBlob(1, std::span<const std::uint8_t>(token)).Bind(2, r.record_id).Run();
    }
    tx.Commit();
  }
  Store store = Store::Open(dir);
  EXPECT_EQ(SchemaVersion(store.db()), LatestSchemaVersion());
  for (int i = 1; i <= 3; ++i) {
    const CanonicalRecord& r = records[static_cast<std::size_t>(i - 1)];
    const auto stored = store.RecordById(r.record_id);
    ASSERT_TRUE(stored.has_value()) << i;
    EXPECT_EQ(stored->seq, i);
    EXPECT_EQ(stored->body, EncodeSingleObject(r));
    const auto found = store.RecordsByToken(testing::TestToken(i));
    ASSERT_EQ(found.size(), 1U) << i;
    EXPECT_EQ(found[0].record_id, r.record_id);
  }
  EXPECT_FALSE(store.RecordById("no-such-record").has_value());
  EXPECT_TRUE(store.RecordsByToken(testing::TestToken(4)).empty());
  EXPECT_EQ(store.db().QueryInt("SELECT count(*) FROM record_persons"), 3);
}

// The person index keeps 8-byte keys only: a token sharing another's key is not a match.
TEST(StoreTest, PersonLookupChecksTheWholeToken) {
  TempDir tmp;
  Store store = Store::Init(tmp / "hub", {.region = "sh"});
  {
    IngestSink sink(store, "/data/a.csv", "sha-a", "shanghai/assessment", {.batch_size = 1});
    sink.Accept(testing::TestAssessment(7));
    sink.Finish();
  }
  ASSERT_EQ(store.RecordsByToken(testing::TestToken(7)).size(), 1U);
  Hmac256 same_key = testing::TestToken(7);
  same_key[31] ^= 0x01;
  EXPECT_EQ(TokenKey(same_key), TokenKey(testing::TestToken(7)));
  EXPECT_TRUE(store.RecordsByToken(same_key).empty());
}

// A database with one table t(x INTEGER PRIMARY KEY) and a prepared insert into it.
class SqliteDbTest : public ::testing::Test {
 protected:
  static sqlite::Database WithTable(const fs::path& path) {
    sqlite::Database db(path.string());
    db.Exec("CREATE TABLE t(x INTEGER PRIMARY KEY)");
    return db;
  }
  TempDir tmp;
  sqlite::Database db = WithTable(tmp / "x.db");
  sqlite::Statement insert{db, "INSERT INTO t(x) VALUES(?)"};
};

TEST_F(SqliteDbTest, ATransactionInsideAnotherIsASavepoint) {
  {
    sqlite::Transaction outer(db);
    insert.Bind(1, 1).Run();
    {
      sqlite::Transaction refused(db);
      insert.Bind(1, 2).Run();
    }  // rolled back alone
    {
      sqlite::Transaction kept(db);
      insert.Bind(1, 3).Run();
      kept.Commit();  // into the outer transaction
    }
    EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), 2);
    outer.Commit();
  }
  EXPECT_EQ(db.QueryInt("SELECT sum(x) FROM t"), 4);
  {
    sqlite::Transaction outer(db);
    {
      sqlite::Transaction inner(db);
      insert.Bind(1, 5).Run();
      inner.Commit();
    }
  }  // the outer rollback undoes the released savepoint too
  EXPECT_EQ(db.QueryInt("SELECT count(*) FROM t"), 2);
}

TEST_F(SqliteDbTest, TransactionRollsBackUnlessCommitted) {
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
