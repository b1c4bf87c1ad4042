// Issue 12, the HTTP API against a hostile client on loopback: connection caps and the request
// deadline (slow clients no longer starve /health), request framing (short bodies, CL + TE,
// bad lengths) and the response hygiene (reason phrases, nosniff, no-store, CSP). Raw sockets
// where Poco's client would refuse to misbehave.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "connectors/connector.h"
#include "connectors/generator.h"
#include "connectors/identifiers.h"
#include "hub/http/api_tokens.h"
#include "hub/http/server.h"
#include "hub/publish/publish.h"
#include "hub/store/ingest.h"
#include "hub/store/migrations.h"
#include "hub/store/published_files.h"
#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A Shanghai hub with 40 assessments, a department token of its own and a CSV to upload.
struct SecurityHub {
  testing::TempDir tmp;
  fs::path hub = tmp / "hub";
  fs::path upload = tmp / "upload.csv";
  std::map<std::string, std::string> tokens;

  SecurityHub() {
    Store store = Store::Init(hub, InitOptions{"sh", std::nullopt, {}});
    ConnectorEngine engine(EngineOptionsFor(store));
    const fs::path first = tmp / "first.csv";
    for (const auto& [path, seed] : {std::pair{first, 21}, std::pair{upload, 22}}) {
      GeneratorOptions options;
      options.rows = 40;
      options.seed = static_cast<std::uint64_t>(seed);
      options.defect_rate = 0;
      // Two kinds: generated source ids repeat across seeds.
      Generator(engine.FindProfile(path == first ? "shanghai/caregiver" : "shanghai/assessment"),
                options)
          .Write(path.string());
    }
    IngestOptions options;
    options.profile = "shanghai/caregiver";
    Ingester(store, engine).IngestFile(first.string(), options);
    tokens["department"] = CreateApiToken(store, Role::kDepartment, "sh", NowMs()).token;
    tokens["auditor"] = CreateApiToken(store, Role::kAuditor, std::nullopt, NowMs()).token;
  }

  std::int64_t Records() const {
    Store store = Store::Open(hub);
    return *store.db().QueryInt("SELECT count(*) FROM records");
  }
};

// A connection to 127.0.0.1:port from the loopback address `source` (Linux routes all of
// 127.0.0.0/8 to lo, so 127.0.0.2 is another client address).
Poco::Net::StreamSocket ConnectFrom(const std::string& source, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ADD_FAILURE() << "cannot connect from " << source;
  }
  return Poco::Net::StreamSocket(new Poco::Net::StreamSocketImpl(fd));
}

// Sends `bytes` on a fresh connection from `source` (half-closing after it when asked) and
// returns everything answered until the server closes or `wait` passes.
std::string RawExchange(std::uint16_t port, const std::string& bytes, bool half_close = true,
                        const std::string& source = "127.0.0.1",
                        Poco::Timespan wait = Poco::Timespan(10, 0)) {
  Poco::Net::StreamSocket socket = ConnectFrom(source, port);
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  if (half_close) socket.shutdownSend();
  socket.setReceiveTimeout(wait);
  std::string answer;
  char buffer[4096];
  try {
    for (;;) {
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) break;
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  return answer;
}

std::string StatusLine(const std::string& answer) { return answer.substr(0, answer.find("\r\n")); }

struct Timed {
  int status = 0;
  std::string reason;
  double seconds = 0;
  Poco::Net::HTTPResponse response;
};

Timed Get(std::uint16_t port, const std::string& target, const std::string& token = "") {
  const auto start = Clock::now();
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) request.set("Authorization", "Bearer " + token);
  session.sendRequest(request);
  Timed out;
  std::istream& in = session.receiveResponse(out.response);
  std::string body;
  Poco::StreamCopier::copyToString(in, body);
  out.status = static_cast<int>(out.response.getStatus());
  out.reason = out.response.getReason();
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

class HttpSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hub_ = new SecurityHub; }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  static SecurityHub* hub_;
};
SecurityHub* HttpSecurityTest::hub_ = nullptr;

