// Fork evidence (issue 17): an insider holding the origin's signing key re-signs a rewritten
// history. A hub that holds the original chain meets a member holding the rewritten one: the
// conflicting signed heads are gossiped in WELCOME/HELLO, kept as evidence on both sides (both
// signed heads, who sent the other, when), raised as an alarm, and the origin's new entries are
// held back; `fork resolve` keeping the held branch releases the hold without raising the same
// head again, and keeping the other branch drops the held entries so the kept branch is pulled.
// Also: a version-3 hub still talks to a version-2 member (no gossip on that link).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "hub/exchange/exchange.h"
#include "hub/exchange/peers.h"
#include "hub/exchange/wire.h"
#include "hub/store/digest.h"
#include "hub/store/forks.h"
#include "hub/store/ingest.h"
#include "hub/store/store.h"
#include "tests/support/exchange_harness.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using testing::LogLines;
using testing::Server;
using testing::TempDir;
using testing::TestAssessment;

void Ingest(Store& store, int from, int to) {
  const std::string file = "/data/a-" + std::to_string(from) + ".csv";
  IngestSink sink(store, file, "sha-" + std::to_string(from) + "-" + std::to_string(to),
                  "shanghai/assessment", {.batch_size = 1000});
  for (int i = from; i < to; ++i) sink.Accept(TestAssessment(i, "310000", file, i - from + 1));
  sink.Finish();
}

Peer Member(Store& store, const std::string& name, std::optional<std::string> endpoint) {
  return {name, store.region(), store.keys().curve_public(), store.keys().sign_public(),
          std::move(endpoint)};
}

void SetEndpoint(Store& store, const std::string& name, const Peer& member,
                 std::optional<std::string> endpoint) {
  RemovePeer(store.db(), name);
  Peer peer = member;
  peer.endpoint = std::move(endpoint);
  AddPeer(store.db(), peer, store.region());
}

std::string Digest310(Store& store) {
  const auto digests = ComputeDigests(store, std::string("310000"));
  return digests.empty() ? "" : DigestLine(digests[0]);
}

SignedHead Head310(Store& store) { return store.Head("310000").value_or(SignedHead{}); }

class ForkEvidenceTest : public ::testing::Test {
 protected:
  ForkEvidenceTest() {
    // The insider's copy: the origin's hub directory (keys included) taken after 2000 entries.
    {
      Store a = Store::Init(tmp_ / "a", {.region = "sh"});
      Ingest(a, 0, 2000);
    }
    std::filesystem::copy(tmp_ / "a", tmp_ / "a2", std::filesystem::copy_options::recursive);
    a_.emplace(Store::Open(tmp_ / "a"));
    a2_.emplace(Store::Open(tmp_ / "a2"));
    const auto key = tmp_ / "a" / "federation.key";
    b_.emplace(Store::Init(tmp_ / "b", {.region = "js", .federation_key_file = key}));
    c_.emplace(Store::Init(tmp_ / "c", {.region = "zj", .federation_key_file = key}));
    Ingest(*a_, 2000, 3000);   // the true history: seq 2001..3000
    Ingest(*a2_, 5000, 6000);  // rewritten from seq 2001 and re-signed with the origin's key
  }

  ExchangeOptions Options(bool listen) {
    ExchangeOptions options;
    if (listen) options.listen = "tcp://127.0.0.1:*";
    options.max_batch = 1000;
    options.peer_timeout = 1500ms;
    options.log = log_.Sink();
    return options;
  }

  // Serves the true history (A) and the rewritten one (A2), each admitting the members the test
  // added, and syncs B from A and C from A2: both at seq 3000, on different branches.
  void SyncBranches(std::optional<Server>& a, std::optional<Server>& a2) {
    a.emplace(tmp_ / "a", Options(true));
    a->Start();
    a2.emplace(tmp_ / "a2", Options(true));
    a2->Start();
    AddPeer(b_->db(), Member(*a_, "a", a->endpoint()), b_->region());
    AddPeer(c_->db(), Member(*a_, "a", a2->endpoint()), c_->region());
    ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
    ASSERT_TRUE(Exchange(tmp_ / "c", Options(false)).SyncOnce(30s).caught_up);
    ASSERT_EQ(Head310(*b_).seq, 3000);
    ASSERT_EQ(Head310(*c_).seq, 3000);
    ASSERT_NE(Head310(*b_).head_hash, Head310(*c_).head_hash);
  }

  TempDir tmp_;
  std::optional<Store> a_, a2_, b_, c_;
  LogLines log_;
};

