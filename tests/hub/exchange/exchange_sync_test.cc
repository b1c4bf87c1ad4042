// Exchange over real CURVE sockets on loopback (ephemeral ports), in-process hubs: A ingests,
// B pulls from A, C (which only dials B) gets A's records from B and verifies them with A's
// key; tampered bodies, forged head signatures and non-member keys are refused with the cursor
// unchanged; retractions travel; a running hub learns new records by NOTIFY.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "hub/exchange/exchange.h"
#include "hub/exchange/peers.h"
#include "hub/exchange/wire.h"
#include "hub/store/bulk_load.h"
#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/store.h"
#include "hub/store/verify.h"
#include "tests/support/exchange_harness.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/ipv6.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using testing::LogLines;
using testing::Server;
using testing::SyncUntilDigest;
using testing::TempDir;
using testing::TestAssessment;
using testing::WaitForDigest;

void Ingest(Store& store, int from, int to, const std::string& file = "/data/a.csv") {
  IngestSink sink(store, file, "sha-" + std::to_string(from) + "-" + std::to_string(to),
                  "shanghai/assessment", {.batch_size = 1000});
  for (int i = from; i < to; ++i) sink.Accept(TestAssessment(i, "310000", file, i - from + 1));
  sink.Finish();
}

// Records of origin 330000 (C's own region).
void IngestZhejiang(Store& store, int from, int to) {
  IngestSink sink(store, "/data/z.csv", "zj-" + std::to_string(from), "zhejiang/assessment",
                  {.batch_size = 1000});
  for (int i = from; i < to; ++i) sink.Accept(TestAssessment(i, "330000", "/data/z.csv", i + 1));
  sink.Finish();
}

Peer Member(Store& store, const std::string& name, std::optional<std::string> endpoint) {
  return {name, store.region(), store.keys().curve_public(), store.keys().sign_public(),
          std::move(endpoint)};
}

std::string Digest310(Store& store) {
  const auto digests = ComputeDigests(store, std::string("310000"));
  return digests.empty() ? "" : DigestLine(digests[0]);
}

std::int64_t HeldSeq(Store& store) {
  auto head = store.Head("310000");
  return head ? head->seq : 0;
}

class ExchangeSyncTest : public ::testing::Test {
 protected:
  ExchangeSyncTest()
      : a_(Store::Init(tmp_ / "a", {.region = "sh"})),
        b_(Store::Init(tmp_ / "b",
                       {.region = "js", .federation_key_file = tmp_ / "a" / "federation.key"})),
        c_(Store::Init(tmp_ / "c",
                       {.region = "zj", .federation_key_file = tmp_ / "a" / "federation.key"})) {}

  ExchangeOptions Options(bool listen = true) {
    ExchangeOptions options;
    if (listen) options.listen = "tcp://127.0.0.1:*";
    options.max_batch = 1000;
    options.peer_timeout = 1500ms;
    options.log = log_.Sink();
    return options;
  }

  // A admits B and serves (started); B dials A.
  void ServeAForB(std::optional<Server>& a) {
    AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
    a.emplace(tmp_ / "a", Options());
    AddPeer(b_.db(), Member(a_, "a", a->endpoint()), b_.region());
    a->Start();
  }

  TempDir tmp_;
  Store a_, b_, c_;
  LogLines log_;
};