// 250 connections from 127.0.0.1 that send one header line and then nothing: before issue 12
// 16 of them held every server thread and /health waited for them (60 s per read).
TEST_F(HttpSecurityTest, SlowConnectionsFromOneAddressDoNotStarveOthers) {
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  constexpr int kSlow = 250;
  std::vector<Poco::Net::StreamSocket> slow;
  const auto opened = Clock::now();
  for (int i = 0; i < kSlow; ++i) {
    Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", api.port()));
    const std::string line = "GET /health HTTP/1.1\r\n";
    socket.sendBytes(line.data(), static_cast<int>(line.size()));
    slow.push_back(socket);
  }
  const auto asked = Clock::now();
  const std::string health =
      RawExchange(api.port(), "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                  /*half_close=*/false, "127.0.0.2");
  const double seconds = std::chrono::duration<double>(Clock::now() - asked).count();
  EXPECT_EQ(StatusLine(health), "HTTP/1.1 200 OK") << health;
  EXPECT_LT(seconds, 1.0) << "a new client waited behind " << kSlow << " slow ones";
  // The excess was answered 503 at once, not queued.
  int answered_503 = 0;
  for (auto& socket : slow) {
    socket.setReceiveTimeout(Poco::Timespan(0, 200000));
    char buffer[512];
    try {
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n > 12 && std::string(buffer, 12) == "HTTP/1.1 503") ++answered_503;
    } catch (const Poco::TimeoutException&) {
    }
  }
  EXPECT_GE(answered_503, kSlow - HttpOptions{}.max_connections_per_address);
  EXPECT_GE(api.connections_refused(), kSlow - HttpOptions{}.max_connections_per_address);
  std::cerr << "[ measured ] " << kSlow << " slow connections opened in "
            << std::chrono::duration<double>(Clock::now() - opened).count() << " s; /health from "
            << "another address answered in " << seconds * 1000 << " ms; " << answered_503
            << " answered 503\n";
}