TEST_F(ForkEvidenceTest, ReSignedRewrittenHistoryIsKeptAsEvidenceAndHeldUntilResolved) {
  AddPeer(a_->db(), Member(*b_, "b", std::nullopt), "310000");
  AddPeer(a_->db(), Member(*c_, "c", std::nullopt), "310000");
  AddPeer(a2_->db(), Member(*c_, "c", std::nullopt), "310000");
  // B holds the true chain, C the rewritten one; both at seq 3000.
  std::optional<Server> a, a2;
  ASSERT_NO_FATAL_FAILURE(SyncBranches(a, a2));
  AddPeer(c_->db(), Member(*b_, "b", std::nullopt), c_->region());
  const SignedHead true_head = Head310(*b_);
  const SignedHead rewritten_head = Head310(*c_);
  const std::string b_digest = Digest310(*b_);

  // B meets C: C's WELCOME gossips its signed head of 310000, B's HELLO gossips B's.
  std::optional<Server> c(std::in_place, tmp_ / "c", Options(true));
  c->Start();
  SetEndpoint(*b_, "c", Member(*c_, "c", std::nullopt), c->endpoint());
  const SyncReport report = Exchange(tmp_ / "b", Options(false)).SyncOnce(30s);
  const auto evidence = ListForkEvidence(b_->db(), true);
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_EQ(evidence[0].origin, "310000");
  EXPECT_EQ(evidence[0].how, "gossip");
  EXPECT_EQ(evidence[0].other_from, "c");
  EXPECT_EQ(evidence[0].held, true_head);
  EXPECT_EQ(evidence[0].other, rewritten_head);
  EXPECT_GT(evidence[0].detected_ms, 0);
  EXPECT_TRUE(log_.Contains("FORK of origin 310000"));
  EXPECT_TRUE(std::any_of(report.problems.begin(), report.problems.end(), [](const auto& line) {
    return line.find("FORK of origin 310000") != std::string::npos;
  }));
  EXPECT_EQ(HeldOrigins(b_->db()), std::set<std::string>{"310000"});
  // B dials C, which holds the other branch: probing C's copy (entry hashes compared, binary
  // search) found where the branches part, so keeping the other branch would drop only the
  // diverging suffix 2001..3000, not the whole copy (shown on a copy of B).
  EXPECT_EQ(evidence[0].agree_seq, 2000);
  EXPECT_EQ(evidence[0].fork_seq, 2001);
  {
    std::filesystem::copy(tmp_ / "b", tmp_ / "b_copy", std::filesystem::copy_options::recursive);
    Store copy = Store::Open(tmp_ / "b_copy");
    const ForkResolution switched = ResolveFork(copy, "310000", rewritten_head.head_hash);
    ASSERT_TRUE(switched.cut_to.has_value());
    EXPECT_EQ(*switched.cut_to, 2000);
    EXPECT_EQ(copy.Head("310000")->seq, 2000);
  }
  c.reset();
  // C saw B's head in B's HELLO: the same evidence, seen from the other branch.
  const auto at_c = ListForkEvidence(c_->db(), true);
  ASSERT_EQ(at_c.size(), 1u);
  EXPECT_EQ(at_c[0].other_from, "b");
  EXPECT_EQ(at_c[0].held, rewritten_head);
  EXPECT_EQ(at_c[0].other, true_head);

  // Held: the origin's new entries are not applied while the evidence is open.
  Ingest(*a_, 3000, 3500);
  Exchange(tmp_ / "b", Options(false)).SyncOnce(3s);
  EXPECT_EQ(Head310(*b_).seq, 3000);
  EXPECT_EQ(Digest310(*b_), b_digest);

  // B keeps its branch: the hold is released and the new entries arrive.
  EXPECT_THROW(ResolveFork(*b_, "310000", Hash256{}), Error);
  const ForkResolution kept = ResolveFork(*b_, "310000", true_head.head_hash);
  EXPECT_TRUE(kept.kept_held);
  EXPECT_EQ(kept.resolved, 1);
  EXPECT_TRUE(HeldOrigins(b_->db()).empty());
  SetEndpoint(*b_, "c", Member(*c_, "c", std::nullopt), std::nullopt);
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  EXPECT_EQ(Head310(*b_).seq, 3500);
  EXPECT_EQ(Digest310(*b_), Digest310(*a_));
  EXPECT_TRUE(IsRejectedHead(b_->db(), "310000", 3000, rewritten_head.head_hash));

  // C keeps the other branch (the true one): its rewritten entries are dropped and the true
  // chain is pulled from the origin.
  const ForkResolution switched = ResolveFork(*c_, "310000", true_head.head_hash);
  EXPECT_FALSE(switched.kept_held);
  ASSERT_TRUE(switched.cut_to.has_value());
  EXPECT_LT(*switched.cut_to, 2001);
  SetEndpoint(*c_, "a", Member(*a_, "a", std::nullopt), a->endpoint());
  ASSERT_TRUE(Exchange(tmp_ / "c", Options(false)).SyncOnce(30s).caught_up);
  EXPECT_EQ(Digest310(*c_), Digest310(*a_));
  EXPECT_TRUE(ListForkEvidence(c_->db(), true).empty());
}