TEST_F(ExchangeSyncTest, RelayCarriesVerifiedRecordsToAHubThatNeverSawTheOrigin) {
  Ingest(a_, 0, 3500);  // four signed heads: 1000, 2000, 3000, 3500
  // A admits B; B dials A and admits C; C dials only B but trusts A as an origin.
  std::optional<Server> a;
  ServeAForB(a);
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  {
    Exchange b(tmp_ / "b", Options(false));
    const SyncReport report = b.SyncOnce(30s);
    EXPECT_TRUE(report.caught_up);
    EXPECT_TRUE(report.problems.empty());
    ASSERT_EQ(report.origins.size(), 1u);
    EXPECT_EQ(report.origins[0].applied, 3500);
  }
  EXPECT_EQ(HeldSeq(b_), 3500);
  EXPECT_EQ(Digest310(b_), Digest310(a_));
  // B kept every signed head it received, so it can serve A's log in A's batches.
  EXPECT_EQ(b_.db().QueryInt("SELECT count(*) FROM signed_heads WHERE origin = '310000'"), 4);

  Server b(tmp_ / "b", Options());
  AddPeer(c_.db(), Member(b_, "b", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  b.Start();
  {
    Exchange c(tmp_ / "c", Options(false));
    const SyncReport report = c.SyncOnce(30s);
    EXPECT_TRUE(report.caught_up);
    EXPECT_TRUE(report.problems.empty());
  }
  EXPECT_EQ(Digest310(c_), Digest310(a_));
  EXPECT_EQ(VerifyStoredLog(c_.db(), "310000", a_.keys().sign_public()), std::nullopt);
  EXPECT_NE(Digest310(a_).find("records=3500"), std::string::npos);

  // A second sync is a no-op (exactly once).
  {
    Exchange c(tmp_ / "c", Options(false));
    const SyncReport report = c.SyncOnce(30s);
    EXPECT_TRUE(report.caught_up);
    EXPECT_TRUE(report.origins.empty());
  }

  // A retraction at the origin reaches C through B.
  const std::string id = TestAssessment(7).record_id;
  ASSERT_EQ(a_.Retract(id), 2);
  Exchange(tmp_ / "b", Options(false)).SyncOnce(30s);  // (b's server also pulls; either wins)
  {
    Exchange c(tmp_ / "c", Options(false));
    EXPECT_TRUE(c.SyncOnce(30s).caught_up);
  }
  EXPECT_EQ(c_.RecordById(id)->status, RecordStatus::kRetracted);
  EXPECT_EQ(Digest310(c_), Digest310(a_));
}

// The change rows of origin 310000 whose body is stored compressed: seq -> (dict, stored bytes).
std::map<std::int64_t, std::pair<std::int64_t, std::string>> StoredFrames(Store& store) {
  sqlite::Statement stmt(store.db(),
                         "SELECT seq, dict, body FROM changes WHERE origin = '310000' AND dict "
                         "IS NOT NULL ORDER BY seq");
  std::map<std::int64_t, std::pair<std::int64_t, std::string>> out;
  while (stmt.Step()) {
    out[stmt.ColumnInt64(0)] = {stmt.ColumnInt64(1), std::string(stmt.ColumnBlob(2))};
  }
  return out;
}

// Protocol version 6 (docs/PROTOCOL.md "Entries frame, version 6"): bodies travel as A stores
// them; B stores A's frames byte for byte under A's dictionary ids (and A's dictionary with
// them), and C, which pulls from B only, gets the same bytes again. Digests equal, C's log
// verifies with A's key.
TEST_F(ExchangeSyncTest, VersionSixRelaysTheOriginsStoredFramesByteForByte) {
  Ingest(a_, 0, 9000);  // the first 4096 bodies train the dictionary
  const auto at_a = StoredFrames(a_);
  ASSERT_GT(at_a.size(), 4000u);
  const std::int64_t dict = at_a.begin()->second.first;
  std::optional<Server> a;
  ServeAForB(a);
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  {
    Exchange b(tmp_ / "b", Options(false));
    EXPECT_TRUE(b.SyncOnce(30s).caught_up);
  }
  Server b(tmp_ / "b", Options());
  AddPeer(c_.db(), Member(b_, "b", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  b.Start();
  {
    Exchange c(tmp_ / "c", Options(false));
    EXPECT_TRUE(c.SyncOnce(30s).caught_up);
  }
  for (Store* relay : {&b_, &c_}) {
    const auto got = StoredFrames(*relay);
    int differ = 0;
    for (const auto& [seq, frame] : at_a) {
      const auto it = got.find(seq);
      if (it == got.end() || it->second != frame) ++differ;
    }
    EXPECT_EQ(differ, 0) << relay->region();
    EXPECT_EQ(relay->db().QueryInt("SELECT count(*) FROM body_dictionaries WHERE id = " +
                                   std::to_string(dict)),
              1);
  }
  EXPECT_EQ(Digest310(b_), Digest310(a_));
  EXPECT_EQ(Digest310(c_), Digest310(a_));
  EXPECT_EQ(VerifyStoredLog(c_.db(), "310000", a_.keys().sign_public()), std::nullopt);
  EXPECT_TRUE(VerifyStore(c_).sound());
}

// An ingest batch can hold the store's write lock longer than busy_timeout (5 s): the relayed
// batch is then not applied, not counted as rejected, and pulled again once the lock is free.
TEST_F(ExchangeSyncTest, ABusyStoreDefersTheBatchAndTheSyncStillCompletes) {
  Ingest(a_, 0, 1500);
  std::optional<Server> a;
  ServeAForB(a);
  b_.db().Exec("BEGIN IMMEDIATE");  // another writer on B, as a long ingest batch would be
  std::thread release([this] {
    std::this_thread::sleep_for(6500ms);
    b_.db().Exec("COMMIT");
  });
  {
    Exchange b(tmp_ / "b", Options(false));
    const SyncReport report = b.SyncOnce(60s);
    release.join();
    EXPECT_TRUE(report.caught_up);
    EXPECT_TRUE(report.problems.empty());
    EXPECT_GE(b.stats().batches_deferred, 1);
    EXPECT_EQ(b.stats().batches_rejected, 0);
  }
  EXPECT_TRUE(log_.Contains("store busy"));
  EXPECT_EQ(HeldSeq(b_), 1500);
  EXPECT_EQ(Digest310(b_), Digest310(a_));
}

// Issue 16: with no client to notify (sync --once listens for nobody), a catch-up's group of
// relayed batches stays open across batches (fewer commits than batches), and it never keeps a
// writer that waits for the lock waiting: while one is announced (carehub.db-writers touched,
// as carehub's busy handler does), no group is begun and the batches are deferred; the sync
// completes once the writer is gone.
TEST_F(ExchangeSyncTest, WithNoClientAGroupSpansBatchesAndAWaitingWriterIsLetFirst) {
  Ingest(a_, 0, 3500);  // signed heads at 1000, 2000, 3000, 3500
  std::optional<Server> a;
  ServeAForB(a);
  const std::string writers = (tmp_ / "b" / "carehub.db-writers").string();
  std::thread waiter([&writers] {
    const auto until = std::chrono::steady_clock::now() + 2500ms;
    while (std::chrono::steady_clock::now() < until) {
      const int fd = ::open(writers.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) {
        ::futimens(fd, nullptr);
        ::close(fd);
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  ExchangeStats stats;
  {
    // Pulls of 2500: batches 1..2000 and 2001..3500 (each ends at a signed head); the group
    // target is the pull size, so the first batch alone does not fill a group.
    ExchangeOptions options = Options(false);
    options.max_batch = 2500;
    Exchange b(tmp_ / "b", options);
    const SyncReport report = b.SyncOnce(60s);
    stats = b.stats();
    EXPECT_TRUE(report.caught_up);
    EXPECT_TRUE(report.problems.empty());
  }
  waiter.join();
  EXPECT_GE(stats.batches_deferred, 1) << "a batch was applied while a writer waited";
  EXPECT_GE(stats.batches_applied, 2);
  EXPECT_LT(stats.groups_committed, stats.batches_applied) << "every batch committed alone";
  EXPECT_EQ(HeldSeq(b_), 3500);
  EXPECT_EQ(Digest310(b_), Digest310(a_));
}

TEST_F(ExchangeSyncTest, HubsExchangeOverIpv6) {
  Ingest(a_, 0, 1200);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  if (!testing::HasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  ExchangeOptions options = Options();
  options.listen = "tcp://[::1]:*";
  Server a(tmp_ / "a", options);
  ASSERT_NE(a.endpoint().find("[::1]"), std::string::npos) << a.endpoint();
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  a.Start();
  Exchange b(tmp_ / "b", Options(false));
  const SyncReport report = b.SyncOnce(30s);
  EXPECT_TRUE(report.caught_up);
  EXPECT_TRUE(report.problems.empty());
  EXPECT_EQ(Digest310(b_), Digest310(a_));
}

TEST_F(ExchangeSyncTest, TamperedBodyAndForgedSignatureAreRejectedWithTheCursorUnchanged) {
  Ingest(a_, 0, 2000);
  std::optional<Server> a;
  ServeAForB(a);
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  a->Stop();

  // One byte of a relayed body (seq 1500, second batch) altered on B, a relay that does not
  // check what it serves (as a damaged or malicious one would not).
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 1500");
  ExchangeOptions unchecked = Options();
  unchecked.check_served = false;
  unchecked.verify_rows = 0;
  Server b(tmp_ / "b", unchecked);
  AddPeer(c_.db(), Member(b_, "b", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  b.Start();
  {
    Exchange c(tmp_ / "c", Options(false));
    const SyncReport report = c.SyncOnce(10s);
    ASSERT_FALSE(report.problems.empty());
    EXPECT_NE(report.problems[0].find("from peer b"), std::string::npos);
  }
  EXPECT_EQ(HeldSeq(c_), 1000);  // the first batch was sound, the second refused whole
  EXPECT_EQ(c_.db().QueryInt("SELECT count(*) FROM changes"), 1000);
  EXPECT_EQ(c_.db().QueryInt("SELECT count(*) FROM records"), 1000);
  EXPECT_TRUE(log_.Contains("rejected batch of origin 310000 (seq 1001..2000) from peer b"));

  // A forged signature on the head B presents for the first batch: nothing is applied.
  TempDir other;
  Store d = Store::Init(other / "d",
                        {.region = "ah", .federation_key_file = tmp_ / "a" / "federation.key"});
  b_.db().Exec(
      "UPDATE signed_heads SET signature = zeroblob(64) WHERE origin = '310000' AND seq = 1000");
  b.Stop();
  AddPeer(b_.db(), Member(d, "d", std::nullopt), b_.region());
  Server b2(tmp_ / "b", unchecked);
  AddPeer(d.db(), Member(b_, "b", b2.endpoint()), d.region());
  AddPeer(d.db(), Member(a_, "a", std::nullopt), d.region());
  b2.Start();
  {
    Exchange dx(other / "d", Options(false));
    const SyncReport report = dx.SyncOnce(10s);
    EXPECT_FALSE(report.problems.empty());
  }
  EXPECT_EQ(HeldSeq(d), 0);
  EXPECT_EQ(d.db().QueryInt("SELECT count(*) FROM changes"), 0);
  EXPECT_TRUE(log_.Contains("from peer b: "));
}

TEST_F(ExchangeSyncTest, AHubWhoseCurveKeyIsNotAMemberIsRefused) {
  Ingest(a_, 0, 1000);
  Server a(tmp_ / "a", Options());  // A knows nobody
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  a.Start();
  ExchangeOptions options = Options(false);
  options.peer_timeout = 1000ms;
  {
    Exchange b(tmp_ / "b", options);
    const SyncReport report = b.SyncOnce(2500ms);
    EXPECT_FALSE(report.problems.empty());
  }
  a.Stop();
  EXPECT_GT(a.exchange().stats().connections_denied, 0);
  EXPECT_TRUE(log_.Contains("is not a federation member"));
  EXPECT_EQ(HeldSeq(b_), 0);
}

TEST_F(ExchangeSyncTest, ARunningHubPullsNewRecordsOnNotify) {
  Ingest(a_, 0, 1000);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  Server a(tmp_ / "a", Options());
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  Server b(tmp_ / "b", Options());
  a.Start();
  b.Start();
  auto wait_for = [&](std::int64_t seq, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (HeldSeq(b_) >= seq) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  ASSERT_TRUE(wait_for(1000, 10s));
  // B is idle and its fallback refresh is 10 s away: only a NOTIFY brings this within ~1 s.
  const auto start = std::chrono::steady_clock::now();
  Ingest(a_, 1000, 1010, "/data/b.csv");
  EXPECT_TRUE(wait_for(1010, 3s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(Digest310(b_), Digest310(a_));
  a.Stop();
  EXPECT_GT(a.exchange().stats().notifies_sent, 0);
}

// Issue 17: a relay whose copy of the origin's log is damaged (one byte of a relayed change
// body) notices when it reads the batch for serving to a client of protocol version 6 or older
// (for version 7: ExchangeRefusedTest), answers ERROR instead of the bad batch,
// fetches the damaged range again from the origin (proven from the entry below it, rewritten in
// place), and the hub behind it converges to the origin's digest.
TEST_F(ExchangeSyncTest, ADamagedRelayDetectsRepairsFromTheOriginAndTheHubBehindConverges) {
  Ingest(a_, 0, 3500);
  std::optional<Server> a;
  ServeAForB(a);
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 1500");
  ASSERT_NE(Digest310(b_), Digest310(a_));  // the log part of the digest

  ExchangeOptions relay = Options();
  relay.verify_rows = 0;  // only the check of served batches here
  Server b(tmp_ / "b", relay);
  AddPeer(c_.db(), Member(b_, "b", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  b.Start();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> problems;
  {
    // A version-6 client: B checks every batch in full before sending it (a version-7 client is
    // sent it unchecked, refuses it and says so: ExchangeRefusedTest).
    ExchangeOptions version6 = Options(false);
    version6.protocol_version = 6;
    Exchange c(tmp_ / "c", version6);
    while (Digest310(c_) != Digest310(a_) && std::chrono::steady_clock::now() - start < 40s) {
      const SyncReport report = c.SyncOnce(2s);
      problems.insert(problems.end(), report.problems.begin(), report.problems.end());
    }
  }
  const double healed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "relay repaired and C converged " << healed << " s after C started\n";
  EXPECT_EQ(Digest310(c_), Digest310(a_));
  EXPECT_EQ(Digest310(b_), Digest310(a_));
  EXPECT_TRUE(VerifyStore(b_).sound());
  EXPECT_TRUE(log_.Contains("store check (a batch read for serving"));
  EXPECT_TRUE(log_.Contains("repair: origin 310000 seq 1500..")) << "proven and rewritten";
  b.Stop();
  EXPECT_GE(b.exchange().StoreCheck().repairs, 1);
}

// A first ingest's bulk load (another process) drops the record indexes until its end; the
// background check's lookups by id would each scan `records` on the exchange loop. It waits
// (no pass ends while they are missing) and goes on once they are back.
TEST_F(ExchangeSyncTest, TheBackgroundCheckWaitsWhileABulkLoadHasTheRecordIndexesDropped) {
  Ingest(a_, 0, 2000);
  ExchangeOptions checking = Options();
  checking.verify_rows = 500;
  checking.verify_interval = 20ms;
  Server a(tmp_ / "a", checking);
  a.Start();
  const auto passes = [&] { return a.exchange().StoreCheck().passes; };
  const auto wait_for = [](const std::function<bool()>& done) {
    for (int i = 0; i < 600 && !done(); ++i) std::this_thread::sleep_for(50ms);
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return passes() >= 1; })) << "no pass with the indexes present";

  a_.db().Exec("DROP INDEX records_key; DROP INDEX records_kind_origin");
  ASSERT_TRUE(wait_for([&] { return log_.Contains("store check: paused"); }));
  const std::int64_t paused_at = passes();
  std::this_thread::sleep_for(1s);  // 50 steps of 500 rows: several passes over 2000 records
  EXPECT_EQ(passes(), paused_at) << "the check went on without the indexes";

  BuildRecordIndexes(a_.db());
  EXPECT_TRUE(wait_for([&] { return passes() > paused_at; })) << "the check did not resume";
  EXPECT_TRUE(log_.Contains("store check: resumed"));
  EXPECT_TRUE(a.exchange().StoreCheck().sound);
}

// Found by bench/soak.sh: damage that the background check found within a minute of an earlier
// repair of the same origin waited out that minute (a limit meant for serving, where every PULL
// of a damaged origin would trigger a repair). New damage is repaired by the next pass. The
// bound of 40 s is generous (each repair took 7-8 s here with ASan at load 14) and still below
// the minute the second repair waited before.
TEST_F(ExchangeSyncTest, TheBackgroundCheckRepairsNewDamageSoonAfterAnEarlierRepair) {
  Ingest(a_, 0, 3500);
  std::optional<Server> a;
  ServeAForB(a);
  const std::string origin = Digest310(a_);
  ASSERT_TRUE(SyncUntilDigest(
      tmp_ / "b", Options(false), [&] { return Digest310(b_); }, origin));

  ExchangeOptions checking = Options(false);
  checking.verify_rows = 1000;
  checking.verify_interval = 20ms;
  Server b(tmp_ / "b", checking);
  b.Start();
  const auto damage_and_wait = [&](int seq) {
    b_.db().Exec(
        "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
        "WHERE origin = '310000' AND seq = " +
        std::to_string(seq));
    EXPECT_NE(Digest310(b_), origin);
    const auto start = std::chrono::steady_clock::now();
    WaitForDigest([&] { return Digest310(b_); }, origin, 40s);
    std::cerr << "[ measured ] damage at seq " << seq << " repaired after "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
              << " s\n";
    return Digest310(b_) == origin;
  };
  EXPECT_TRUE(damage_and_wait(1500)) << "the first damage was not repaired";
  EXPECT_TRUE(damage_and_wait(2500)) << "new damage after a repair waited for the minute";
  b.Stop();
  EXPECT_GE(b.exchange().StoreCheck().repairs, 2);
  EXPECT_TRUE(VerifyStore(b_).sound());
}

// Issue 17 with compressed bodies at rest (docs/STORE.md step 12): a relay stores a schema's
// first 4095 relayed bodies raw and compresses the rest with the dictionary it trained, so with
// 6000 entries the damaged body (seq 5500) is a compressed one: the zstd frame's checksum fails
// on every read. The relay's background check finds it, cuts the log back, pulls it again
// (compressed again) and a hub behind the relay converges to the origin's digest.
TEST_F(ExchangeSyncTest, ADamagedCompressedChangeBodyOfARelayIsDetectedAndRepaired) {
  Ingest(a_, 0, 6000);
  std::optional<Server> a;
  ServeAForB(a);
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  const std::string origin = Digest310(a_);
  ASSERT_TRUE(SyncUntilDigest(
      tmp_ / "b", Options(false), [&] { return Digest310(b_); }, origin));
  const auto compressed = [&](int seq) {
    return b_.db().QueryInt(
               "SELECT dict IS NOT NULL FROM changes WHERE origin = '310000' "
               "AND seq = " +
               std::to_string(seq)) == 1;
  };
  ASSERT_FALSE(compressed(1000));  // a relay's first bodies of a schema stay raw
  ASSERT_TRUE(compressed(5500));
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 5500");
  // A digest reads every body: the damaged frame fails it, naming the entry.
  const auto digest_b = [&]() -> std::string {
    try {
      return Digest310(b_);
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  EXPECT_NE(digest_b().find("seq=5500"), std::string::npos) << digest_b();
  const VerifyReport damaged = VerifyStore(b_);
  ASSERT_FALSE(damaged.sound());
  EXPECT_TRUE(std::any_of(damaged.problems.begin(), damaged.problems.end(), [](const auto& p) {
    return p.seq == 5500 && p.detail.find("does not decompress") != std::string::npos;
  }));

  ExchangeOptions relay = Options();
  relay.verify_rows = 1000;
  relay.verify_interval = 20ms;
  relay.check_served = false;  // only the background check finds it here
  Server b(tmp_ / "b", relay);
  AddPeer(c_.db(), Member(b_, "b", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  b.Start();
  WaitForDigest(digest_b, origin, 60s);
  EXPECT_EQ(digest_b(), origin);
  EXPECT_TRUE(compressed(5500)) << "the body pulled again is stored compressed again";
  EXPECT_TRUE(log_.Contains("store check"));
  EXPECT_TRUE(SyncUntilDigest(
      tmp_ / "c", Options(false), [&] { return Digest310(c_); }, origin));
  b.Stop();
  EXPECT_GE(b.exchange().StoreCheck().repairs, 1);
  EXPECT_TRUE(VerifyStore(b_).sound());
}

// Issue 17: the background check acts on damage as soon as a slice finds it, not at the end of
// its pass. A slow check (100 rows every 200 ms: a pass over 6000 entries and 6000 records
// takes at least 24 s) finds damage at seq 50 in its first slices and the relay repairs it
// while that first pass is still far from its end (before: only once the pass had ended).
TEST_F(ExchangeSyncTest, TheBackgroundCheckActsOnDamageBeforeItsPassEnds) {
  Ingest(a_, 0, 6000);
  std::optional<Server> a;
  ServeAForB(a);
  const std::string origin = Digest310(a_);
  ASSERT_TRUE(SyncUntilDigest(
      tmp_ / "b", Options(false), [&] { return Digest310(b_); }, origin));
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 50");
  ExchangeOptions slow = Options(false);
  slow.verify_rows = 100;
  slow.verify_interval = 200ms;
  slow.check_served = false;
  Server b(tmp_ / "b", slow);
  b.Start();
  const auto start = std::chrono::steady_clock::now();
  while (b.exchange().StoreCheck().repairs < 1 && std::chrono::steady_clock::now() - start < 20s) {
    std::this_thread::sleep_for(50ms);
  }
  const StoreCheckState at_repair = b.exchange().StoreCheck();
  EXPECT_GE(at_repair.repairs, 1) << "not repaired within 20 s";
  EXPECT_EQ(at_repair.passes, 0) << "the repair waited for the end of the pass";
  while (Digest310(b_) != origin && std::chrono::steady_clock::now() - start < 60s) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(Digest310(b_), origin);
}

// Issue 17: a relay that pulled the origin's whole log in ONE batch holds a signed head only at
// its end, so cutting back below damage at seq 2500 meant seq 0: every entry and record dropped
// and pulled again. Now the relay pulls 2500..3000 from a member (after_seq 2499, up to the
// origin's nearest signed head), proves it from
// its own stored entry hash at 2499 (the batch chains from there to a head the origin signed,
// so entries 1..2499, which recompute to that hash, are the origin's) and rewrites the one
// damaged entry in place: nothing is cut, the records stay.
TEST_F(ExchangeSyncTest, ARelayProvesAndRewritesADamagedRangeInsteadOfCuttingItsLog) {
  Ingest(a_, 0, 3500);  // the origin signs 1000, 2000, 3000, 3500
  std::optional<Server> a;
  ServeAForB(a);
  const std::string origin = Digest310(a_);
  ExchangeOptions one_batch = Options(false);
  one_batch.max_batch = 20000;
  ASSERT_TRUE(SyncUntilDigest(
      tmp_ / "b", one_batch, [&] { return Digest310(b_); }, origin));
  ASSERT_EQ(b_.db().QueryInt("SELECT count(*) FROM signed_heads WHERE origin = '310000'"), 1);
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 2500");
  ASSERT_NE(Digest310(b_), origin);
  // Rows of the relay that a cut would have deleted and written again keep their rowids.
  const auto first_rowid =
      b_.db().QueryInt("SELECT min(rowid) FROM records WHERE origin = '310000'");

  ExchangeOptions checking = Options(false);
  checking.verify_rows = 1000;
  checking.verify_interval = 20ms;
  Server b(tmp_ / "b", checking);
  b.Start();
  WaitForDigest([&] { return Digest310(b_); }, origin, 60s);
  b.Stop();
  EXPECT_EQ(Digest310(b_), origin);
  EXPECT_TRUE(VerifyStore(b_).sound());
  // The origin's nearest signed head at or after 2500 is 3000: 501 entries fetched.
  EXPECT_TRUE(
      log_.Contains("repair: origin 310000 seq 2500..3000 proven from seq 2499 and 1 "
                    "entry rewritten from peer a's copy; nothing cut"));
  EXPECT_FALSE(log_.Contains("cut back")) << "the log was cut";
  EXPECT_EQ(b_.db().QueryInt("SELECT min(rowid) FROM records WHERE origin = '310000'"),
            first_rowid);
}

// Issue 17: a damaged body in a hub's OWN log (the only copy it has) is not cut like another
// origin's: B holds a copy, so A's serve finds the damage (its background check), pulls the
// damaged range from B, proves it against A's own signed heads and rewrites it in place. A second
// damage is repaired by RepairOwnLog (what `carehub verify --repair` runs) without serve.
TEST_F(ExchangeSyncTest, ADamagedOwnLogIsFetchedBackFromAMemberThatHoldsACopy) {
  Ingest(a_, 0, 3500);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  {
    Server a(tmp_ / "a", Options());
    AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
    a.Start();
    ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  }
  const std::string before = Digest310(a_);
  ASSERT_EQ(Digest310(b_), before);
  const auto damage = [&](int seq) {
    a_.db().Exec(
        "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
        "WHERE origin = '310000' AND seq = " +
        std::to_string(seq));
  };
  damage(1500);
  ASSERT_NE(Digest310(a_), before);
  ASSERT_FALSE(VerifyStore(a_).sound());

  Server b(tmp_ / "b", Options());
  b.Start();
  RemovePeer(a_.db(), "b");
  AddPeer(a_.db(), Member(b_, "b", b.endpoint()), a_.region());
  {
    ExchangeOptions checking = Options();
    checking.verify_rows = 1000;
    checking.verify_interval = 20ms;
    Server a(tmp_ / "a", checking);
    a.Start();
    WaitForDigest([&] { return Digest310(a_); }, before, 30s);
    a.Stop();
    EXPECT_GE(a.exchange().StoreCheck().repairs, 1);
  }
  EXPECT_EQ(Digest310(a_), before);
  EXPECT_TRUE(VerifyStore(a_).sound());
  EXPECT_TRUE(log_.Contains("rewritten from peer b's copy")) << "no own-log repair logged";

  damage(2700);
  ASSERT_FALSE(VerifyStore(a_).sound());
  ExchangeOptions fetch_only = Options(false);
  fetch_only.pull = false;
  EXPECT_TRUE(Exchange(tmp_ / "a", fetch_only).RepairOwnLog(30s));
  EXPECT_EQ(Digest310(a_), before);
  EXPECT_TRUE(VerifyStore(a_).sound());
}

// Issue 17: `carehub verify --repair` of a damaged own log fails fast, naming why, when no member
// can help — none has an endpoint, none answers (a refused dial), none that answers holds the
// range — instead of waiting its whole timeout (600 s here: a hang would fail the ctest timeout).
TEST_F(ExchangeSyncTest, OwnLogRepairFailsFastWhenNoMemberCanHelp) {
  Ingest(a_, 0, 300);
  a_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 150");
  ASSERT_FALSE(VerifyStore(a_).sound());
  ExchangeOptions fetch_only = Options(false);
  fetch_only.pull = false;
  const auto repair = [&] {
    std::string why;
    EXPECT_FALSE(Exchange(tmp_ / "a", fetch_only).RepairOwnLog(600s, &why));
    return why;
  };
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  EXPECT_NE(repair().find("no member has an endpoint"), std::string::npos);

  std::string closed;  // a loopback port nobody listens on: every dial is refused
  {
    zmq::context_t context;
    zmq::socket_t probe(context, zmq::socket_type::router);
    probe.bind("tcp://127.0.0.1:*");
    closed = probe.get(zmq::sockopt::last_endpoint);
  }
  RemovePeer(a_.db(), "b");
  AddPeer(a_.db(), Member(b_, "b", closed), a_.region());
  std::string why = repair();
  EXPECT_NE(why.find("no member that answers holds"), std::string::npos) << why;

  Server b(tmp_ / "b", Options());  // answers, but never pulled A's log
  b.Start();
  RemovePeer(a_.db(), "b");
  AddPeer(a_.db(), Member(b_, "b", b.endpoint()), a_.region());
  why = repair();
  EXPECT_NE(why.find("no member that answers holds this hub's log beyond seq"), std::string::npos)
      << why;
  EXPECT_FALSE(VerifyStore(a_).sound());  // nothing was cut or rewritten
}

// The background check of a serving hub finds a records row changed underneath it (no batch is
// ever read for it; here it points at the next record's change, so it reads that body) and
// rewrites it from the change log, within a few passes' time.
TEST_F(ExchangeSyncTest, TheBackgroundCheckFindsAndRepairsADamagedRecord) {
  Ingest(a_, 0, 1200);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  ExchangeOptions checking = Options();
  checking.verify_rows = 500;
  checking.verify_interval = 20ms;
  const std::string before = Digest310(a_);
  a_.db().Exec("UPDATE records SET seq = seq + 1 WHERE rowid = 77");
  ASSERT_NE(Digest310(a_), before);
  Server a(tmp_ / "a", checking);
  a.Start();
  WaitForDigest([&] { return Digest310(a_); }, before, 20s);
  EXPECT_EQ(Digest310(a_), before);
  // The check goes on after the repair (which may come before the first pass ends).
  for (int i = 0; i < 200 && a.exchange().StoreCheck().passes < 1; ++i) {
    std::this_thread::sleep_for(50ms);
  }
  a.Stop();
  const StoreCheckState check = a.exchange().StoreCheck();
  EXPECT_GE(check.passes, 1);
  EXPECT_EQ(check.repairs, 1);
  EXPECT_TRUE(log_.Contains("record(s) rewritten from the log"));
}

// Issue 16 (session 12): the background check yields to serving, at a bounded pace. A member
// pulls A's log without pause (100 entries a PULL, over and over): A's check takes at most one
// slice per verify_busy_interval (400 ms instead of every 20 ms), and still reaches and
// repairs a damaged records row while the pulling goes on (one pass of 1200 entries and 1200
// records is 5 slices of 500 rows: ~2 s at the busy pace; 30 s is the bound under load).
TEST_F(ExchangeSyncTest, TheBackgroundCheckYieldsToServingButStillRepairsWhileServing) {
  Ingest(a_, 0, 1200);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  ExchangeOptions checking = Options();
  checking.verify_rows = 500;
  checking.verify_interval = 20ms;
  checking.verify_busy_interval = 400ms;
  const std::string before = Digest310(a_);
  a_.db().Exec("UPDATE records SET seq = seq + 1 WHERE rowid = 1100");
  ASSERT_NE(Digest310(a_), before);
  Server a(tmp_ / "a", checking);
  a.Start();

  zmq::context_t context;
  zmq::socket_t member(context, zmq::socket_type::dealer);
  member.set(zmq::sockopt::curve_serverkey, a_.keys().curve_public());
  member.set(zmq::sockopt::curve_publickey, b_.keys().curve_public());
  member.set(zmq::sockopt::curve_secretkey, b_.keys().curve_secret());
  member.set(zmq::sockopt::rcvtimeo, 10000);
  member.set(zmq::sockopt::linger, 0);
  member.connect(a.endpoint());
  std::int64_t after = 0;
  // One PULL, answered by a BATCH with entries; A's log over and over (signed heads 1000, 1200).
  const auto pull_once = [&] {
    const wire::Frames frames = wire::Encode(wire::Pull{a_.region(), after, 100});
    for (std::size_t i = 0; i < frames.size(); ++i) {
      member.send(zmq::buffer(frames[i]),
                  i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    wire::Frames got;
    do {
      zmq::message_t part;
      if (!member.recv(part)) return false;
      got.push_back(part.to_string());
    } while (member.get(zmq::sockopt::rcvmore));
    const wire::Message message = wire::Decode(got);
    if (!std::holds_alternative<wire::Batch>(message)) return false;
    const wire::Batch& batch = std::get<wire::Batch>(message);
    if (batch.entries.empty()) return false;
    after = batch.head.seq < 1100 ? batch.head.seq : 0;
    return true;
  };
  ASSERT_TRUE(pull_once()) << "A does not serve";
  const auto start = std::chrono::steady_clock::now();
  const StoreCheckState at_start = a.exchange().StoreCheck();
  std::chrono::duration<double> longest_gap{0};
  int batches = 0;
  while (Digest310(a_) != before && std::chrono::steady_clock::now() - start < 30s) {
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_TRUE(pull_once()) << "A stopped serving";
    longest_gap = std::max<std::chrono::duration<double>>(longest_gap,
                                                          std::chrono::steady_clock::now() - sent);
    ++batches;
  }
  const double served =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StoreCheckState at_end = a.exchange().StoreCheck();
  std::cerr << "[ measured ] repaired after " << served << " s of serving (" << batches
            << " batches, longest " << longest_gap.count() << " s), slices "
            << at_end.slices - at_start.slices << " ("
            << at_end.slices_while_busy - at_start.slices_while_busy << " at the busy pace)\n";
  EXPECT_EQ(Digest310(a_), before) << "not repaired within 30 s of serving";
  EXPECT_GE(at_end.repairs, 1);
  // Each slice at the busy pace comes 400 ms or more after the one before it.
  const std::int64_t bound = static_cast<std::int64_t>(served / 0.4) + 1;
  EXPECT_LE(at_end.slices_while_busy - at_start.slices_while_busy, bound);
  EXPECT_GE(at_end.slices_while_busy - at_start.slices_while_busy, 1);
  // Served without a pause of 400 ms: every slice was taken at the busy pace (at full pace
  // it would be one every 20 ms).
  if (longest_gap < 400ms) {
    EXPECT_LE(at_end.slices - at_start.slices, bound);
  }
  a.Stop();
}

// Issue 16 (session 12): the background check also yields while the hub applies batches (its
// own catch-up competes with its writer): B serves, pulls A's 6000 entries in batches of 200
// (30 batches), and its check, at full pace one slice every 20 ms, takes its slices at the busy
// pace while the batches are written, and at full pace again once B has caught up.
TEST_F(ExchangeSyncTest, TheBackgroundCheckYieldsWhileTheHubAppliesBatches) {
  Ingest(a_, 0, 6000);
  std::optional<Server> a;
  ServeAForB(a);
  const std::string origin = Digest310(a_);
  ExchangeOptions pulling = Options();
  pulling.max_batch = 200;
  pulling.verify_rows = 100;
  pulling.verify_interval = 20ms;
  pulling.verify_busy_interval = 300ms;
  Server b(tmp_ / "b", pulling);
  b.Start();
  EXPECT_TRUE(WaitForDigest([&] { return Digest310(b_); }, origin, 60s));
  const StoreCheckState caught_up = b.exchange().StoreCheck();
  EXPECT_GE(caught_up.slices_while_busy, 1) << "no slice at the busy pace while applying";
  // Idle again: full pace (a slice every 20 ms; 2 s is 100 of them, 10 is a bound for load).
  std::this_thread::sleep_for(2s);
  const StoreCheckState idle = b.exchange().StoreCheck();
  std::cerr << "[ measured ] slices while catching up " << caught_up.slices << " ("
            << caught_up.slices_while_busy << " at the busy pace), 2 s later " << idle.slices
            << " (" << idle.slices_while_busy << ")\n";
  EXPECT_GE(idle.slices - caught_up.slices, 10) << "the check stayed at the busy pace";
  b.Stop();
}

// Issue 17: a member serving a damaged copy (its own check of served batches off) is refused
// and reported by name; the puller takes the origin from another member that holds it.
TEST_F(ExchangeSyncTest, APullerRefusedABadBatchPullsFromAnotherMemberAndReportsTheBadOne) {
  Ingest(a_, 0, 3500);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  AddPeer(a_.db(), Member(c_, "c", std::nullopt), a_.region());
  Server a(tmp_ / "a", Options());
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  a.Start();
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  b_.db().Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = 1500");
  ExchangeOptions bad = Options();
  bad.verify_rows = 0;
  bad.check_served = false;  // serves its damaged copy as it is
  Server b(tmp_ / "b", bad);
  b.Start();
  // C first knows only the bad relay as a source of 310000.
  AddPeer(c_.db(), Member(b_, "relay", b.endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "origin", std::nullopt), c_.region());
  const SyncReport first = Exchange(tmp_ / "c", Options(false)).SyncOnce(4s);
  EXPECT_LT(HeldSeq(c_), 1500);
  EXPECT_TRUE(std::any_of(first.problems.begin(), first.problems.end(), [](const auto& line) {
    return line.find("from peer relay") != std::string::npos;
  })) << "the bad member is reported by name";
  // Now the origin is dialled too: whichever member C asks first, it ends with A's log.
  RemovePeer(c_.db(), "origin");
  AddPeer(c_.db(), Member(a_, "origin", a.endpoint()), c_.region());
  {
    Exchange c(tmp_ / "c", Options(false));
    for (int round = 0; round < 10 && Digest310(c_) != Digest310(a_); ++round) c.SyncOnce(3s);
  }
  EXPECT_EQ(Digest310(c_), Digest310(a_));
  EXPECT_GE(HeldSeq(c_), 3500);
}

// Issue 17: another writer holds the hub's store (as a long ingest transaction does) for longer
// than any busy timeout. The hub still answers heartbeats and serves pulls; the batch it wants
// to apply meanwhile is deferred instead of waited for, and applied once the lock is released.
TEST_F(ExchangeSyncTest, AHubWhoseStoreIsWriteLockedStillAnswersHeartbeatsAndServesPulls) {
  Ingest(a_, 0, 3500);
  IngestZhejiang(c_, 0, 500);
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  Server c(tmp_ / "c", Options());
  c.Start();
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  AddPeer(a_.db(), Member(c_, "c", c.endpoint()), a_.region());  // A pulls C's records
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  Server a(tmp_ / "a", Options());
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  a_.db().Exec("BEGIN IMMEDIATE");  // the write lock, held until the end of B's sync
  a.Start();
  const SyncReport report = Exchange(tmp_ / "b", Options(false)).SyncOnce(60s);
  EXPECT_TRUE(report.caught_up);
  EXPECT_EQ(HeldSeq(b_), 3500);
  EXPECT_FALSE(log_.Contains("peer a is silent")) << "B's link to the busy hub never went quiet";
  EXPECT_FALSE(a_.Head("330000").has_value());  // A could not write meanwhile
  a_.db().Exec("ROLLBACK");
  for (int i = 0; i < 300 && !a_.Head("330000"); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(a_.Head("330000").has_value());
  EXPECT_EQ(a_.Head("330000")->seq, 500);
  a.Stop();
  EXPECT_GE(a.exchange().stats().batches_deferred, 1);
}

// Issue 17: a hub catching up large batches keeps answering its own client. B catches up 40,000
// entries of A in 20,000-entry batches (each checked and its bodies decoded on B's loop before
// the writer gets it) while C pulls A's origin from B with the real timers (PING every 500 ms,
// a link silent for 2 s is closed): C never finds B silent, and B's loop accounts for its steps.
TEST_F(ExchangeSyncTest, AHubCatchingUpLargeBatchesKeepsAnsweringItsClientsHeartbeats) {
  Ingest(a_, 0, 40000);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  Server a(tmp_ / "a", Options());
  a.Start();
  ExchangeOptions large = Options();
  large.max_batch = 20000;
  large.peer_timeout = ExchangeOptions{}.peer_timeout;
  AddPeer(b_.db(), Member(a_, "a", a.endpoint()), b_.region());
  AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
  std::optional<Server> b(std::in_place, tmp_ / "b", large);
  b->Start();
  AddPeer(c_.db(), Member(b_, "b", b->endpoint()), c_.region());
  AddPeer(c_.db(), Member(a_, "a", std::nullopt), c_.region());
  ExchangeOptions real = Options(false);
  real.peer_timeout = ExchangeOptions{}.peer_timeout;
  real.heartbeat = ExchangeOptions{}.heartbeat;
  Server c(tmp_ / "c", real);
  c.Start();
  EXPECT_TRUE(WaitForDigest([&] { return Digest310(c_); }, Digest310(a_), 120s));
  c.Stop();
  b->Stop();
  EXPECT_FALSE(log_.Contains("peer b is silent")) << "C's link to the hub catching up went quiet";
  const ExchangeLoopLoad load = b->exchange().LoopLoad();
  EXPECT_GT(load.steps, 0);
  EXPECT_GT(load.busy_seconds[static_cast<int>(LoopPart::kPeerMessages)], 0);
  EXPECT_GT(load.busy_seconds[static_cast<int>(LoopPart::kRequests)], 0);
  EXPECT_GT(load.longest_step_seconds, 0);
  std::cerr << LoopLoadLine(load) << "\n";
}

// Issue 17: `carehub sync --once` (SyncOnce) finishes a repair it started before it returns.
// B holds A's log to 3500 with one signed head (3500); C holds it to 3000 (signed head 3000).
// B's stored entry hash at seq 3000 is damaged, and B then syncs from C only: C's WELCOME
// gossips its head 3000, which differs from B's copy there, so B re-verifies, finds its own
// damage and fetches 3000 from C to prove and rewrite. B is caught up from that first WELCOME on
// (C advertises less than B holds): only the wait for the repair keeps the sync going, so the
// store is sound the moment SyncOnce returns. Deterministic: the repair is counted as busy in
// the same loop step that marks the link welcomed, before "caught up" is looked at.
TEST_F(ExchangeSyncTest, SyncOnceFinishesTheRepairItStartedBeforeItReturns) {
  Ingest(a_, 0, 3000);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  AddPeer(a_.db(), Member(c_, "c", std::nullopt), a_.region());
  std::optional<Server> a(std::in_place, tmp_ / "a", Options());
  a->Start();
  AddPeer(c_.db(), Member(a_, "a", a->endpoint()), c_.region());
  ExchangeOptions whole = Options(false);
  whole.max_batch = 20000;  // one batch, one signed head
  ASSERT_TRUE(Exchange(tmp_ / "c", whole).SyncOnce(30s).caught_up);
  Ingest(a_, 3000, 3500);
  AddPeer(b_.db(), Member(a_, "a", a->endpoint()), b_.region());
  ASSERT_TRUE(Exchange(tmp_ / "b", whole).SyncOnce(30s).caught_up);
  a.reset();
  ASSERT_EQ(HeldSeq(b_), 3500);
  ASSERT_EQ(HeldSeq(c_), 3000);
  ASSERT_EQ(b_.db().QueryInt("SELECT count(*) FROM signed_heads WHERE origin = '310000'"), 1);
  const std::string original = Digest310(b_);
  b_.db().Exec(
      "UPDATE changes SET entry_hash = zeroblob(32) WHERE origin = '310000' AND seq = 3000");
  ASSERT_FALSE(VerifyStore(b_).sound());

  AddPeer(c_.db(), Member(b_, "b", std::nullopt), c_.region());
  Server c(tmp_ / "c", Options());
  c.Start();
  RemovePeer(b_.db(), "a");
  AddPeer(b_.db(), Member(a_, "a", std::nullopt), b_.region());
  AddPeer(b_.db(), Member(c_, "c", c.endpoint()), b_.region());
  const SyncReport report = Exchange(tmp_ / "b", Options(false)).SyncOnce(60s);
  EXPECT_TRUE(report.caught_up);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_TRUE(VerifyStore(b_).sound()) << "the repair was finished before SyncOnce returned";
  EXPECT_EQ(Digest310(b_), original);
  EXPECT_TRUE(log_.Contains("repair: origin 310000 seq 3000..3000 proven from seq 2999"));
}

// Protocol versions (docs/PROTOCOL.md "Versions"): a client starts in version 6 and, answered
// ERROR unknown_version by an older hub, speaks the version that hub answered in (6 -> 5, 6 -> 4,
// 6 -> 3 or 6 -> 2 at once); a version-6 hub answers an older client in the client's version.
TEST(ExchangeVersionTest, HubsOfEveryVersionExchangeTheSameVerifiedRecords) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Ingest(a, 0, 2500);
  LogLines log;
  int records = 2500;
  for (const std::uint8_t older : {6, 5, 4, 3, 2}) {
    const std::string name = "b" + std::to_string(older);
    Store b = Store::Init(tmp / name,
                          {.region = "js", .federation_key_file = tmp / "a" / "federation.key"});
    RemovePeer(a.db(), "b");
    AddPeer(a.db(), Member(b, "b", std::nullopt), a.region());
    Server server(tmp / "a", {.listen = "tcp://127.0.0.1:*",
                              .max_batch = 1000,
                              .protocol_version = older,
                              .log = log.Sink()});
    AddPeer(b.db(), Member(a, "a", server.endpoint()), b.region());
    server.Start();
    {
      Exchange client(tmp / name, {.max_batch = 1000, .log = log.Sink()});
      const SyncReport report = client.SyncOnce(30s);
      EXPECT_TRUE(report.caught_up) << static_cast<int>(older);
      EXPECT_TRUE(report.problems.empty());
    }
    EXPECT_TRUE(log.Contains("using version " + std::to_string(older)));
    EXPECT_EQ(Digest310(b), Digest310(a));
    server.Stop();

    // The other way round: the newest hub (version 7) serves a client that speaks only `older`.
    Ingest(a, 2500 + older * 100, 2600 + older * 100);
    Server newest(tmp / "a", {.listen = "tcp://127.0.0.1:*", .log = log.Sink()});
    RemovePeer(b.db(), "a");
    AddPeer(b.db(), Member(a, "a", newest.endpoint()), b.region());
    newest.Start();
    {
      Exchange client(tmp / name, {.max_batch = 1000, .protocol_version = older});
      EXPECT_TRUE(client.SyncOnce(30s).caught_up);
    }
    EXPECT_EQ(Digest310(b), Digest310(a));
    records += 100;
    EXPECT_NE(Digest310(b).find("records=" + std::to_string(records)), std::string::npos)
        << Digest310(b);
  }
}

// docs/PROTOCOL.md is precise enough to implement from: an independent client written from it
// alone (tests/data/exchange/wire_client.py: python3-zmq CURVE, hashlib, python3-cryptography,
// python3-zstandard) pulls a hub's whole log in versions 2 to 7, re-deriving and checking every
// hash and head signature, and ends at the hub's signed head; in versions 6 and 7 it decompresses
// the bodies sent as stored with the dictionary sent along (5000 records: the first 4096 train
// it; in version 7 the hub sends them without having decompressed or hashed them).
TEST(ExchangeVersionTest, AClientWrittenFromTheProtocolDocPullsInEveryVersion) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Store py = Store::Init(tmp / "py",
                         {.region = "gd", .federation_key_file = tmp / "a" / "federation.key"});
  Ingest(a, 0, 5000);
  AddPeer(a.db(), Member(py, "py", std::nullopt), a.region());
  Server server(tmp / "a", {.listen = "tcp://127.0.0.1:*"});
  server.Start();
  const std::string head_hash = ToHex(a.Head("310000")->head_hash);
  const auto compressed = a.db().QueryInt("SELECT count(dict) FROM changes");
  ASSERT_GT(compressed.value_or(0), 0);
  std::map<int, int> entry_bytes;
  for (const int version : {2, 3, 4, 5, 6, 7}) {
    std::string out;
    const std::string command =
        "/usr/bin/python3 " +
        (testing::SourceDir() / "tests/data/exchange/wire_client.py").string() + " " +
        server.endpoint() + " '" + a.keys().curve_public() + "' '" + py.keys().curve_public() +
        "' '" + py.keys().curve_secret() + "' " + py.region() + " 310000 " +
        ToHex(a.keys().sign_public()) + " " + std::to_string(version) + " 2>&1";
    ASSERT_EQ(testing::RunCommand(command, &out), 0) << "version " << version << ": " << out;
    EXPECT_NE(out.find("\"entries\": 5000"), std::string::npos) << out;
    const std::string bodies =
        "\"compressed_bodies\": " + std::to_string(version >= 6 ? *compressed : 0);
    EXPECT_NE(out.find(bodies), std::string::npos) << out;
    EXPECT_NE(out.find("\"head_hash\": \"" + head_hash + "\""), std::string::npos) << out;
    const auto at = out.find("\"entry_bytes\": ");
    ASSERT_NE(at, std::string::npos) << out;
    entry_bytes[version] = std::stoi(out.substr(at + 15));
  }
  // Version 4 sends a fraction of the bytes for the same entries.
  EXPECT_LT(entry_bytes[4] * 2, entry_bytes[3]) << entry_bytes[4] << " vs " << entry_bytes[3];
  EXPECT_EQ(entry_bytes[5], entry_bytes[4]);  // version 5 changes nothing a puller sends or reads
}

}  // namespace
}  // namespace carehub