// A client that sends a header line every 300 ms would hold its thread for ever (each read is
// in time); the request deadline ends it.
TEST_F(HttpSecurityTest, RequestDeadlineEndsADribblingClient) {
  HttpOptions options;
  options.request_timeout_ms = 1000;
  HttpApi api(hub_->hub, options);
  api.Start("127.0.0.1", 0);
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", api.port()));
  socket.setReceiveTimeout(Poco::Timespan(0, 300000));
  const auto start = Clock::now();
  bool closed = false;
  std::string answer;
  for (int i = 0; i < 20 && !closed; ++i) {
    const std::string line =
        i == 0 ? "GET /health HTTP/1.1\r\n" : "X-Slow: " + std::to_string(i) + "\r\n";
    try {
      socket.sendBytes(line.data(), static_cast<int>(line.size()));
      char buffer[1024];
      const int n = socket.receiveBytes(buffer, sizeof buffer);
      if (n <= 0) closed = true;
      answer.append(buffer, static_cast<std::size_t>(std::max(n, 0)));
    } catch (const Poco::TimeoutException&) {
    } catch (const Poco::Exception&) {
      closed = true;
    }
    if (!answer.empty()) closed = true;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_TRUE(closed) << "still open after " << seconds << " s";
  EXPECT_LT(seconds, 3.5);
  if (!answer.empty()) {
    EXPECT_EQ(StatusLine(answer), "HTTP/1.1 408 Request Time-out") << answer;  // Poco's phrase
  }
}

// Half of the announced body, then the client closes its side: before issue 12 the upload was
// answered 200 and ingested.
TEST_F(HttpSecurityTest, ShortUploadIs400AndCommitsNothing) {
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  const std::int64_t before = hub_->Records();
  const std::string body = ReadAll(hub_->upload);
  const std::string half = body.substr(0, body.size() / 2);
  const std::string head =
      "POST /v1/ingest?profile=shanghai/assessment HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      hub_->tokens.at("department") + "\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n";
  const std::string answer = RawExchange(api.port(), head + half);
  EXPECT_EQ(StatusLine(answer), "HTTP/1.1 400 Bad Request") << answer;
  EXPECT_NE(answer.find("incomplete_body"), std::string::npos) << answer;
  EXPECT_EQ(hub_->Records(), before);
  // Nothing left behind in uploads/ either.
  for (const auto& entry : fs::directory_iterator(hub_->hub / "uploads")) {
    ADD_FAILURE() << "left behind: " << entry.path();
  }
  // The whole body is ingested.
  const std::string whole = RawExchange(api.port(), head + body);
  EXPECT_EQ(StatusLine(whole), "HTTP/1.1 200 OK") << whole;
  EXPECT_GT(hub_->Records(), before);
}

TEST_F(HttpSecurityTest, AmbiguousFramingIs400) {
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  const std::string auth = "Authorization: Bearer " + hub_->tokens.at("department") + "\r\n";
  const std::string post = "POST /v1/recognitions HTTP/1.1\r\nHost: x\r\n" + auth;
  const std::map<std::string, std::string> cases = {
      {"CL+TE", post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"negative", post + "Content-Length: -5\r\n\r\n"},
      {"not a number", post + "Content-Length: 12abc\r\n\r\n"},
      {"two lengths", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"},
      {"gzip coding", post + "Transfer-Encoding: gzip\r\n\r\n"},
  };
  for (const auto& [name, request] : cases) {
    const std::string answer = RawExchange(api.port(), request);
    EXPECT_EQ(StatusLine(answer), "HTTP/1.1 400 Bad Request") << name << ": " << answer;
  }
}

TEST_F(HttpSecurityTest, StatusLinesCarryTheirReasonPhrase) {
  HttpOptions options;
  options.max_json_bytes = 16;
  HttpApi api(hub_->hub, options);
  api.Start("127.0.0.1", 0);
  const std::string auth = "Authorization: Bearer " + hub_->tokens.at("department") + "\r\n";
  const std::map<std::string, std::string> cases = {
      {"HTTP/1.1 200 OK", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/1.1 401 Unauthorized", "GET /v1/records HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/1.1 404 Not Found", "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/1.1 405 Method Not Allowed", "DELETE /health HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"HTTP/1.1 413 Request Entity Too Large", "POST /v1/recognitions HTTP/1.1\r\nHost: x\r\n" +
                                                    auth + "Content-Length: 100\r\n\r\n" +
                                                    std::string(100, ' ')},
  };
  for (const auto& [status_line, request] : cases) {
    EXPECT_EQ(StatusLine(RawExchange(api.port(), request)), status_line);
  }
}

TEST_F(HttpSecurityTest, ResponsesCarryNosniffCspAndNoStoreOnPersonalData) {
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  const Timed health = Get(api.port(), "/health");
  EXPECT_EQ(health.response.get("X-Content-Type-Options", ""), "nosniff");
  const std::string csp = health.response.get("Content-Security-Policy", "");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  for (const std::string target : {"/v1/records?limit=2", "/v1/quarantine"}) {
    const Timed personal = Get(api.port(), target, hub_->tokens.at("department"));
    EXPECT_EQ(personal.status, 200) << target;
    EXPECT_EQ(personal.response.get("Cache-Control", ""), "no-store") << target;
    EXPECT_EQ(personal.response.get("X-Content-Type-Options", ""), "nosniff") << target;
  }
}

// The dataset route against names that lead out of the release: `..`, absolute, a symlink to the
// live database, a file that publication did not record, a recorded file changed since. Before
// issue 12 a catalog naming ../../hub/carehub.db got the database served, and closing that second
// descriptor dropped SQLite's POSIX locks in the serving process. Afterwards, a token revoked by
// another process is refused and the database is intact.
TEST_F(HttpSecurityTest, DatasetFilesStayInsideTheReleaseAndLocksSurvive) {
  const fs::path release = hub_->tmp / "open" / "hostile";
  fs::create_directories(release);
  const std::string good = "region,count\n310000,42\n";
  std::ofstream(release / "good.csv") << good;
  std::ofstream(release / "changed.csv") << "region,count\n310000,43\n";
  std::ofstream(release / "unrecorded.csv") << good;
  fs::create_symlink(hub_->hub / "carehub.db", release / "evil.csv");
  fs::create_directory_symlink(hub_->hub, release / "hubdir");
  const std::string catalog =
      R"({"title":"hostile","distribution":[{"downloadURL":"good.csv"},)"
      R"({"downloadURL":"../../hub/carehub.db"},{"downloadURL":"evil.csv"},)"
      R"({"downloadURL":"unrecorded.csv"},{"downloadURL":"hubdir/carehub.db"},)"
      R"({"downloadURL":")" +
      (hub_->hub / "carehub.db").string() + R"("}]})";
  std::ofstream(release / "catalog.json") << catalog;
  {
    Store store = Store::Open(hub_->hub);
    // With a series: a current release (one without is withdrawn and serves no file at all).
    sqlite::Statement insert(store.db(),
                             "INSERT INTO published_releases(release, path, catalog_sha256, "
                             "published_at, series) VALUES('hostile', ?, ?, 0, 'hostile')");
    insert.Bind(1, release.string()).Bind(2, Sha256HexOf(catalog));
    insert.Run();
    const std::string db = ReadAll(hub_->hub / "carehub.db");  // a copy of it, for the record
    RecordPublishedFiles(store.db(), "hostile",
                         {{"good.csv", good},
                          {"changed.csv", good},
                          {"evil.csv", db},
                          {"hubdir/carehub.db", db},
                          {"../../hub/carehub.db", db},
                          {(hub_->hub / "carehub.db").string(), db}});
  }
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  const std::string auditor = hub_->tokens.at("auditor");
  EXPECT_EQ(Get(api.port(), "/v1/records?limit=1", auditor).status, 200);
  EXPECT_EQ(Get(api.port(), "/v1/datasets/hostile/files/good.csv").status, 200);
  for (const std::string& name : std::vector<std::string>{
           "..%2F..%2Fhub%2Fcarehub.db", "../../hub/carehub.db", "evil.csv", "hubdir/carehub.db",
           "unrecorded.csv", "changed.csv", "%2F" + (hub_->hub / "carehub.db").string().substr(1),
           "good.csv%00"}) {
    EXPECT_EQ(Get(api.port(), "/v1/datasets/hostile/files/" + name).status, 404) << name;
  }
  // Another process revokes the auditor's token; the server must see it at once.
  std::string out;
  const std::string id = auditor.substr(4, 16);
  ASSERT_EQ(testing::RunCommand(testing::CarehubBinary() + " tokens revoke --dir " +
                                    hub_->hub.string() + " --id " + id + " 2>&1",
                                &out),
            0)
      << out;
  EXPECT_EQ(Get(api.port(), "/v1/records?limit=1", auditor).status, 401);
  api.Stop();
  Store store = Store::Open(hub_->hub);
  sqlite::Statement check(store.db(), "PRAGMA integrity_check");
  ASSERT_TRUE(check.Step());
  EXPECT_EQ(check.ColumnText(0), "ok");
  hub_->tokens["auditor"] = CreateApiToken(store, Role::kAuditor, std::nullopt, NowMs()).token;
}

