// hub/digest: equal on a hub and on a hub that received the same origin's records by relay,
// defined exactly as documented (both digests recomputed independently with python3's sqlite3 +
// hashlib), and sensitive to every change of content.
#include "hub/store/digest.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "hub/store/ingest.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;

void IngestAssessments(Store& store, int from, int count) {
  IngestSink sink(store, "/data/a" + std::to_string(from) + ".csv", "sha-" + std::to_string(from),
                  "shanghai/assessment", {.batch_size = 100});
  for (int i = from; i < from + count; ++i) sink.Accept(testing::TestAssessment(i));
  sink.Finish();
}

// Relays everything `from` holds of `origin` into `to`, the way the exchange applies it.
void Relay(Store& from, Store& to, const std::string& origin) {
  const auto head = from.Head(origin);
  ASSERT_TRUE(head.has_value());
  const auto entries = from.ReadChanges(origin, to.Tip(origin).seq, 1'000'000);
  const ApplyResult result = to.ApplyRemoteBatch(origin, entries, *head, from.keys().sign_public());
  ASSERT_FALSE(result.rejected.has_value()) << *result.rejected;
}

// Both digests of `origin`, computed from the database file by python3 (sqlite3 + hashlib) as
// docs/PROTOCOL.md defines them: an implementation that shares no code with hub/store/digest.cc
// (which hashes with OpenSSL, schemas/sha256.h; libsodium until session 9). Bodies must be stored
// raw (a store below kTrainingSamples bodies of a schema): the script checks that dict is NULL.
struct PythonDigests {
  std::string records, log;
};
PythonDigests PythonDigest(const std::filesystem::path& db, const std::string& origin) {
  const std::string script =
      "import hashlib,sqlite3,sys\n"
      "c=sqlite3.connect(sys.argv[1])\n"
      "o=sys.argv[2]\n"
      "h=hashlib.sha256()\n"
      "for rid,body in c.execute('SELECT r.record_id, c.body FROM records r JOIN changes c "
      "ON c.origin=r.origin AND c.seq=r.seq WHERE r.origin=? ORDER BY r.record_id',(o,)):\n"
      "  r=rid.encode('ascii'); h.update(len(r).to_bytes(2,'big')+r)\n"
      "  h.update(hashlib.sha256(body).digest())\n"
      "print(h.hexdigest())\n"
      "g=hashlib.sha256()\n"
      "head=c.execute('SELECT seq,head_hash,signature FROM heads WHERE origin=?',(o,)).fetchone()\n"
      "g.update(head[0].to_bytes(8,'big')+head[1]+head[2] if head else bytes(104))\n"
      "prev=bytes(32)\n"
      "for seq,op,rid,ver,eh,body,d in c.execute('SELECT seq,op,record_id,version,entry_hash,"
      "body,dict FROM changes WHERE origin=? ORDER BY seq',(o,)):\n"
      "  assert d is None, 'a compressed body'\n"
      "  r=rid.encode('ascii')\n"
      "  g.update(seq.to_bytes(8,'big')+op.to_bytes(1,'big')+len(r).to_bytes(2,'big')+r+"
      "ver.to_bytes(4,'big')+hashlib.sha256(body).digest()+prev+eh)\n"
      "  prev=eh\n"
      "print(g.hexdigest())\n";
  const TempDir tmp;
  const auto path = tmp / "digest.py";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  std::string out;
  const int status = testing::RunCommand(
      "/usr/bin/python3 " + path.string() + " " + db.string() + " " + origin, &out);
  EXPECT_EQ(status, 0) << out;
  PythonDigests digests;
  std::istringstream lines(out);
  std::getline(lines, digests.records);
  std::getline(lines, digests.log);
  return digests;
}

TEST(DigestTest, RelayedCopyHasTheOriginsDigest) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Store b = Store::Init(tmp / "b", {.region = "js"});
  IngestAssessments(a, 0, 250);
  Relay(a, b, "310000");

  const auto da = ComputeDigests(a, std::string("310000"));
  const auto db = ComputeDigests(b, std::string("310000"));
  ASSERT_EQ(da.size(), 1u);
  EXPECT_EQ(da, db);
  EXPECT_EQ(da[0].records, 250);
  EXPECT_EQ(da[0].seq, 250);
  // B holds only A's origin, so the full listing is the same single line.
  EXPECT_EQ(ComputeDigests(b), db);
  const PythonDigests independent = PythonDigest(tmp / "a" / "carehub.db", "310000");
  EXPECT_EQ(independent.records, da[0].sha256_hex);
  EXPECT_EQ(independent.log, da[0].log_sha256_hex);
}

TEST(DigestTest, ChangesAndRetractionsShowUntilRelayed) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Store b = Store::Init(tmp / "b", {.region = "gd"});
  IngestAssessments(a, 0, 120);
  Relay(a, b, "310000");
  const auto before = ComputeDigests(a, std::string("310000"));
  ASSERT_EQ(before, ComputeDigests(b, std::string("310000")));

  const std::string id = testing::TestAssessment(7).record_id;
  ASSERT_EQ(a.Retract(id), 2);
  const auto after = ComputeDigests(a, std::string("310000"));
  EXPECT_NE(after[0].sha256_hex, before[0].sha256_hex);
  EXPECT_EQ(after[0].seq, before[0].seq + 1);
  EXPECT_EQ(after[0].records, before[0].records);  // a retraction is a new version, not a deletion
  EXPECT_NE(ComputeDigests(b, std::string("310000")), after);

  Relay(a, b, "310000");
  EXPECT_EQ(ComputeDigests(b, std::string("310000")), after);
  // B's log holds a retraction (op 2) after A's ingest: both digests as python computes them.
  const PythonDigests independent = PythonDigest(tmp / "b" / "carehub.db", "310000");
  EXPECT_EQ(independent.records, after[0].sha256_hex);
  EXPECT_EQ(independent.log, after[0].log_sha256_hex);
}

TEST(DigestTest, OneLinePerOriginInTheDocumentedFormat) {
  TempDir tmp;
  Store a = Store::Init(tmp / "a", {.region = "sh"});
  Store b = Store::Init(tmp / "b", {.region = "hk"});
  IngestAssessments(a, 0, 30);
  Relay(a, b, "310000");
  const auto all = ComputeDigests(b);
  ASSERT_EQ(all.size(), 1u);  // B ingested nothing itself
  const std::regex line("origin=310000 seq=30 records=30 sha256=[0-9a-f]{64} log=[0-9a-f]{64}");
  EXPECT_TRUE(std::regex_match(DigestLine(all[0]), line)) << DigestLine(all[0]);

  // An origin the hub knows nothing of: zero counts and the hash of the empty sequence.
  const auto none = ComputeDigests(b, std::string("820000"));
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].seq, 0);
  EXPECT_EQ(none[0].records, 0);
  EXPECT_EQ(none[0].sha256_hex, ToHex(Sha256("")));
}

TEST(DigestTest, DigestCommandPrintsTheSameLines) {
  TempDir tmp;
  {
    Store a = Store::Init(tmp / "a", {.region = "sh"});
    IngestAssessments(a, 0, 40);
  }
  std::string out;
  ASSERT_EQ(testing::RunCommand(
                testing::CarehubBinary() + " digest --dir " + (tmp / "a").string() + " --origin sh",
                &out),
            0);
  Store a = Store::Open(tmp / "a");
  EXPECT_EQ(out, DigestLine(ComputeDigests(a, std::string("310000"))[0]) + "\n");
}

}  // namespace
}  // namespace carehub
