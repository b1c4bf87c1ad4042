// The exchange through real `carehub` processes, as operators run it (init, keys show, peers
// add, gen, ingest, serve, sync --once, digest): three hubs where C only knows B get A's records
// relayed and verified with A's key; a `sync` killed with SIGKILL mid-pull resumes with nothing
// lost or doubled; a running hub receives new records by notification, well before any
// periodic refresh; a hub writing with a newer schema version exchanges with an older one both
// ways; a hub whose CURVE key is not a member is refused. (Written by the second exchange
// session; see /work/notes/exchange_split.md.)
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "hub/store/change_log.h"
#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/lookup_keys.h"
#include "hub/store/store.h"
#include "schemas/codec.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace carehub {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::TempDir;

// A background `carehub` process with stdout and stderr in a log file.
class Process {
 public:
  Process(const std::vector<std::string>& args, const fs::path& log) : log_(log) {
    std::vector<std::string> argv_text = {testing::CarehubBinary()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start carehub");
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      Wait();
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Signal(int signal) { ::kill(pid_, signal); }
  // Exit status (128 + signal when killed).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string Log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs `carehub ARGS` to completion; stderr goes to stdout so failures show in the test log.
int Carehub(const std::string& args, std::string* out = nullptr) {
  std::string captured;
  const int status =
      testing::RunCommand(testing::CarehubBinary() + " " + args + " 2>&1", &captured);
  if (out != nullptr) *out = captured;
  if (status != 0) ADD_FAILURE() << "carehub " << args << " exited " << status << ":\n" << captured;
  return status;
}

struct Hub {
  std::string name;
  fs::path dir;
  std::string region;
  std::string curve_public;
  std::string sign_public;
  int port = 0;
  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port); }
};

Hub MakeHub(const TempDir& tmp, const std::string& name, const std::string& region,
            const std::optional<Hub>& federation_from = std::nullopt) {
  Hub hub{name, tmp / name, region, "", "", FreePort()};
  std::string init = "init --dir " + hub.dir.string() + " --region " + region;
  if (federation_from)
    init += " --federation-key " + (federation_from->dir / "federation.key").string();
  Carehub(init);
  std::string out;
  Carehub("keys show --json --dir " + hub.dir.string(), &out);
  Poco::JSON::Parser parser;
  auto keys = parser.parse(out).extract<Poco::JSON::Object::Ptr>();
  hub.curve_public = keys->getValue<std::string>("curve_public");
  hub.sign_public = keys->getValue<std::string>("sign_public");
  hub.region = keys->getValue<std::string>("region");
  return hub;
}

// Makes `member` a federation member of `hub`; dialled when `dial`.
void AddMember(const Hub& hub, const Hub& member, bool dial) {
  std::string add = "peers add --dir " + hub.dir.string() + " --name " + member.name +
                    " --region " + member.region + " --curve-key '" + member.curve_public +
                    "' --sign-key " + member.sign_public;
  if (dial) add += " --endpoint " + member.endpoint();
  Carehub(add);
}

void Ingest(const Hub& hub, const TempDir& tmp, int rows, int seed) {
  const fs::path file = tmp / ("sh_" + std::to_string(seed) + ".csv");
  Carehub("gen --region sh --kind assessment --rows " + std::to_string(rows) + " --seed " +
          std::to_string(seed) + " --defect-rate 0 --out " + file.string());
  Carehub("ingest --dir " + hub.dir.string() + " --batch-size 1000 --profile shanghai/assessment " +
          file.string());
}

std::optional<OriginDigest> DigestOf(const Hub& hub, const std::string& origin) {
  Store store = Store::Open(hub.dir);
  auto digests = ComputeDigests(store, origin);
  if (digests.empty() || digests[0].records == 0) return std::nullopt;
  return digests[0];
}

std::int64_t Count(const Hub& hub, const std::string& sql) {
  Store store = Store::Open(hub.dir);
  return store.db().QueryInt(sql).value_or(-1);
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

std::unique_ptr<Process> Serve(const Hub& hub) {
  auto process = std::make_unique<Process>(
      std::vector<std::string>{"serve", "--dir", hub.dir.string(), "--zmq", hub.endpoint()},
      hub.dir / "serve.log");
  return process;
}

// The repair tests' starting point: A (Shanghai) holding 3000 records, B (Jiangsu) dialling A and
// holding A's log through one `sync --once`; A dials B back when `a_dials_b`.
struct SyncedPair {
  Hub a, b;
  std::optional<OriginDigest> original;  // A's digest of its origin
};

SyncedPair IngestAndSyncPair(const TempDir& tmp, bool a_dials_b) {
  SyncedPair pair{MakeHub(tmp, "a", "sh"), {}, std::nullopt};
  pair.b = MakeHub(tmp, "b", "js", pair.a);
  AddMember(pair.a, pair.b, a_dials_b);
  AddMember(pair.b, pair.a, true);
  Ingest(pair.a, tmp, 3000, 7);
  pair.original = DigestOf(pair.a, "310000");
  auto serve_a = Serve(pair.a);
  Carehub("sync --once --dir " + pair.b.dir.string());
  return pair;
}

// Changes the last byte of the body of origin 310000's entry `seq` in `hub`'s change log.
void DamageLogBody(const Hub& hub, std::int64_t seq) {
  sqlite::Database db((hub.dir / "carehub.db").string());
  db.Exec(
      "UPDATE changes SET body = substr(body, 1, length(body) - 1) || x'00' "
      "WHERE origin = '310000' AND seq = " +
      std::to_string(seq));
}

TEST(ExchangeProcessTest, ThreeHubsRelayThroughTheCliAndRetractionsFollow) {
  TempDir tmp;
  const Hub a = MakeHub(tmp, "a", "sh");
  const Hub b = MakeHub(tmp, "b", "js", a);
  const Hub c = MakeHub(tmp, "c", "gd", a);
  AddMember(a, b, false);  // B may connect to A
  AddMember(b, a, true);   // B dials A
  AddMember(b, c, false);  // C may connect to B
  AddMember(c, b, true);   // C dials only B ...
  AddMember(c, a, false);  // ... and trusts A as an origin without ever dialling it
  Ingest(a, tmp, 1500, 1);
  const auto origin_a = DigestOf(a, "310000");
  ASSERT_TRUE(origin_a.has_value());

  auto serve_a = Serve(a);
  auto serve_b = Serve(b);
  ASSERT_TRUE(WaitFor([&] { return DigestOf(b, "310000") == origin_a; }, 60s)) << serve_b->Log();

  std::string out;
  ASSERT_EQ(Carehub("sync --once --dir " + c.dir.string(), &out), 0);
  EXPECT_NE(out.find("origin=310000"), std::string::npos) << out;
  EXPECT_EQ(DigestOf(c, "310000"), origin_a);
  // C holds A's log verbatim: the whole chain and A's signed head verify with A's key.
  {
    Store store = Store::Open(c.dir);
    EXPECT_EQ(VerifyStoredLog(store.db(), "310000", ParseSignPublicKey(a.sign_public)),
              std::nullopt);
  }

  // A retracts one of its records; B (serving) follows by itself, C on its next sync.
  std::string retracted;
  {
    Store store = Store::Open(a.dir);
    sqlite::Statement first(store.db(), "SELECT record_id FROM records ORDER BY record_id LIMIT 1");
    ASSERT_TRUE(first.Step());
    retracted = first.ColumnText(0);
    first.Reset();
    ASSERT_EQ(store.Retract(retracted), 2);
  }
  const auto after = DigestOf(a, "310000");
  ASSERT_NE(after, origin_a);
  ASSERT_TRUE(WaitFor([&] { return DigestOf(b, "310000") == after; }, 30s)) << serve_b->Log();
  ASSERT_EQ(Carehub("sync --once --dir " + c.dir.string()), 0);
  EXPECT_EQ(DigestOf(c, "310000"), after);
  Store store = Store::Open(c.dir);
  const auto record = store.RecordById(retracted);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, RecordStatus::kRetracted);
  EXPECT_EQ(record->version, 2);

  // Digest command output is identical on the three hubs for A's origin.
  std::string line_a, line_c;
  Carehub("digest --origin sh --dir " + a.dir.string(), &line_a);
  Carehub("digest --origin sh --dir " + c.dir.string(), &line_c);
  EXPECT_EQ(line_a, line_c);
}

TEST(ExchangeProcessTest, SyncKilledMidPullResumesWithNothingLostOrDoubled) {
  TempDir tmp;
  const Hub a = MakeHub(tmp, "a", "sh");
  const Hub b = MakeHub(tmp, "b", "zj", a);
  AddMember(a, b, false);
  AddMember(b, a, true);
  Ingest(a, tmp, 12000, 3);
  const auto origin_a = DigestOf(a, "310000");
  ASSERT_TRUE(origin_a.has_value());
  auto serve_a = Serve(a);

  const std::string held = "SELECT count(*) FROM changes WHERE origin = '310000'";
  {
    Process sync({"sync", "--once", "--max-batch", "300", "--dir", b.dir.string()},
                 tmp / "sync1.log");
    ASSERT_TRUE(WaitFor([&] { return Count(b, held) >= 600; }, 60s)) << sync.Log();
    sync.Signal(SIGKILL);
    EXPECT_EQ(sync.Wait(), 128 + SIGKILL);
  }
  const std::int64_t partial = Count(b, held);
  EXPECT_LT(partial, origin_a->records) << "the pull finished before the kill: make A larger";
  // Whole batches only, consistent with the stored head, and an intact database.
  EXPECT_EQ(Count(b, "SELECT seq FROM heads WHERE origin = '310000'"), partial);
  EXPECT_EQ(Count(b, "SELECT count(*) FROM records WHERE origin = '310000'"), partial);
  {
    Store store = Store::Open(b.dir);
    sqlite::Statement check(store.db(), "PRAGMA integrity_check");
    ASSERT_TRUE(check.Step());
    EXPECT_EQ(check.ColumnText(0), "ok");
    check.Reset();
    EXPECT_EQ(VerifyStoredLog(store.db(), "310000", ParseSignPublicKey(a.sign_public)),
              std::nullopt);
  }

  ASSERT_EQ(Carehub("sync --once --dir " + b.dir.string()), 0);
  EXPECT_EQ(DigestOf(b, "310000"), origin_a);
  EXPECT_EQ(Count(b, held), origin_a->seq);
  EXPECT_EQ(Count(b, "SELECT count(*) FROM records WHERE origin = '310000'"), origin_a->records);
  // No record twice (ids are unique by the writers' lookups, not by a constraint), and the
  // person index holds exactly what A's does.
  EXPECT_EQ(Count(b,
                  "SELECT count(*) FROM (SELECT record_id FROM records GROUP BY record_id "
                  "HAVING count(*) > 1)"),
            0);
  const std::string persons = "SELECT count(*) FROM record_persons";
  EXPECT_GT(Count(a, persons), 0);
  EXPECT_EQ(Count(b, persons), Count(a, persons));
}

TEST(ExchangeProcessTest, NewRecordsArriveByNotificationNotPolling) {
  TempDir tmp;
  const Hub a = MakeHub(tmp, "a", "sh");
  const Hub b = MakeHub(tmp, "b", "ah", a);
  AddMember(a, b, false);
  AddMember(b, a, true);
  Ingest(a, tmp, 300, 5);
  auto serve_a = Serve(a);
  auto serve_b = Serve(b);
  ASSERT_TRUE(WaitFor([&] { return DigestOf(b, "310000") == DigestOf(a, "310000"); }, 60s))
      << serve_b->Log();
  // Let both sides settle into idle (heartbeats only), then change A from another process.
  std::this_thread::sleep_for(1500ms);
  Ingest(a, tmp, 200, 6);
  const auto changed = Clock::now();
  const auto target = DigestOf(a, "310000");
  ASSERT_TRUE(WaitFor([&] { return DigestOf(b, "310000") == target; }, 30s)) << serve_b->Log();
  const auto latency =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - changed);
  // The periodic refresh of a peer's heads is 10 s; NOTIFY brings the change within ~1 s (plus
  // the apply time of 200 records under the sanitizers).
  EXPECT_LT(latency.count(), 3000) << serve_b->Log();
}