// `carehub publish` records every file of a release with its SHA-256; the route serves them.
TEST_F(HttpSecurityTest, PublishedFilesAreRecordedAndServed) {
  PublishSummary summary;
  {
    Store store = Store::Open(hub_->hub);
    PublishOptions options;
    options.out_dir = hub_->tmp / "published";
    summary = Publish(store, options, NowMs());
    EXPECT_EQ(*store.db().QueryInt("SELECT count(*) FROM published_files WHERE release = '" +
                                   summary.release + "'"),
              summary.files);
  }
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  for (const std::string name : {"catalog.json", "facilities_by_prefecture_grade.csv"}) {
    const Timed file = Get(api.port(), "/v1/datasets/" + summary.release + "/files/" + name);
    EXPECT_EQ(file.status, 200) << name;
  }
  EXPECT_EQ(Get(api.port(), "/v1/datasets/" + summary.release).status, 200);
}

// A Shanghai department may not upload a Zhejiang export: before issue 12 its records were
// stored with origin 310000. A district token (310115) may not write the rest of the province.
TEST_F(HttpSecurityTest, WritesOnlyWithOwnProfilesAndOwnArea) {
  HttpApi api(hub_->hub, HttpOptions{});
  api.Start("127.0.0.1", 0);
  const fs::path zhejiang = hub_->tmp / "zhejiang.csv";
  std::string district;
  {
    Store store = Store::Open(hub_->hub);
    ConnectorEngine engine(EngineOptionsFor(store));
    GeneratorOptions options;
    options.rows = 20;
    options.seed = 5;
    options.defect_rate = 0;
    Generator(engine.FindProfile("zhejiang/assessment"), options).Write(zhejiang.string());
    district = CreateApiToken(store, Role::kDepartment, "310115", NowMs()).token;
  }
  const auto upload = [&](const std::string& token, const std::string& profile,
                          const fs::path& file) {
    const std::string body = ReadAll(file);
    return RawExchange(api.port(), "POST /v1/ingest?profile=" + profile +
                                       " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                                       "\r\nContent-Length: " + std::to_string(body.size()) +
                                       "\r\n\r\n" + body);
  };
  const std::int64_t before = hub_->Records();
  const std::string foreign =
      upload(hub_->tokens.at("department"), "zhejiang/assessment", zhejiang);
  EXPECT_EQ(StatusLine(foreign), "HTTP/1.1 403 Forbidden") << foreign;
  EXPECT_NE(foreign.find("\"field\":\"profile\""), std::string::npos) << foreign;
  const std::string outside = upload(district, "shanghai/assessment", hub_->upload);
  EXPECT_EQ(StatusLine(outside), "HTTP/1.1 403 Forbidden") << outside;
  EXPECT_NE(outside.find("outside 310115"), std::string::npos) << outside;
  EXPECT_EQ(hub_->Records(), before);
}

