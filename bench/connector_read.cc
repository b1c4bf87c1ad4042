// bench_connector_read: the connector engine alone (read + decode GBK + validate + tokens +
// canonical records, no store) on a synthetic Shanghai assessment file (GBK CSV, Chinese
// headers), or on a given native file. Prints rows/s and peak RSS.
//   bench_connector_read [ROWS]                      generate ROWS rows (default 1000000)
//   bench_connector_read --file F --profile R/K      read an existing native file
// env: PIPELINED=1 (worker thread), SINK_WORK=n (n SHA-256 per record in the sink), KEEP=1.
#include <Poco/TextConverter.h>
#include <Poco/UTF8Encoding.h>
#include <Poco/Windows936Encoding.h>
#include <sodium.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "connectors/connector.h"
#include "connectors/identifiers.h"
#include "connectors/profile.h"

namespace {

std::string ToGbk(const std::string& utf8) {
  Poco::UTF8Encoding from;
  Poco::Windows936Encoding to;
  Poco::TextConverter conv(from, to);
  std::string out;
  conv.convert(utf8, out);
  return out;
}

std::string Prc(int i) {
  char body[18];
  std::snprintf(body, sizeof body, "310115%04d%02d%02d%03d", 1930 + i % 40, 1 + i % 12, 1 + i % 28,
                i % 1000);
  std::string id(body, 17);
  return id + carehub::PrcCheckCharacter(id);
}

void Generate(const std::string& path, int rows) {
  const carehub::Profile& p = *carehub::FindBuiltinProfile("shanghai/assessment");
  std::ofstream out(path, std::ios::binary);
  std::string header;
  for (std::size_t i = 0; i < p.fields.size(); ++i) {
    header += (i ? "," : "") + p.fields[i].name;
  }
  out << ToGbk(header) << "\r\n";
  std::vector<std::string> levels, names = {ToGbk("王秀英"), ToGbk("李建国"), ToGbk("陈美华")};
  for (const auto& l : p.scale.levels) levels.push_back(ToGbk(l.native));
  std::string org = ToGbk("浦东新区第一养老院"), active = ToGbk("有效"), male = ToGbk("男"),
              female = ToGbk("女");
  std::string line;
  for (int i = 0; i < rows; ++i) {
    std::string id = Prc(i);
    line.clear();
    line += "SH" + std::to_string(10000000 + i) + ",";
    line += names[i % 3] + ",";
    line += ((id[16] - '0') % 2 ? male : female) + ",";
    line += id + ",310115,";
    line += levels[i % levels.size()] + ",";
    char date[32];
    std::snprintf(date, sizeof date, "20%02d/%02d/%02d,20%02d/%02d/%02d,", 20 + i % 5, 1 + i % 12,
                  1 + i % 28, 22 + i % 5, 1 + i % 12, 1 + i % 28);
    line += date;
    line += "52310115MJ0000000D," + org + ",310115," + active + "\r\n";
    out << line;
  }
}

class CountingSink : public carehub::RecordSink {
 public:
  void Accept(carehub::CanonicalRecord&& r) override {
    bytes += r.record_id.size();
    // Stand-in for a store's per-record work (Avro encoding, hashing, SQLite): N SHA-256s.
    unsigned char h[crypto_hash_sha256_BYTES];
    for (int i = 0; i < work; ++i) {
      crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(r.record_id.data()),
                         r.record_id.size());
      bytes += h[0];
    }
  }
  int work = 0;
  void Reject(carehub::Rejection&& r) override {
    if (first_rejection.empty()) first_rejection = carehub::DescribeRejection(r);
    bytes += r.reason.size();
  }
  std::size_t bytes = 0;
  std::string first_rejection;
};

}  // namespace

int main(int argc, char** argv) {
  std::string file, profile = "shanghai/assessment";
  int rows = 1000000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--file" && i + 1 < argc) {
      file = argv[++i];
    } else if (a == "--profile" && i + 1 < argc) {
      profile = argv[++i];
    } else {
      rows = std::atoi(argv[i]);
    }
  }
  bool generated = file.empty();
  if (generated) {
    file = (std::filesystem::temp_directory_path() / "bench_sh_assessment.csv").string();
    Generate(file, rows);
  }
  carehub::EngineOptions options;
  options.origin_region = "310000";
  options.federation_key.assign(32, 1);
  options.pipelined = std::getenv("PIPELINED") != nullptr;
  carehub::ConnectorEngine engine(options);
  CountingSink sink;
  if (const char* w = std::getenv("SINK_WORK")) sink.work = std::atoi(w);
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  const double cpu_before = before.ru_utime.tv_sec + before.ru_utime.tv_usec / 1e6 +
                            before.ru_stime.tv_sec + before.ru_stime.tv_usec / 1e6;
  auto start = std::chrono::steady_clock::now();
  carehub::ReadStats stats = engine.Read(file, engine.FindProfile(profile), sink);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("file=%s bytes=%ju\n", file.c_str(),
              static_cast<std::uintmax_t>(std::filesystem::file_size(file)));
  std::printf("read=%lld accepted=%lld quarantined=%lld\n", static_cast<long long>(stats.read),
              static_cast<long long>(stats.accepted), static_cast<long long>(stats.quarantined));
  if (!sink.first_rejection.empty())
    std::printf("first rejection: %s\n", sink.first_rejection.c_str());
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
               usage.ru_stime.tv_usec / 1e6 - cpu_before;
  std::printf(
      "engine: %.2f s wall, %.0f rows/s; %.2f s CPU, %.0f rows per CPU-second; peak RSS %ld MB\n",
      secs, stats.read / secs, cpu, stats.read / cpu, usage.ru_maxrss / 1024);
  if (generated && !std::getenv("KEEP")) std::filesystem::remove(file);
  return 0;
}
