// Protocol version 7 (docs/PROTOCOL.md "Detection and repair of damaged copies"): a server no
// longer hashes the bodies of the batches it sends a version-7 client; the client verifies them,
// refuses a damaged one and tells the server (REFUSED), which checks that range itself (never
// trusting the claim) and repairs it from another member as a damaged batch read for serving.
// A relay B with a damaged copy of A's log serves C: C refuses, B repairs from A, the digests
// converge, for a damaged raw body and a damaged compressed frame; against a version-6 hub (and
// as a version-6 client) the server's full check still catches the damage before sending. A
// REFUSED of a sound range changes nothing but a counter and a log line, and a flood of them
// makes the hub check at most one range per member a second.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <zmq.hpp>

#include "hub/exchange/exchange.h"
#include "hub/exchange/peers.h"
#include "hub/exchange/wire.h"
#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/store.h"
#include "hub/store/verify.h"
#include "tests/support/exchange_harness.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/raw_member.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::LogLines;
using testing::RawMember;
using testing::Server;
using testing::TempDir;
using testing::TestAssessment;

void Ingest(Store& store, int from, int to) {
  IngestSink sink(store, "/data/a.csv", "sha-" + std::to_string(from), "shanghai/assessment",
                  {.batch_size = 1000});
  for (int i = from; i < to; ++i) sink.Accept(TestAssessment(i, "310000", "/data/a.csv", i + 1));
  sink.Finish();
}

Peer Member(Store& store, const std::string& name, std::optional<std::string> endpoint) {
  return {name, store.region(), store.keys().curve_public(), store.keys().sign_public(),
          std::move(endpoint)};
}

// The digest of origin 310000, or why it cannot be computed (a body that does not decompress).
std::string Digest310(Store& store) {
  try {
    const auto digests = ComputeDigests(store, std::string("310000"));
    return digests.empty() ? "" : DigestLine(digests[0]);
  } catch (const std::exception& e) {
    return e.what();
  }
}

// Waits (20 ms steps, at most `limit`) until `done()`.
bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto start = Clock::now();
  while (!done() && Clock::now() - start < limit) std::this_thread::sleep_for(20ms);
  return done();
}

class ExchangeRefusedTest : public ::testing::Test {
 protected:
  ExchangeRefusedTest()
      : a_(Store::Init(tmp_ / "a", {.region = "sh"})),
        b_(Store::Init(tmp_ / "b",
                       {.region = "js", .federation_key_file = tmp_ / "a" / "federation.key"})),
        c_(Store::Init(tmp_ / "c",
                       {.region = "zj", .federation_key_file = tmp_ / "a" / "federation.key"})) {}

  ExchangeOptions Options(bool listen = true, std::uint8_t version = 0) {
    ExchangeOptions options;
    if (listen) options.listen = "tcp://127.0.0.1:*";
    options.max_batch = 1000;
    options.peer_timeout = 1500ms;
    options.protocol_version = version;
    options.log = log_.Sink();
    return options;
  }

  // A ingests `records` and serves; B (which dials A) pulls all of it; returns A's digest.
  std::string RelayHoldsA(int records) {
    Ingest(a_, 0, records);
    AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
    a_server_.emplace(tmp_ / "a", Options());
    AddPeer(b_.db(), Member(a_, "a", a_server_->endpoint()), b_.region());
    AddPeer(b_.db(), Member(c_, "c", std::nullopt), b_.region());
    a_server_->Start();
    const std::string origin = Digest310(a_);
    EXPECT_TRUE(testing::SyncUntilDigest(
        tmp_ / "b", Options(false), [&] { return Digest310(b_); }, origin));
    return origin;
  }

  // The last byte of B's stored body of 310000 at `seq` changed (a raw body's content, or a
  // compressed frame's checksum).
  void DamageRelayBody(int seq) {
    b_.db().Exec(
        "UPDATE changes SET body = substr(body, 1, length(body) - 1) || "
        "(CASE WHEN substr(body, -1) = x'00' THEN x'01' ELSE x'00' END) "
        "WHERE origin = '310000' AND seq = " +
        std::to_string(seq));
  }