// A valid PRC resident id from the generated Shanghai assessment upload (4th CSV field).
std::string FirstIdentifier(const fs::path& csv) {
  std::istringstream lines(ReadAll(csv));
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::stringstream parts(line);
    std::string field;
    while (std::getline(parts, field, ',')) fields.push_back(field);
    if (fields.size() < 4) continue;
    const std::string id = NormaliseIdentifier(fields[3]);
    if (CheckIdentifier(IdScheme::kPrcResidentId, id) == IdCheck::kOk) return id;
  }
  return "";
}

std::string Post(std::uint16_t port, const std::string& target, const std::string& token,
                 const std::string& body) {
  return RawExchange(port, "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                               token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body);
}

// Before issue 12 any department or auditor token paged through every record without limit.
TEST_F(HttpSecurityTest, BulkReadsAreRateLimitedPerToken) {
  HttpOptions options;
  options.bulk_reads_per_minute = 6;
  options.bulk_read_burst = 3;
  HttpApi api(hub_->hub, options);
  api.Start("127.0.0.1", 0);
  const std::string auditor = hub_->tokens.at("auditor");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Get(api.port(), "/v1/records?limit=1", auditor).status, 200);
  const Timed limited = Get(api.port(), "/v1/records?limit=1", auditor);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.reason, "Too Many Requests");
  EXPECT_GE(std::stoi(limited.response.get("Retry-After", "0")), 1);
  // Another token has its own bucket; public routes are not limited.
  EXPECT_EQ(Get(api.port(), "/v1/records?limit=1", hub_->tokens.at("department")).status, 200);
  EXPECT_EQ(Get(api.port(), "/health").status, 200);
}

// Before issue 12 any region's department (and auditors) could turn an ID number into record
// ids, unlogged and unlimited.
TEST_F(HttpSecurityTest, IdentifierLookupNeedsPurposeIsLoggedAndLimited) {
  HttpOptions options;
  options.identifier_lookups_per_hour = 1;
  options.identifier_lookup_burst = 2;
  HttpApi api(hub_->hub, options);
  api.Start("127.0.0.1", 0);
  const std::string id = FirstIdentifier(hub_->upload);
  ASSERT_FALSE(id.empty());
  const std::string ask = R"({"identifier":")" + id + R"(","target":"gd")";
  const std::string purpose = R"(,"purpose":"relocation of the resident to Zhuhai"})";
  EXPECT_EQ(
      StatusLine(Post(api.port(), "/v1/recognitions", hub_->tokens.at("auditor"), ask + purpose)),
      "HTTP/1.1 403 Forbidden");
  const std::string unstated =
      Post(api.port(), "/v1/recognitions", hub_->tokens.at("department"), ask + "}");
  EXPECT_EQ(StatusLine(unstated), "HTTP/1.1 400 Bad Request");
  EXPECT_NE(unstated.find(R"("field":"purpose")"), std::string::npos) << unstated;
  std::int64_t before = 0;
  {
    Store store = Store::Open(hub_->hub);
    before = *store.db().QueryInt("SELECT count(*) FROM access_log");
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(StatusLine(Post(api.port(), "/v1/recognitions", hub_->tokens.at("department"),
                              ask + purpose)),
              "HTTP/1.1 200 OK");
  }
  const std::string limited =
      Post(api.port(), "/v1/recognitions", hub_->tokens.at("department"), ask + purpose);
  EXPECT_EQ(StatusLine(limited), "HTTP/1.1 429 Too Many Requests");
  EXPECT_NE(limited.find("Retry-After: "), std::string::npos);
  Store store = Store::Open(hub_->hub);
  EXPECT_EQ(*store.db().QueryInt("SELECT count(*) FROM access_log"), before + 2);
  sqlite::Statement last(store.db(),
                         "SELECT route, purpose, person_tokens FROM access_log ORDER BY seq DESC");
  ASSERT_TRUE(last.Step());
  EXPECT_EQ(last.ColumnText(0), "POST /v1/recognitions");
  EXPECT_EQ(last.ColumnText(1), "relocation of the resident to Zhuhai");
  EXPECT_EQ(last.ColumnText(2).size(), 64u) << "the person token of the identifier";
  EXPECT_EQ(last.ColumnText(2).find(id), std::string::npos);
}

