// Mutated native files (flipped bytes, truncation, inserted quotes and newlines) never crash the
// engine: every row read is accepted or quarantined, and a whole-file problem is a carehub::Error.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

class CountSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&&) override { ++accepted; }
  void Reject(Rejection&& r) override {
    ++rejected;
    EXPECT_FALSE(r.reason.empty());
  }
  std::int64_t accepted = 0;
  std::int64_t rejected = 0;
};

// More with CAREHUB_MUTATIONS=n (a longer local fuzzing run).
const int kMutations =
    std::getenv("CAREHUB_MUTATIONS") ? std::atoi(std::getenv("CAREHUB_MUTATIONS")) : 12;

TEST(RobustnessTest, MutatedFixturesKeepTheCountInvariant) {
  testing::TempDir dir;
  EngineOptions options;
  options.federation_key.assign(32, 3);
  options.now_ms = [] { return std::int64_t{1767225600000}; };
  ConnectorEngine engine(options);
  std::mt19937 rng(20260101);
  const char specials[] = {'"', ',', ';', '\n', '\r', '<', '>', '{', '}', '[', ']', '\xFF', '\x81'};
  int files = 0, errors = 0;
  for (const Profile& p : BuiltinProfiles()) {
    fs::path src_dir = testing::TestData() / "connectors" / std::string(p.RegionName());
    for (const auto& e : fs::directory_iterator(src_dir)) {
      std::string name = e.path().filename().string();
      if (name.ends_with(".expected.json") || !name.starts_with(std::string(KindName(p.kind)))) {
        continue;
      }
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      const std::string original = buf.str();
      for (int m = 0; m < kMutations; ++m) {
        std::string text = original;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits && !text.empty(); ++k) {
          std::size_t at = rng() % text.size();
          switch (rng() % 4) {
            case 0:
              text[at] = static_cast<char>(rng() % 256);
              break;
            case 1:
              text[at] = specials[rng() % sizeof specials];
              break;
            case 2:
              text.insert(at, 1, specials[rng() % sizeof specials]);
              break;
            default:
              text.resize(at);
          }
        }
        fs::path path = dir / ("m_" + name);
        std::ofstream(path, std::ios::binary) << text;
        CountSink sink;
        ++files;
        if (std::getenv("ROBUST_TRACE")) {
          std::fprintf(stderr, "%s m=%d\n", p.name.c_str(), m);
          fs::copy_file(path, "/tmp/conn/last_mutant", fs::copy_options::overwrite_existing);
        }
        try {
          ReadStats stats = engine.Read(path.string(), p, sink);
          EXPECT_EQ(stats.read, stats.accepted + stats.quarantined) << p.name;
          EXPECT_EQ(stats.accepted, sink.accepted) << p.name;
          EXPECT_EQ(stats.quarantined, sink.rejected) << p.name;
        } catch (const Error&) {
          ++errors;  // e.g. a damaged header: the file as a whole is unreadable
        }
      }
    }
  }
  EXPECT_GE(files, 28 * kMutations);  // every profile has a fixture, some have quirk files too
  EXPECT_LT(errors, files / 2);
}

}  // namespace
}  // namespace carehub
