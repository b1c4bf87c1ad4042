#include "connectors/generator.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/identifiers.h"
#include "connectors/profile.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

constexpr std::int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z, after the default as-of

EngineOptions Options(const std::string& origin) {
  EngineOptions o;
  o.origin_region = origin;
  o.federation_key.assign(32, 7);
  o.now_ms = [] { return kNowMs; };
  return o;
}

struct Outcome {
  std::int64_t row = 0;
  std::string reason;  // "" = accepted
};

class CollectSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&& r) override {
    outcomes.push_back({r.provenance.source_row, ""});
    records.push_back(std::move(r));
  }
  void Reject(Rejection&& r) override {
    outcomes.push_back({r.row, r.reason.substr(0, r.reason.find(':'))});
  }
  std::vector<Outcome> outcomes;
  std::vector<CanonicalRecord> records;
};

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

GeneratorOptions Opts(std::int64_t rows, std::uint64_t seed, double defect_rate) {
  GeneratorOptions options;
  options.rows = rows;
  options.seed = seed;
  options.defect_rate = defect_rate;
  return options;
}

Poco::JSON::Object::Ptr ReadSidecar(const std::filesystem::path& file) {
  Poco::JSON::Parser parser;
  return parser.parse(ReadAll(file.string() + ".expected.json")).extract<Poco::JSON::Object::Ptr>();
}

const PersonRef* PersonOf(const CanonicalRecord& record) {
  if (const auto* a = std::get_if<Assessment>(&record.body)) return &a->person;
  if (const auto* c = std::get_if<CaregiverQualification>(&record.body)) return &c->person;
  if (const auto* s = std::get_if<SanctionNotice>(&record.body)) {
    return s->subject_person ? &*s->subject_person : nullptr;
  }
  return nullptr;
}

// The tokens of every person in the accepted records of a generated file.
std::set<Hmac256> TokensOf(const std::vector<CanonicalRecord>& records) {
  std::set<Hmac256> tokens;
  for (const auto& record : records) {
    if (const PersonRef* person = PersonOf(record)) {
      for (const auto& token : person->tokens) tokens.insert(token.token);
    }
  }
  return tokens;
}

// The core promise: for every profile the engine's verdict on every row is the one the
// generator planned, so the sidecar counts are exact.
TEST(GeneratorTest, EveryProfileMatchesItsSidecarRowByRow) {
  testing::TempDir dir;
  std::map<std::string, std::int64_t> all_reasons;
  ASSERT_EQ(BuiltinProfiles().size(), 28u);
  for (const Profile& profile : BuiltinProfiles()) {
    SCOPED_TRACE(profile.name);
    const Generator generator(profile, Opts(2000, 11, 0.05));
    const auto path = dir / (std::string(profile.RegionName()) + "_" +
                             std::string(KindName(profile.kind)) + ".dat");
    const GenerationSummary summary = generator.Write(path.string());
    EXPECT_EQ(summary.rows, 2000);
    EXPECT_EQ(summary.accepted + summary.quarantined, summary.rows);
    EXPECT_GT(summary.quarantined, 40);  // ~5% of 2000
    EXPECT_LT(summary.quarantined, 170);

    ConnectorEngine engine(Options(profile.region));
    CollectSink sink;
    const ReadStats stats = engine.Read(path.string(), profile, sink);
    EXPECT_EQ(stats.read, summary.rows);
    EXPECT_EQ(stats.accepted, summary.accepted);
    EXPECT_EQ(stats.quarantined, summary.quarantined);

    std::map<std::string, std::int64_t> seen;
    ASSERT_EQ(sink.outcomes.size(), static_cast<std::size_t>(summary.rows));
    for (std::size_t i = 0; i < sink.outcomes.size(); ++i) {
      const Outcome& outcome = sink.outcomes[i];
      ASSERT_EQ(outcome.row, static_cast<std::int64_t>(i) + 1);
      const std::string planned = generator.Row(static_cast<std::int64_t>(i)).defect;
      EXPECT_EQ(outcome.reason, planned) << "row " << outcome.row;
      if (!outcome.reason.empty()) ++seen[outcome.reason];
    }
    EXPECT_EQ(seen, summary.by_reason);

    // The sidecar says the same, in the shared format.
    const auto sidecar = ReadSidecar(path);
    EXPECT_EQ(sidecar->getValue<std::string>("profile"), profile.name);
    EXPECT_EQ(sidecar->getValue<std::int64_t>("rows"), summary.rows);
    EXPECT_EQ(sidecar->getValue<std::int64_t>("accepted"), stats.accepted);
    EXPECT_EQ(sidecar->getValue<std::int64_t>("quarantined"), stats.quarantined);
    EXPECT_EQ(sidecar->getValue<std::uint64_t>("seed"), 11u);
    EXPECT_DOUBLE_EQ(sidecar->getValue<double>("defect_rate"), 0.05);
    const auto by_reason = sidecar->getObject("by_reason");
    std::int64_t sum = 0;
    for (const auto& [reason, count] : seen) {
      EXPECT_EQ(by_reason->optValue<std::int64_t>(reason, -1), count) << reason;
      sum += count;
      all_reasons[reason] += count;
    }
    EXPECT_EQ(by_reason->size(), seen.size());
    EXPECT_EQ(sum, stats.quarantined);
  }
  // Across the profiles every reason code of notes/reason_codes.md is exercised.
  for (const char* reason : {"malformed_row", "missing_field", "duplicate_row", "bad_id_format",
                             "bad_check_digit", "bad_uscc", "bad_region_code", "bad_date",
                             "future_date", "before_birth", "unknown_level", "bad_number"}) {
    EXPECT_GT(all_reasons[reason], 0) << reason;
  }
}