// The rewritten chain is longer than the held one: nothing to compare in the gossip, but the
// pulled batch is validly signed and does not extend the held head — evidence from the batch.
TEST_F(ForkEvidenceTest, ABatchThatDoesNotExtendTheHeldChainIsEvidence) {
  Ingest(*a2_, 6000, 6500);  // the rewritten history is 3500 long
  AddPeer(a_->db(), Member(*b_, "b", std::nullopt), "310000");
  AddPeer(a2_->db(), Member(*b_, "b", std::nullopt), "310000");
  Server a(tmp_ / "a", Options(true));
  a.Start();
  AddPeer(b_->db(), Member(*a_, "a", a.endpoint()), b_->region());
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  a.Stop();
  Server a2(tmp_ / "a2", Options(true));
  a2.Start();
  SetEndpoint(*b_, "a", Member(*a_, "a", std::nullopt), a2.endpoint());
  Exchange(tmp_ / "b", Options(false)).SyncOnce(5s);
  const auto evidence = ListForkEvidence(b_->db(), true);
  ASSERT_EQ(evidence.size(), 1u);
  EXPECT_EQ(evidence[0].how, "batch");
  EXPECT_EQ(evidence[0].held.seq, 3000);
  EXPECT_GT(evidence[0].other.seq, 3000);
  EXPECT_EQ(Head310(*b_).seq, 3000);
  EXPECT_TRUE(log_.Contains("FORK of origin 310000"));
}

// Issue 17: a continuation refused because of this hub's OWN damaged copy is not a fork. B's
// stored entry hash at its head (seq 3000) is damaged, so A's continuation 3001..3500, which
// links to the true hash, is refused. Before the fix B compared the batch with that stored hash
// unproven and kept a "fork" as evidence, holding the origin for good; now it proves its own
// entries first, finds them damaged, repairs its copy and converges with A.
TEST_F(ForkEvidenceTest, ARefusedContinuationOfAHubsOwnDamagedCopyIsRepairedNotAFork) {
  AddPeer(a_->db(), Member(*b_, "b", std::nullopt), "310000");
  Server a(tmp_ / "a", Options(true));
  a.Start();
  AddPeer(b_->db(), Member(*a_, "a", a.endpoint()), b_->region());
  ASSERT_TRUE(Exchange(tmp_ / "b", Options(false)).SyncOnce(30s).caught_up);
  ASSERT_EQ(Head310(*b_).seq, 3000);
  b_->db().Exec("UPDATE changes SET entry_hash = x'" + std::string(64, 'a') +
                "' WHERE origin = '310000' AND seq = 3000");
  Ingest(*a_, 3000, 3500);
  EXPECT_TRUE(testing::SyncUntilDigest(
      tmp_ / "b", Options(false), [&] { return Digest310(*b_); }, Digest310(*a_), 30s));
  EXPECT_TRUE(ListForkEvidence(b_->db(), false).empty());
  EXPECT_TRUE(HeldOrigins(b_->db()).empty());
  EXPECT_FALSE(log_.Contains("FORK of origin"));
  EXPECT_TRUE(log_.Contains("whose own entries there do not verify: not a fork"));
  EXPECT_EQ(Head310(*b_).seq, 3500);
}