  // B serves (`b_version`, only its check of served batches: no background check) to the hub
  // at `client_dir` (`client_version`), which dials only B and syncs until it holds A's log.
  // Returns the client's stats.
  ExchangeStats ServeDamagedRelay(const std::string& origin, std::uint8_t b_version, Store& client,
                                  std::uint8_t client_version) {
    ExchangeOptions relay = Options(true, b_version);
    relay.verify_rows = 0;
    b_server_.emplace(tmp_ / "b", relay);
    AddPeer(client.db(), Member(b_, "b", b_server_->endpoint()), client.region());
    AddPeer(client.db(), Member(a_, "a", std::nullopt), client.region());
    b_server_->Start();
    Exchange c(client.dir(), Options(false, client_version));
    const auto start = Clock::now();
    while (Digest310(client) != origin && Clock::now() - start < 60s) c.SyncOnce(2s);
    EXPECT_EQ(Digest310(client), origin);
    EXPECT_TRUE(WaitUntil([&] { return Digest310(b_) == origin; }, 30s));
    b_server_->Stop();
    a_server_->Stop();
    EXPECT_TRUE(VerifyStore(b_).sound());
    return c.stats();
  }

  TempDir tmp_;
  Store a_, b_, c_;
  LogLines log_;
  std::optional<Server> a_server_, b_server_;
};

TEST_F(ExchangeRefusedTest, AClientRefusesADamagedRawBodyAndTheRelayChecksTheRangeAndRepairs) {
  const std::string origin = RelayHoldsA(3500);
  ASSERT_EQ(b_.db().QueryInt("SELECT dict IS NULL FROM changes WHERE seq = 1500"), 1);
  DamageRelayBody(1500);
  ASSERT_NE(Digest310(b_), origin);
  const ExchangeStats c = ServeDamagedRelay(origin, 0, c_, 0);
  // B sent the batch unchecked; C refused it and said so; B's check of the range found it.
  EXPECT_TRUE(log_.Contains("rejected batch of origin 310000 (seq 1001..2000) from peer b"));
  EXPECT_GE(c.refused_sent, 1);
  EXPECT_TRUE(log_.Contains("member c refused the batch of origin 310000 seq 1001..2000"));
  EXPECT_TRUE(log_.Contains("store check (a batch member c refused (REFUSED)"));
  EXPECT_TRUE(log_.Contains("repair: origin 310000 seq 1500.."));
  EXPECT_FALSE(log_.Contains("store check (a batch read for serving"));
  const StoreCheckState b = b_server_->exchange().StoreCheck();
  EXPECT_GE(b.refused_damaged, 1);
  EXPECT_GE(b.repairs, 1);
}

TEST_F(ExchangeRefusedTest, AClientRefusesADamagedCompressedFrameAsContentNotAsMalformed) {
  const std::string origin = RelayHoldsA(6000);
  ASSERT_EQ(b_.db().QueryInt("SELECT dict IS NOT NULL FROM changes WHERE seq = 5500"), 1);
  DamageRelayBody(5500);
  ASSERT_NE(Digest310(b_).find("seq=5500"), std::string::npos) << "does not decompress";
  const ExchangeStats c = ServeDamagedRelay(origin, 0, c_, 0);
  EXPECT_TRUE(
      log_.Contains("rejected batch of origin 310000 (seq 5001..6000) from peer b: body "
                    "of seq 5500"));
  EXPECT_FALSE(log_.Contains("undecodable message"));
  EXPECT_GE(c.refused_sent, 1);
  EXPECT_TRUE(log_.Contains("store check (a batch member c refused (REFUSED)"));
  EXPECT_GE(b_server_->exchange().StoreCheck().refused_damaged, 1);
}

// Versions 6 and older keep the server's full check of every batch it serves: the damaged batch
// never leaves (ERROR internal), nothing is REFUSED; both ways of stepping down.
TEST_F(ExchangeRefusedTest, AVersionSixPeerOnEitherSideKeepsTheServersFullCheck) {
  const std::string origin = RelayHoldsA(3500);
  DamageRelayBody(1500);
  const ExchangeStats c = ServeDamagedRelay(origin, 6, c_, 0);  // a version-7 client, a 6 server
  EXPECT_TRUE(log_.Contains("peer b speaks an older protocol version; using version 6"));
  EXPECT_TRUE(log_.Contains("store check (a batch read for serving"));
  EXPECT_EQ(c.refused_sent, 0);
  EXPECT_EQ(b_server_->exchange().StoreCheck().refused_damaged, 0);

  DamageRelayBody(2500);  // again, now a version-6 client (D) of a version-7 server
  ASSERT_NE(Digest310(b_), origin);
  Store d = Store::Init(tmp_ / "d",
                        {.region = "ah", .federation_key_file = tmp_ / "a" / "federation.key"});
  AddPeer(b_.db(), Member(d, "d", std::nullopt), b_.region());
  AddPeer(a_.db(), Member(d, "d", std::nullopt), a_.region());
  a_server_.emplace(tmp_ / "a", Options());
  RemovePeer(b_.db(), "a");
  AddPeer(b_.db(), Member(a_, "a", a_server_->endpoint()), b_.region());
  a_server_->Start();
  const ExchangeStats d6 = ServeDamagedRelay(origin, 0, d, 6);
  EXPECT_TRUE(log_.Contains("store check (a batch read for serving: origin 310000 seq 2500"))
      << "the version-7 server checked the batch in full for the version-6 client";
  EXPECT_EQ(d6.refused_sent, 0);
  EXPECT_EQ(b_server_->exchange().StoreCheck().refused_damaged, 0);
  EXPECT_EQ(b_server_->exchange().StoreCheck().refused_dropped, 0);
}