TEST(GeneratorTest, SameSeedSameBytesOtherSeedOtherBytes) {
  testing::TempDir dir;
  for (const char* name : {"shanghai/assessment", "hongkong/caregiver", "jiangsu/sanction",
                           "zhejiang/facility", "macau/assessment"}) {
    SCOPED_TRACE(name);
    const Profile* profile = FindBuiltinProfile(name);
    ASSERT_NE(profile, nullptr);
    Generator(*profile, Opts(500, 3, 0.05)).Write((dir / "a").string());
    Generator(*profile, Opts(500, 3, 0.05)).Write((dir / "b").string());
    Generator(*profile, Opts(500, 4, 0.05)).Write((dir / "c").string());
    const std::string a = ReadAll(dir / "a");
    EXPECT_GT(a.size(), 500u * 40);
    EXPECT_EQ(a, ReadAll(dir / "b"));
    EXPECT_NE(a, ReadAll(dir / "c"));
    EXPECT_EQ(ReadAll(dir / "a.expected.json"), ReadAll(dir / "b.expected.json"));
  }
}

TEST(GeneratorTest, NoDefectsMeansEveryRowAccepted) {
  testing::TempDir dir;
  const Profile* profile = FindBuiltinProfile("guangdong/facility");
  ASSERT_NE(profile, nullptr);
  const auto summary = Generator(*profile, Opts(300, 5, 0.0)).Write((dir / "f.csv").string());
  EXPECT_EQ(summary.accepted, 300);
  EXPECT_TRUE(summary.by_reason.empty());
  ConnectorEngine engine(Options("440000"));
  CollectSink sink;
  EXPECT_EQ(engine.Read((dir / "f.csv").string(), *profile, sink).accepted, 300);
}

TEST(GeneratorTest, SameSeedSharesPeopleAcrossRegions) {
  testing::TempDir dir;
  auto tokens_of = [&](const std::string& name, std::uint64_t seed) {
    const Profile* profile = FindBuiltinProfile(name);
    EXPECT_NE(profile, nullptr);
    const auto path = dir / (name.substr(0, name.find('/')) + std::to_string(seed));
    Generator(*profile, Opts(2000, seed, 0.0)).Write(path.string());
    ConnectorEngine engine(Options(profile->region));
    CollectSink sink;
    engine.Read(path.string(), *profile, sink);
    EXPECT_EQ(sink.records.size(), 2000u);
    return TokensOf(sink.records);
  };
  auto shared = [](const std::set<Hmac256>& a, const std::set<Hmac256>& b) {
    std::size_t n = 0;
    for (const auto& token : a) n += b.count(token);
    return n;
  };
  const auto shanghai = tokens_of("shanghai/assessment", 21);
  const auto jiangsu = tokens_of("jiangsu/assessment", 21);
  const auto hongkong = tokens_of("hongkong/assessment", 21);
  const auto jiangsu_other_seed = tokens_of("jiangsu/assessment", 22);
  // Relocating residents: a few percent of one region's people are in the other's file.
  const std::size_t sh_js = shared(shanghai, jiangsu);
  EXPECT_GT(sh_js, 2000u * 5 / 1000);
  EXPECT_LT(sh_js, 2000u * 10 / 100);
  // Hong Kong residents appear in mainland files through their residence permits.
  EXPECT_GT(shared(shanghai, hongkong) + shared(jiangsu, hongkong), 0u);
  // Another seed is another population.
  EXPECT_EQ(shared(shanghai, jiangsu_other_seed), 0u);
}