// Issue 17: the fork point from the other side. C (rewritten branch) is dialled by B (true
// branch) but cannot dial B (no endpoint): B's HELLO raises the evidence at C. B speaks version 4
// here (no HASH_REQUEST: see the next test), so C cannot ask B for its entry hashes and the point
// stays unknown at C (B probes C and knows it). As soon as C dials any
// member gossiping a head of the other branch (D, which holds the true chain), C probes that
// member and records the point in the evidence B's gossip raised (before the fix the point was
// recorded only in a row whose sender was the probed member: none here, so it was lost).
TEST_F(ForkEvidenceTest, AHubDialledByTheOtherBranchFindsTheForkPointThroughAnyMemberItDials) {
  const auto key = tmp_ / "a" / "federation.key";
  Store d = Store::Init(tmp_ / "d", {.region = "ah", .federation_key_file = key});
  AddPeer(a_->db(), Member(*b_, "b", std::nullopt), "310000");
  AddPeer(a_->db(), Member(d, "d", std::nullopt), "310000");
  AddPeer(a2_->db(), Member(*c_, "c", std::nullopt), "310000");
  std::optional<Server> a, a2;
  ASSERT_NO_FATAL_FAILURE(SyncBranches(a, a2));
  AddPeer(d.db(), Member(*a_, "a", a->endpoint()), d.region());
  ASSERT_TRUE(Exchange(tmp_ / "d", Options(false)).SyncOnce(30s).caught_up);
  const SignedHead true_head = Head310(*b_);
  ASSERT_EQ(Head310(d), true_head);

  // B dials C; C knows B without an endpoint.
  AddPeer(c_->db(), Member(*b_, "b", std::nullopt), c_->region());
  AddPeer(c_->db(), Member(d, "d", std::nullopt), c_->region());
  AddPeer(d.db(), Member(*c_, "c", std::nullopt), d.region());
  Server c(tmp_ / "c", Options(true));
  c.Start();
  AddPeer(b_->db(), Member(*c_, "c", c.endpoint()), b_->region());
  ExchangeOptions version4 = Options(false);
  version4.protocol_version = 4;
  Exchange(tmp_ / "b", version4).SyncOnce(30s);  // the probe's PULLs need time under load
  ASSERT_EQ(ListForkEvidence(b_->db(), true).size(), 1u);
  EXPECT_EQ(ListForkEvidence(b_->db(), true)[0].agree_seq, 2000) << "B dials C: B probes C";
  const auto read_c = [&] {
    Store view = Store::Open(tmp_ / "c");
    return ListForkEvidence(view.db(), true);
  };
  auto at_c = read_c();
  ASSERT_EQ(at_c.size(), 1u);
  EXPECT_EQ(at_c[0].other_from, "b");
  EXPECT_EQ(at_c[0].other, true_head);
  EXPECT_EQ(at_c[0].agree_seq, 0) << "C cannot send B a PULL, nor a version-4 B a HASH_REQUEST";

  // C gets an endpoint for D (picked up by the running serve): D gossips the true head, C
  // probes D and records the point in the evidence it holds for that head.
  Server dx(tmp_ / "d", Options(true));
  dx.Start();
  SetEndpoint(*c_, "d", Member(d, "d", std::nullopt), dx.endpoint());
  const auto start = std::chrono::steady_clock::now();
  while (at_c[0].agree_seq == 0 && std::chrono::steady_clock::now() - start < 30s) {
    std::this_thread::sleep_for(100ms);
    at_c = read_c();
    ASSERT_EQ(at_c.size(), 1u);
  }
  EXPECT_EQ(at_c[0].agree_seq, 2000);
  EXPECT_EQ(at_c[0].fork_seq, 2001);
  EXPECT_TRUE(log_.Contains("the branches agree up to seq 2000 (probed peer d's copy)"));
}

// Version 5 closes that gap: C (rewritten branch, dialled only by B) asks B for its entry hashes
// through B's own connection (HASH_REQUEST, up to 64 seqs at a time; B answers HASHES) and
// records the fork point in the evidence B's gossip raised, with no other member involved.
TEST_F(ForkEvidenceTest, AHubDialledOnlyByTheOtherBranchAsksItForTheForkPoint) {
  AddPeer(a_->db(), Member(*b_, "b", std::nullopt), "310000");
  AddPeer(a2_->db(), Member(*c_, "c", std::nullopt), "310000");
  std::optional<Server> a, a2;
  ASSERT_NO_FATAL_FAILURE(SyncBranches(a, a2));
  const SignedHead true_head = Head310(*b_);

  // C knows B without an endpoint; B dials C and stays connected (serving).
  AddPeer(c_->db(), Member(*b_, "b", std::nullopt), c_->region());
  Server c(tmp_ / "c", Options(true));
  c.Start();
  AddPeer(b_->db(), Member(*c_, "c", c.endpoint()), b_->region());
  Server b(tmp_ / "b", Options(true));
  b.Start();
  const auto read_c = [&] {
    Store view = Store::Open(tmp_ / "c");
    return ListForkEvidence(view.db(), true);
  };
  std::vector<ForkEvidence> at_c;
  const auto start = std::chrono::steady_clock::now();
  while ((at_c.empty() || at_c[0].agree_seq == 0) &&
         std::chrono::steady_clock::now() - start < 60s) {
    std::this_thread::sleep_for(100ms);
    at_c = read_c();
  }
  ASSERT_EQ(at_c.size(), 1u);
  EXPECT_EQ(at_c[0].other_from, "b");
  EXPECT_EQ(at_c[0].other, true_head);
  EXPECT_EQ(at_c[0].agree_seq, 2000);
  EXPECT_EQ(at_c[0].fork_seq, 2001);
  EXPECT_TRUE(log_.Contains(
      "the branches agree up to seq 2000 (probed peer b's copy, asked through its connection)"));
}