// Builds a writer schema one version newer than the builtin assessment schema: an added
// optional field (default null) at the end, as a later carehub release would ship it.
std::string NewerAssessmentSchema() {
  Poco::JSON::Parser parser;
  auto schema =
      parser.parse(SchemaFor(RecordKind::kAssessment).json).extract<Poco::JSON::Object::Ptr>();
  Poco::JSON::Object::Ptr field = new Poco::JSON::Object;
  field->set("name", "care_plan_ref");
  Poco::JSON::Array::Ptr type = new Poco::JSON::Array;
  type->add("null");
  type->add("string");
  field->set("type", type);
  field->set("default", Poco::Dynamic::Var());
  schema->getArray("fields")->add(field);
  std::ostringstream out;
  schema->stringify(out);
  return out.str();
}

// Appends one assessment written with the newer schema (with the added field set) to the own
// log of the hub at `dir`, as a newer carehub's ingest would.
void AppendNewerRecord(const fs::path& dir, const std::string& json, int i) {
  const std::uint64_t fingerprint = Crc64Avro(ParsingCanonicalForm(json));
  CanonicalRecord record = testing::TestAssessment(i);
  std::string body = {'\xC3', '\x01'};
  for (int b = 0; b < 8; ++b) body.push_back(static_cast<char>((fingerprint >> (8 * b)) & 0xFF));
  EncodeBody(record, body);
  const std::string note = "CP-2024-7";
  body.push_back('\x02');                              // union branch 1: string
  body.push_back(static_cast<char>(note.size() * 2));  // zigzag length
  body += note;
  Store store = Store::Open(dir);
  store.RememberSchema(fingerprint, "carehub.v1.Assessment", json);
  sqlite::Transaction tx(store.db());
  ChangeLogWriter log(store.db(), store.region());
  const std::int64_t seq =
      log.Append(record.record_id, ChangeOp::kUpsert, 1, body, RecordHash(body));
  sqlite::Statement insert(store.db(),
                           "INSERT INTO records(record_id, record_key, kind, origin, version, "
                           "status, seq, fingerprint) "
                           "VALUES(?, ?, 'assessment', ?, 1, 'ACTIVE', ?, ?)");
  insert.Bind(1, record.record_id)
      .Bind(2, RecordKey(record.record_id))
      .Bind(3, store.region())
      .Bind(4, seq)
      .Bind(5, static_cast<std::int64_t>(fingerprint))
      .Run();
  log.StoreSignedHead(store.keys());
  tx.Commit();
}