TEST(GeneratorTest, SyntheticPeopleCarryValidIdentifiers) {
  for (const char* home : {"310000", "320000", "330000", "340000", "440000", "810000", "820000"}) {
    SCOPED_TRACE(home);
    int permits = 0;
    for (int n = 0; n < 200; ++n) {
      const SyntheticPerson person = MakeSyntheticPerson(9, home, n);
      const SyntheticPerson again = MakeSyntheticPerson(9, home, n);
      EXPECT_EQ(person.prc_id, again.prc_id);
      EXPECT_EQ(person.name, again.name);
      const std::chrono::year_month_day birth{person.birth};
      EXPECT_GE(static_cast<int>(birth.year()), 1930);
      EXPECT_LE(static_cast<int>(birth.year()), 1965);
      if (!person.prc_id.empty()) {
        ++permits;
        EXPECT_EQ(CheckPrcResidentId(person.prc_id), IdCheck::kOk) << person.prc_id;
        EXPECT_EQ(person.prc_id.substr(0, 2), std::string(home).substr(0, 2));
        const auto facts = PrcIdDetails(person.prc_id);
        ASSERT_TRUE(facts.has_value());
        EXPECT_EQ(facts->sex, person.sex);
        EXPECT_EQ(facts->year, static_cast<int>(birth.year()));
      }
      if (std::string(home) == "810000") {
        ASSERT_TRUE(person.hk_id.has_value());
        EXPECT_EQ(CheckHkId(NormaliseIdentifier(*person.hk_id)), IdCheck::kOk) << *person.hk_id;
      } else if (std::string(home) == "820000") {
        ASSERT_TRUE(person.macau_id.has_value());
        EXPECT_EQ(CheckMoId(NormaliseIdentifier(*person.macau_id)), IdCheck::kOk);
        EXPECT_NE(std::string("157").find(person.macau_id->front()), std::string::npos);
      }
    }
    if (home[0] == '8') {
      EXPECT_GT(permits, 20);   // some Hong Kong/Macau residents hold a mainland permit ...
      EXPECT_LT(permits, 180);  // ... not all
    } else {
      EXPECT_EQ(permits, 200);
    }
  }
}

TEST(GeneratorTest, LevelsFollowTheProfileWeights) {
  const Profile* profile = FindBuiltinProfile("shanghai/caregiver");
  ASSERT_NE(profile, nullptr);
  const Generator generator(*profile, Opts(4000, 2, 0.0));
  const FieldSpec* level = profile->FindField(CanonicalField::kLevel);
  ASSERT_NE(level, nullptr);
  std::size_t column = 0;
  while (profile->fields[column].field != CanonicalField::kLevel) ++column;
  std::map<std::string, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[generator.Row(i).values[column]];
  // The two most frequent levels of the profile are the two most frequent in the file.
  std::vector<std::pair<int, std::string>> by_count;
  for (const auto& [native, count] : counts) by_count.emplace_back(count, native);
  std::sort(by_count.rbegin(), by_count.rend());
  std::vector<LevelEntry> levels = profile->scale.levels;
  std::stable_sort(levels.begin(), levels.end(),
                   [](const auto& a, const auto& b) { return a.weight > b.weight; });
  ASSERT_GE(by_count.size(), 2u);
  EXPECT_EQ(by_count[0].second, levels[0].native);
  EXPECT_EQ(by_count[1].second, levels[1].native);
}

TEST(GeneratorTest, CommandWritesFileSidecarAndSummary) {
  testing::TempDir dir;
  const std::string out = (dir / "sh.csv").string();
  const std::string command = testing::CarehubBinary() +
                              " gen --region sh --kind assessment --rows 400 --seed 5"
                              " --defect-rate 0.1 --out " +
                              out + " 2>" + (dir / "err.txt").string();
  ASSERT_EQ(testing::RunCommand(command), 0);
  const std::string first = ReadAll(out);
  ASSERT_EQ(testing::RunCommand(command), 0);
  EXPECT_EQ(ReadAll(out), first);  // no clock in the output
  const auto sidecar = ReadSidecar(out);
  EXPECT_EQ(sidecar->getValue<std::string>("profile"), "shanghai/assessment");
  EXPECT_EQ(sidecar->getValue<std::int64_t>("rows"), 400);
  const std::string err = ReadAll(dir / "err.txt");
  EXPECT_NE(err.find("rows=400"), std::string::npos) << err;
  EXPECT_NE(err.find("accepted=" + std::to_string(sidecar->getValue<std::int64_t>("accepted"))),
            std::string::npos)
      << err;
  EXPECT_NE(
      testing::RunCommand(testing::CarehubBinary() +
                          " gen --region atlantis --kind assessment --out " + out + " 2>/dev/null"),
      0);
}

}  // namespace
}  // namespace carehub
