// Golden files: every native fixture tests/data/connectors/<region>/<kind>[_<case>].<ext> is read
// with the profile <region>/<kind> and compared with <same name>.expected.json (records and
// rejections). CAREHUB_REGENERATE_GOLDEN=1 rewrites the expected files instead; review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "tests/connectors/record_json.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z

EngineOptions GoldenOptions(const std::string& origin) {
  EngineOptions o;
  o.origin_region = origin;
  o.federation_key.assign(32, 0x2A);
  o.now_ms = [] { return kNowMs; };
  return o;
}

class CollectSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&& r) override { records.push_back(std::move(r)); }
  void Reject(Rejection&& r) override { rejections.push_back(std::move(r)); }
  std::vector<CanonicalRecord> records;
  std::vector<Rejection> rejections;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string GoldenText(const std::string& profile, const ReadStats& stats,
                       const CollectSink& sink) {
  std::string out = "{\n  \"profile\": \"" + profile + "\",\n";
  out += "  \"read\": " + std::to_string(stats.read) + ",\n";
  out += "  \"accepted\": " + std::to_string(stats.accepted) + ",\n";
  out += "  \"quarantined\": " + std::to_string(stats.quarantined) + ",\n";
  out += "  \"records\": [";
  for (std::size_t i = 0; i < sink.records.size(); ++i) {
    out += (i ? ",\n    " : "\n    ") + testing::RecordJson(sink.records[i]);
  }
  out += sink.records.empty() ? "],\n" : "\n  ],\n";
  out += "  \"rejections\": [";
  for (std::size_t i = 0; i < sink.rejections.size(); ++i) {
    out += (i ? ",\n    " : "\n    ") + testing::RejectionJson(sink.rejections[i]);
  }
  out += sink.rejections.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::vector<fs::path> FixturesOf(const std::string& profile_name) {
  std::string region = profile_name.substr(0, profile_name.find('/'));
  std::string kind = profile_name.substr(profile_name.find('/') + 1);
  std::vector<fs::path> out;
  fs::path dir = testing::TestData() / "connectors" / region;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".expected.json")) continue;
    std::string stem = name.substr(0, name.find('.'));
    if (stem == kind || stem.starts_with(kind + "_")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesExpectedOutput) {
  const std::string& name = GetParam();
  std::vector<fs::path> fixtures = FixturesOf(name);
  ASSERT_FALSE(fixtures.empty()) << "no golden fixture for " << name;
  bool regenerate = std::getenv("CAREHUB_REGENERATE_GOLDEN") != nullptr &&
                    std::string(std::getenv("CAREHUB_REGENERATE_GOLDEN")) == "1";
  for (const fs::path& fixture : fixtures) {
    SCOPED_TRACE(fixture.string());
    ConnectorEngine engine(GoldenOptions(FindBuiltinProfile(name)->region));
    const Profile& profile = engine.FindProfile(name);
    CollectSink sink;
    ReadStats stats = engine.Read(fixture.string(), profile, sink);
    EXPECT_EQ(stats.read, stats.accepted + stats.quarantined);
    EXPECT_EQ(static_cast<std::size_t>(stats.accepted), sink.records.size());
    EXPECT_EQ(static_cast<std::size_t>(stats.quarantined), sink.rejections.size());
    // The engine recognises its own region's files.
    EXPECT_EQ(engine.DetectProfile(fixture.string()).name, name);
    std::string actual = GoldenText(name, stats, sink);
    std::string base = fixture.filename().string();
    fs::path expected_path =
        fixture.parent_path() / (base.substr(0, base.find('.')) + ".expected.json");
    if (regenerate) {
      std::ofstream(expected_path, std::ios::binary) << actual;
      continue;
    }
    ASSERT_TRUE(fs::exists(expected_path)) << "run with CAREHUB_REGENERATE_GOLDEN=1";
    std::string expected = Slurp(expected_path);
    if (expected != actual) {
      std::istringstream a(actual), e(expected);
      std::string la, le;
      int line = 0;
      while (true) {
        ++line;
        bool ga = static_cast<bool>(std::getline(a, la));
        bool ge = static_cast<bool>(std::getline(e, le));
        if (!ga && !ge) break;
        if (la != le) {
          ADD_FAILURE() << expected_path << " line " << line << "\nexpected: " << le
                        << "\nactual:   " << la;
          break;
        }
      }
    }
  }
}

std::vector<std::string> AllProfileNames() {
  std::vector<std::string> names;
  for (const Profile& p : BuiltinProfiles()) names.push_back(p.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Profiles, GoldenTest, ::testing::ValuesIn(AllProfileNames()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           std::replace(n.begin(), n.end(), '/', '_');
                           return n;
                         });

}  // namespace
}  // namespace carehub