TEST(ExchangeProcessTest, NewerSchemaVersionExchangesWithOlderHubBothWays) {
  TempDir tmp;
  const Hub newer = MakeHub(tmp, "newer", "sh");
  const Hub older = MakeHub(tmp, "older", "js", newer);
  AddMember(newer, older, true);
  AddMember(older, newer, true);
  Ingest(newer, tmp, 50, 7);  // records of the builtin schema ...
  const std::string json = NewerAssessmentSchema();
  const std::uint64_t fingerprint = Crc64Avro(ParsingCanonicalForm(json));
  ASSERT_FALSE(SchemaJsonByFingerprint(fingerprint).has_value());
  AppendNewerRecord(newer.dir, json, 900001);  // ... and two written with the newer one
  AppendNewerRecord(newer.dir, json, 900002);
  // The older hub ingests its own records (builtin schema) for the other direction.
  {
    Store store = Store::Open(older.dir);
    IngestSink sink(store, "/data/js.csv", "sha-js", "jiangsu/assessment", {.batch_size = 100});
    for (int i = 0; i < 40; ++i) sink.Accept(testing::TestAssessment(i, "320000"));
    sink.Finish();
  }

  auto serve_newer = Serve(newer);
  auto serve_older = Serve(older);
  const auto newer_origin = DigestOf(newer, "310000");
  const auto older_origin = DigestOf(older, "320000");
  ASSERT_TRUE(WaitFor([&] { return DigestOf(older, "310000") == newer_origin; }, 60s))
      << serve_older->Log();
  ASSERT_TRUE(WaitFor([&] { return DigestOf(newer, "320000") == older_origin; }, 60s))
      << serve_newer->Log();

  // The older hub fetched the writer schema by fingerprint, kept it, and reads the records by
  // Avro schema resolution (the added field is skipped, the rest decodes).
  Store store = Store::Open(older.dir);
  EXPECT_EQ(store.db().QueryInt("SELECT count(*) FROM schemas WHERE fingerprint = " +
                                std::to_string(static_cast<std::int64_t>(fingerprint))),
            1);
  const std::string id = testing::TestAssessment(900001).record_id;
  const auto stored = store.RecordById(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->fingerprint, fingerprint);
  EXPECT_EQ(stored->pivot_level, 900001 % 5);  // lookup columns filled by resolution
  RegisterWriterSchema(json);
  const CanonicalRecord decoded = DecodeSingleObject(stored->body);
  EXPECT_EQ(decoded.record_id, id);
  EXPECT_EQ(std::get<Assessment>(decoded.body),
            std::get<Assessment>(testing::TestAssessment(900001).body));
}