TEST_F(ExchangeRefusedTest, ARefusedOfASoundRangeChangesNothingButTheCounterAndTheLog) {
  Ingest(a_, 0, 3000);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  const std::string before = Digest310(a_);
  Server a(tmp_ / "a", Options());
  a.Start();
  zmq::context_t context;
  RawMember b(context, b_, a_, a.endpoint());
  b.Send(wire::Refused{"310000", 1000, 2000, "seq 1500: record_hash does not match\n(claimed)"});
  ASSERT_TRUE(WaitUntil([&] { return a.exchange().StoreCheck().refused_sound == 1; }, 30s));
  EXPECT_TRUE(
      log_.Contains("member b refused the batch of origin 310000 seq 1001..2000 this hub "
                    "served (seq 1500: record_hash does not match?(claimed))"));
  EXPECT_TRUE(
      log_.Contains("member b refused the batch of origin 310000 seq 1001..2000: the "
                    "range verifies here (seq 1001..2000); nothing repaired"));
  // Type 13 in a version-6 message is an unknown type.
  wire::Frames v6 = wire::Encode(wire::Refused{"310000", 1000, 2000, ""});
  v6[0][3] = 6;
  b.SendRaw(v6);
  const auto answer = b.Receive(10s);
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(std::holds_alternative<wire::ErrorReply>(*answer));
  EXPECT_EQ(std::get<wire::ErrorReply>(*answer).code, wire::ErrorCode::kMalformed);
  a.Stop();
  const StoreCheckState check = a.exchange().StoreCheck();
  EXPECT_EQ(check.refused_sound, 1);
  EXPECT_EQ(check.refused_damaged, 0);
  EXPECT_EQ(check.repairs, 0);
  EXPECT_EQ(Digest310(a_), before);
  EXPECT_TRUE(VerifyStore(a_).sound());
}

// A member cannot make the hub verify without limit: one check at a time per member, at most one
// a second; the rest are dropped and counted, and the hub keeps answering meanwhile.
TEST_F(ExchangeRefusedTest, AFloodOfRefusedIsBoundedPerMember) {
  Ingest(a_, 0, 20000);
  AddPeer(a_.db(), Member(b_, "b", std::nullopt), a_.region());
  Server a(tmp_ / "a", Options());
  a.Start();
  zmq::context_t context;
  RawMember b(context, b_, a_, a.endpoint());
  const auto start = Clock::now();
  for (int i = 0; i < 200; ++i) b.Send(wire::Refused{"310000", 0, 20000, "flood"});
  b.Send(wire::Refused{"999999", 0, 5, "not an origin A holds"});
  b.Send(wire::Ping{77});
  const auto pong = b.Receive(10s);
  ASSERT_TRUE(pong.has_value());
  EXPECT_TRUE(std::holds_alternative<wire::Pong>(*pong));
  ASSERT_TRUE(WaitUntil(
      [&] {
        const StoreCheckState s = a.exchange().StoreCheck();
        return s.refused_sound + s.refused_dropped >= 201;
      },
      30s));
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  a.Stop();
  const StoreCheckState check = a.exchange().StoreCheck();
  EXPECT_GE(check.refused_sound, 1);
  EXPECT_LE(check.refused_sound, static_cast<std::int64_t>(elapsed) + 1);
  EXPECT_EQ(check.refused_sound + check.refused_dropped, 201);
  EXPECT_EQ(check.refused_damaged, 0);
  EXPECT_EQ(check.repairs, 0);
}

}  // namespace
}  // namespace carehub