// Reads of personal data are in the hash-chained access log; auditors list it over HTTP, and
// `carehub audit --id` answers "who read my records" for a resident; an edit breaks the chain.
TEST_F(HttpSecurityTest, AccessLogRecordsReadsAndAuditFindsThem) {
  HttpOptions options;
  options.access_log = true;
  HttpApi api(hub_->hub, options);
  api.Start("127.0.0.1", 0);
  const std::string department = hub_->tokens.at("department");
  ::testing::internal::CaptureStderr();
  std::vector<std::thread> readers;
  std::atomic<int> answered{0};  // a quick reconnect may meet the per-address cap (503, unlogged)
  for (int i = 0; i < 6; ++i) {
    readers.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (Get(api.port(), "/v1/records?limit=2", department).status == 200) ++answered;
      }
    });
  }
  for (auto& t : readers) t.join();
  api.Stop();  // the request line is written after the answer: let every thread finish
  const std::string log = ::testing::internal::GetCapturedStderr();
  api.Start("127.0.0.1", 0);
  // Whole lines only, each naming the token id.
  const std::string token_id = department.substr(4, 16);
  std::istringstream lines(log);
  std::string line;
  int request_lines = 0;
  const std::regex whole(R"(^GET /v1/records 200 \d+ms token=[0-9a-f]{16}$)");
  while (std::getline(lines, line)) {
    EXPECT_TRUE(std::regex_match(line, whole)) << "not a whole request line: " << line;
    EXPECT_NE(line.find(token_id), std::string::npos) << line;
    ++request_lines;
  }
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(request_lines, answered.load());

  const Timed audit = Get(api.port(), "/v1/audit?limit=1000", hub_->tokens.at("auditor"));
  EXPECT_EQ(audit.status, 200);
  EXPECT_EQ(audit.response.get("Cache-Control", ""), "no-store");
  EXPECT_EQ(Get(api.port(), "/v1/audit", department).status, 403);
  api.Stop();

  // The resident asks through the department: their identifier, hashed locally.
  const std::string id = FirstIdentifier(hub_->upload);
  std::string out;
  ASSERT_EQ(testing::RunCommand(testing::CarehubBinary() + " audit --dir " + hub_->hub.string() +
                                    " --id " + id + " 2>&1",
                                &out),
            0)
      << out;
  EXPECT_NE(out.find("chain verified"), std::string::npos) << out;
  EXPECT_EQ(out.find(id), std::string::npos) << "the identifier is never echoed";
  // Entries cannot be changed through SQL (triggers); a change behind their back breaks the chain.
  {
    Store store = Store::Open(hub_->hub);
    EXPECT_THROW(store.db().Exec("UPDATE access_log SET actor = 'nobody' WHERE seq = 1"), Error);
    EXPECT_THROW(store.db().Exec("DELETE FROM access_log WHERE seq = 1"), Error);
    store.db().Exec("DROP TRIGGER access_log_no_update");
    store.db().Exec("UPDATE access_log SET actor = 'nobody' WHERE seq = 1");
  }
  EXPECT_NE(testing::RunCommand(
                testing::CarehubBinary() + " audit --dir " + hub_->hub.string() + " 2>&1", &out),
            0);
  EXPECT_NE(out.find("BROKEN at entry 1"), std::string::npos) << out;
  {
    // Put the hub back for the other tests: the original actor, the trigger again.
    // The access log again, empty: migration step 9 once more (later steps stay applied).
    Store store = Store::Open(hub_->hub);
    store.db().Exec("DROP TABLE access_log_persons; DROP TABLE access_log");
    for (const Migration& step : Migrations()) {
      if (step.version == 9) store.db().Exec(step.sql);
    }
  }
  Store::Open(hub_->hub);
}

}  // namespace
}  // namespace carehub