TEST(ExchangeProcessTest, HubWhoseCurveKeyIsNotAMemberIsRefused) {
  TempDir tmp;
  const Hub a = MakeHub(tmp, "a", "sh");
  const Hub d = MakeHub(tmp, "d", "mo", a);
  AddMember(d, a, true);  // D dials A, but A never made D a member
  Ingest(a, tmp, 100, 9);
  auto serve_a = Serve(a);
  std::string out;
  const int status = testing::RunCommand(
      testing::CarehubBinary() + " sync --once --timeout 4 --dir " + d.dir.string() + " 2>&1",
      &out);
  EXPECT_NE(status, 0) << out;
  EXPECT_EQ(Count(d, "SELECT count(*) FROM changes"), 0);
  EXPECT_EQ(Count(d, "SELECT count(*) FROM heads"), 0);
  ASSERT_TRUE(
      WaitFor([&] { return serve_a->Log().find(d.curve_public) != std::string::npos; }, 5s));
  const std::string log = serve_a->Log();
  EXPECT_NE(log.find("refused"), std::string::npos) << log;
}

// Issue 17: a relay killed with SIGKILL and restarted while a hub pulls from it. It is stopped
// first (SIGSTOP) so that a PULL is surely in flight; that PULL is lost with the process. The
// puller notices by the PONG to a later PING (or its 2 s Lazy Pirate timeout, or its 2 s
// silent-link timeout) and resumes within a few seconds, not after the old 20 s. The bound is
// generous (10 s from the restart, which includes starting the relay process) so that a loaded
// machine does not fail it; the unanswered-PULL wait it guards against was 20 s.
TEST(ExchangeProcessTest, APullerResumesWithinSecondsWhenItsRelayIsKilledAndRestarted) {
  TempDir tmp;
  const Hub a = MakeHub(tmp, "a", "sh");
  const Hub b = MakeHub(tmp, "b", "js", a);
  const Hub c = MakeHub(tmp, "c", "gd", a);
  AddMember(a, b, false);
  AddMember(b, a, true);
  AddMember(b, c, false);
  AddMember(c, b, true);
  AddMember(c, a, false);
  // C, which nobody dials, keeps its group of relayed batches open to the group target (its first
  // commit shows 20000 entries at once) and then pulls the rest within a fraction of a second:
  // A is large and C's pulls small enough that B is stopped while C still needs most of it.
  Ingest(a, tmp, 60000, 5);
  const auto origin_a = DigestOf(a, "310000");
  ASSERT_TRUE(origin_a.has_value());
  {
    auto serve_a = Serve(a);
    ASSERT_EQ(Carehub("sync --once --dir " + b.dir.string()), 0);
  }
  ASSERT_EQ(DigestOf(b, "310000"), origin_a);

  const std::string held = "SELECT count(*) FROM changes WHERE origin = '310000'";
  auto serve_b = Serve(b);
  Process serve_c({"serve", "--dir", c.dir.string(), "--zmq", c.endpoint(), "--max-batch", "100"},
                  tmp / "serve_c.log");
  // Polled with a bare read-only connection: opening a Store per poll is too slow here.
  const auto held_by_c = [&] {
    sqlite::DatabaseOptions read_only;
    read_only.mode = sqlite::OpenMode::kReadOnly;
    sqlite::Database db((c.dir / "carehub.db").string(), read_only);
    return db.QueryInt(held).value_or(0);
  };
  {
    ASSERT_TRUE(WaitFor([&] { return held_by_c() >= 2000; }, 60s)) << serve_c.Log();
    serve_b->Signal(SIGSTOP);
    std::this_thread::sleep_for(200ms);
    const std::int64_t before = held_by_c();
    serve_b->Signal(SIGKILL);
    serve_b->Wait();
    ASSERT_LT(before, origin_a->seq) << "C finished before the kill: make A larger";
    std::this_thread::sleep_for(300ms);
    const auto restarted = Clock::now();
    serve_b = Serve(b);
    ASSERT_TRUE(WaitFor([&] { return held_by_c() > before; }, 30s)) << serve_c.Log();
    const double resumed = std::chrono::duration<double>(Clock::now() - restarted).count();
    std::cout << "resumed " << resumed << " s after the restart at " << before << " entries\n";
    EXPECT_LT(resumed, 10.0) << serve_c.Log();
  }
  ASSERT_TRUE(WaitFor([&] { return DigestOf(c, "310000") == origin_a; }, 60s)) << serve_c.Log();
}