// The operator's view: `verify` exits 3 and names the fork, `fork show` lists both heads and who
// sent the other, `fork resolve --keep` of an unknown hash is refused, of the held head releases.
TEST_F(ForkEvidenceTest, VerifyReportsOpenForksAndForkResolveReleasesThem) {
  ForkEvidence evidence;
  evidence.origin = "310000";
  evidence.fork_seq = 3000;
  evidence.held = Head310(*a_);
  evidence.other = Head310(*a2_);
  evidence.other_from = "c";
  evidence.how = "gossip";
  ASSERT_TRUE(RecordForkEvidence(b_->db(), evidence));
  EXPECT_FALSE(RecordForkEvidence(b_->db(), evidence));  // the same pair: nothing new
  const std::string dir = (tmp_ / "b").string();
  const std::string carehub = testing::CarehubBinary();
  std::string out;
  EXPECT_EQ(testing::RunCommand(carehub + " verify --dir " + dir, &out), 3);
  EXPECT_NE(out.find("fork origin=310000 seq=3000"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(carehub + " fork show --dir " + dir, &out), 0);
  EXPECT_NE(out.find("origin=310000 state=open how=gossip from=c"), std::string::npos) << out;
  EXPECT_NE(out.find("other seq=3000 hash=" + ToHex(evidence.other.head_hash)), std::string::npos)
      << out;
  EXPECT_NE(testing::RunCommand(carehub + " fork resolve --dir " + dir + " --origin sh --keep " +
                                    std::string(64, '0'),
                                &out),
            0);
  EXPECT_EQ(testing::RunCommand(carehub + " fork resolve --dir " + dir + " --origin sh --keep " +
                                    ToHex(evidence.held.head_hash),
                                &out),
            0);
  EXPECT_NE(out.find("resolved origin=310000 rows=1 kept=held"), std::string::npos) << out;
  EXPECT_EQ(testing::RunCommand(carehub + " verify --dir " + dir, &out), 0) << out;
  EXPECT_EQ(testing::RunCommand(carehub + " fork show --all --json --dir " + dir, &out), 0);
  EXPECT_NE(out.find("\"state\":\"resolved\""), std::string::npos) << out;
}

// Version 3 adds the gossip frame to HELLO/WELCOME/NOTIFY; version-2 messages still decode (and
// are answered in version 2), version 1 does not.
TEST(ProtocolVersionTest, VersionTwoMessagesStillDecodeAndEncode) {
  wire::Hello hello{"310000", {{"310000", 5}}, {}};
  hello.signed_heads.push_back(SignedHead{"310000", 5, {}, {}});
  const wire::Frames v3 = wire::Encode(hello, 3);
  EXPECT_EQ(v3.size(), 3u);
  EXPECT_EQ(wire::VersionOf(v3), 3);
  EXPECT_EQ(std::get<wire::Hello>(wire::Decode(v3)), hello);
  const wire::Frames v2 = wire::Encode(hello, 2);
  EXPECT_EQ(v2.size(), 2u);
  const auto decoded = std::get<wire::Hello>(wire::Decode(v2));
  EXPECT_EQ(decoded.heads, hello.heads);
  EXPECT_TRUE(decoded.signed_heads.empty());
  wire::Frames v1 = v2;
  v1[0][3] = 1;
  EXPECT_THROW(wire::Decode(v1), wire::WireError);
  // A version-3 HELLO without its gossip frame is malformed.
  wire::Frames short_v3 = v3;
  short_v3.pop_back();
  EXPECT_THROW(wire::Decode(short_v3), wire::WireError);
}

}  // namespace
}  // namespace carehub