// Issue 17: `carehub verify --repair` on a hub whose OWN log has a damaged body (its only copy)
// fetches the damaged range back from a serving member that holds a copy, proves it against the
// hub's own signed heads and rewrites it: the store verifies and the digest is the original.
TEST(ExchangeProcessTest, VerifyRepairFetchesADamagedOwnLogBackFromAMember) {
  TempDir tmp;
  const auto [a, b, original] = IngestAndSyncPair(tmp, true);
  ASSERT_TRUE(original.has_value());
  ASSERT_EQ(DigestOf(b, "310000"), original);
  DamageLogBody(a, 1234);
  ASSERT_NE(DigestOf(a, "310000"), original);
  std::string out;
  const int unsound = testing::RunCommand(
      testing::CarehubBinary() + " verify --dir " + a.dir.string() + " 2>&1", &out);
  EXPECT_EQ(unsound, 3) << out;

  auto serve_b = Serve(b);
  const int status = Carehub("verify --repair --timeout 60 --dir " + a.dir.string(), &out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("rewritten from peer b's copy"), std::string::npos) << out;
  EXPECT_NE(out.find("after repair: sound"), std::string::npos) << out;
  EXPECT_EQ(DigestOf(a, "310000"), original);
}

// Issue 17: `carehub verify --repair` on a relay whose copy of another origin's log has a damaged
// body proves the damaged range from a member's copy and rewrites it in place, as serve does
// (nothing cut); with no member answering it says so and leaves the log as it is; only --cut
// cuts it back to its last sound signed head, and the next sync pulls the rest again.
TEST(ExchangeProcessTest, VerifyRepairRewritesARelayedLogInPlaceAndCutsOnlyWhenAsked) {
  TempDir tmp;
  const auto [a, b, original] = IngestAndSyncPair(tmp, false);
  ASSERT_TRUE(original.has_value());
  ASSERT_EQ(DigestOf(b, "310000"), original);
  auto serve_a = Serve(a);
  const std::string held_entries = "SELECT count(*) FROM changes WHERE origin = '310000'";
  DamageLogBody(b, 1234);
  ASSERT_NE(DigestOf(b, "310000"), original);
  std::string out;
  EXPECT_EQ(Carehub("verify --repair --timeout 60 --dir " + b.dir.string(), &out), 0);
  EXPECT_NE(out.find("repair: origin=310000 log repaired in place from a member's copy (nothing "
                     "cut)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("rewritten from peer a's copy; nothing cut"), std::string::npos) << out;
  EXPECT_NE(out.find("after repair: sound"), std::string::npos) << out;
  EXPECT_EQ(DigestOf(b, "310000"), original);

  serve_a.reset();  // no member answers now
  DamageLogBody(b, 1234);
  const std::string verify = testing::CarehubBinary() + " verify --repair --dir " + b.dir.string();
  EXPECT_EQ(testing::RunCommand(verify + " 2>&1", &out), 3) << out;
  EXPECT_NE(out.find("repair: origin=310000 log not repaired: no member that answers holds origin "
                     "310000 beyond seq 1233"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("left as it is (--repair --cut cuts it"), std::string::npos) << out;
  EXPECT_EQ(Count(b, held_entries), 3000);  // nothing cut

  EXPECT_EQ(testing::RunCommand(verify + " --cut 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("repair: origin=310000 no member's copy could be used"), std::string::npos)
      << out;
  EXPECT_NE(out.find("log cut back to seq"), std::string::npos) << out;
  EXPECT_LT(Count(b, held_entries), 1234);
  serve_a = Serve(a);
  ASSERT_EQ(Carehub("sync --once --dir " + b.dir.string()), 0);
  EXPECT_EQ(DigestOf(b, "310000"), original);
}

}  // namespace
}  // namespace carehub
