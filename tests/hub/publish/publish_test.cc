// Open datasets (`carehub publish`, hub/publish/publish.h) on a synthetic multi-region hub
// (Guangdong and Shanghai records, all four kinds): every cell of the five research tables is
// published and each group adds up; persons are counted, not records; the budget is spent,
// recorded and enforced; the differencing attack of issue 13 no longer recovers exact counts;
// no personal data in any file; the catalog is DCAT-AP 3.0; same data and key give the same
// bytes; the Avro files read in python3-avro match the CSV. The hub is built once per process.
#include "hub/publish/publish.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

#include "connectors/generator.h"
#include "connectors/profile.h"
#include "hub/publish/budget.h"
#include "hub/publish/dcat.h"
#include "hub/publish/publish_internal.h"
#include "hub/store/ingest.h"
#include "hub/store/keys.h"
#include "hub/store/published_files.h"
#include "hub/store/store.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using testing::CarehubBinary;
using testing::RunCommand;
using testing::SourceDir;
using testing::TempDir;

constexpr int kRowsPerKind = 300;
constexpr int kRetracted = 7;
constexpr std::int64_t kNowMs = 1796515200000;  // 2026-12-06
const char* const kKinds[] = {"assessment", "caregiver", "facility", "sanction"};
const char* const kBaseUrl = "https://opendata.example.gov.cn/carehub/gd";

NoiseKey TestKey(std::uint8_t fill) {
  NoiseKey key;
  key.fill(fill);
  return key;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 4180 CSV (quotes, CRLF), with a delimiter and an optional UTF-8 BOM.
std::vector<std::vector<std::string>> ParseCsv(std::string text, char delimiter = ',') {
  if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == delimiter) {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\r') {
      continue;
    } else if (c == '\n') {
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (any) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

// A CSV with a header, as maps column -> value.
std::vector<std::map<std::string, std::string>> ReadTable(const fs::path& path) {
  const auto rows = ParseCsv(Slurp(path));
  std::vector<std::map<std::string, std::string>> table;
  if (rows.empty()) return table;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r].size(), rows[0].size()) << path << " row " << r;
    std::map<std::string, std::string> m;
    for (std::size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c)
      m[rows[0][c]] = rows[r][c];
    table.push_back(std::move(m));
  }
  return table;
}

// Every regular file under `dir`: relative path -> bytes.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), dir).generic_string()] = Slurp(entry.path());
    }
  }
  return files;
}

// Generates `rows` valid rows of region/kind with `seed` and ingests them into `store`.
void IngestGenerated(Store& store, const fs::path& folder, const std::string& profile_name,
                     std::int64_t rows, std::uint64_t seed) {
  const Profile* profile = FindBuiltinProfile(profile_name);
  ASSERT_NE(profile, nullptr) << profile_name;
  fs::create_directories(folder);
  std::string stem = profile_name;
  std::replace(stem.begin(), stem.end(), '/', '-');
  const fs::path file = folder / (stem + "-" + std::to_string(seed) + ".csv");
  GeneratorOptions generate;
  generate.rows = rows;
  generate.seed = seed;
  generate.defect_rate = 0;
  Generator(*profile, generate).Write(file.string());
  ConnectorEngine engine(EngineOptionsFor(store));
  Ingester ingester(store, engine);
  const IngestSummary ingested = ingester.IngestFile(file.string());
  ASSERT_EQ(ingested.accepted, rows) << profile_name << " " << SummaryLine(ingested);
}

// The hub, built once for the suite: Guangdong (nine prefectures) and Shanghai records of all
// four kinds, some retractions, published once into out/ with a fixed noise key.
struct Hub {
  TempDir tmp;
  fs::path dir, native, out;
  PublishSummary first;
  std::int64_t active = 0;  // records not retracted
};
Hub* hub = nullptr;

PublishOptions Options(const fs::path& out) {
  PublishOptions options;
  options.out_dir = out;
  options.base_url = kBaseUrl;
  options.noise_key = TestKey(7);
  return options;
}

// A copy of the suite's hub (store, keys and spends) to change without disturbing the others.
fs::path CopyHub(const fs::path& to) {
  fs::copy(hub->dir, to, fs::copy_options::recursive);
  return to;
}

class PublishTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hub = new Hub;
    hub->dir = hub->tmp / "hub";
    hub->native = hub->tmp / "native";
    hub->out = hub->tmp / "out";
    Store store = Store::Init(hub->dir, {.region = "gd"});
    std::uint64_t seed = 11;
    for (const char* region : {"guangdong", "shanghai"}) {
      for (const char* kind : kKinds) {
        IngestGenerated(store, hub->native, std::string(region) + "/" + kind, kRowsPerKind, seed++);
      }
    }
    std::vector<std::string> ids;
    store.ForEachRecord({.kind = RecordKind::kAssessment, .origin = std::nullopt},
                        [&](const StoredRecord& r) {
                          if (r.status != RecordStatus::kRetracted) ids.push_back(r.record_id);
                          return ids.size() < kRetracted;
                        });
    for (const auto& id : ids) store.Retract(id);
    store.ForEachRecord({}, [&](const StoredRecord& r) {
      if (r.status != RecordStatus::kRetracted) ++hub->active;
      return true;
    });
    hub->first = Publish(store, Options(hub->out), kNowMs);
  }
  static void TearDownTestSuite() {
    delete hub;
    hub = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(hub != nullptr && fs::exists(hub->first.path)); }
  static fs::path Release() { return hub->first.path; }
};

// Key columns of a table row (all but count, group_total, period_complete), joined.
std::string RowKey(const std::map<std::string, std::string>& row) {
  std::string key;
  for (const auto& [column, value] : row) {
    if (column == "count" || column == "group_total" || column == "period_complete") continue;
    key += column + "=" + value + ";";
  }
  return key;
}

// The group of a row: its key without the class column.
std::string GroupKey(const TableSpec& spec, const std::map<std::string, std::string>& row) {
  auto copy = row;
  copy.erase(spec.class_column);
  return RowKey(copy);
}

TEST_F(PublishTest, EveryCellIsPublishedAndEveryGroupAddsUp) {
  Poco::JSON::Parser parser;
  const auto codebook =
      parser.parse(Slurp(Release() / "codebook.json")).extract<Poco::JSON::Object::Ptr>();
  const auto tables = codebook->getArray("tables");
  ASSERT_EQ(tables->size(), ResearchTableSpecs().size());
  for (std::size_t t = 0; t < ResearchTableSpecs().size(); ++t) {
    const TableSpec& spec = ResearchTableSpecs()[t];
    const auto rows = ReadTable(Release() / (spec.name + ".csv"));
    const auto header = ParseCsv(Slurp(Release() / (spec.name + ".csv"))).front();
    EXPECT_EQ(header, TableColumns(spec)) << spec.name;
    EXPECT_EQ(rows.size(), tables->getObject(static_cast<unsigned>(t))->getValue<int>("rows"))
        << spec.name;
    EXPECT_GT(rows.size(), 10u) << spec.name;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> groups;  // sum, total
    for (const auto& row : rows) {
      ASSERT_FALSE(row.at("count").empty()) << spec.name << ": a hidden cell";
      const std::int64_t count = std::stoll(row.at("count"));
      const std::int64_t total = std::stoll(row.at("group_total"));
      EXPECT_GE(count, 0);
      auto& g = groups[GroupKey(spec, row)];
      g.first += count;
      if (g.second != 0) {
        EXPECT_EQ(g.second, total) << spec.name;
      }
      g.second = total;
    }
    for (const auto& [group, sums] : groups) {
      EXPECT_EQ(sums.first, sums.second) << spec.name << " " << group;
    }
  }
  EXPECT_TRUE(codebook->getObject("privacy")->getValue<bool>("no_cell_suppressed"));
}

TEST_F(PublishTest, RetractedRecordsAreNotReadAndNothingElseIsLeftOut) {
  EXPECT_EQ(hub->first.records, hub->active);
  EXPECT_EQ(hub->active, 8 * kRowsPerKind - kRetracted);
}

// Publish's steps one by one (issue 11) give the release's bytes.
TEST_F(PublishTest, StepsRunOneByOneGiveTheSameRelease) {
  using namespace publish_internal;
  Store store = Store::Open(hub->dir);
  const PublishOptions options = Options(hub->out);
  std::int64_t records = 0;
  std::vector<TableInput> tables = CollectTables(store, std::nullopt, records);
  EXPECT_EQ(records, hub->first.records);
  std::vector<TrueCounts> truths;
  for (TableInput& table : tables) truths.push_back(BoundContributions(table));
  const std::string fingerprint = DataFingerprint(tables, truths, options);
  const ReleaseSlot slot =
      SpendBudget(store, hub->first.series, fingerprint, options.rho_micro, std::nullopt, kNowMs);
  EXPECT_TRUE(slot.reused);  // same data: the spend of the first publish
  EXPECT_EQ(slot.release, hub->first.release);
  MarkIncompletePeriods(tables, slot.issued);
  const auto published = PrivatizeTables(std::move(tables), std::move(truths), SplitRho(options),
                                         *options.noise_key, hub->first.series + "|" + fingerprint);
  ReleaseFileMap files;
  AddTableFiles(published, files);
  for (const auto& [path, file] : files) {
    EXPECT_EQ(file.bytes, Slurp(Release() / path)) << path;
  }
}

TEST_F(PublishTest, NoisyCountsStayWithinTheStatedMarginOfError) {
  using namespace publish_internal;
  Store store = Store::Open(hub->dir);
  std::int64_t records = 0;
  std::vector<TableInput> tables = CollectTables(store, std::nullopt, records);
  std::vector<TrueCounts> truths;
  for (TableInput& table : tables) truths.push_back(BoundContributions(table));
  const auto published = PrivatizeTables(std::move(tables), std::move(truths),
                                         SplitRho(PublishOptions{}), TestKey(3), "accuracy-test");
  for (const PublishedTable& table : published) {
    const double moe = 1.96 * table.noise.SigmaTotals();
    std::size_t within = 0, exact = 0;
    for (std::size_t g = 0; g < table.truth.totals.size(); ++g) {
      const std::int64_t error = table.noisy.totals[g] - table.truth.totals[g];
      within += std::abs(static_cast<double>(error)) <= moe ? 1 : 0;
      exact += error == 0 ? 1 : 0;
    }
    const std::size_t n = table.truth.totals.size();
    // The post-processed totals are at least as close as the raw noise: >= 95% within.
    EXPECT_GE(within, n * 90 / 100) << table.input.spec->name << " " << within << "/" << n;
    std::cerr << table.input.spec->name << ": " << within << "/" << n << " group totals within +-"
              << moe << ", " << exact << " exact\n";
  }
}

TEST_F(PublishTest, TheBudgetIsSpentRecordedAndEnforced) {
  TempDir tmp;
  const fs::path dir = CopyHub(tmp / "hub");
  const fs::path out = tmp / "out";
  Store store = Store::Open(dir);
  PublishOptions options = Options(out);
  options.series = "budget-test";
  options.rho_micro = 1500000;
  options.budget_micro = 3000000;
  const PublishSummary first = Publish(store, options, kNowMs);
  EXPECT_EQ(first.seq, 1);
  EXPECT_EQ(first.rho_spent_micro, 1500000);
  EXPECT_EQ(first.rho_remaining_micro, 1500000);
  // The same data again: the same release, no second spend.
  const PublishSummary again = Publish(store, options, kNowMs + 1000);
  EXPECT_TRUE(again.reused_spend);
  EXPECT_TRUE(again.unchanged);
  EXPECT_EQ(again.release, first.release);
  EXPECT_EQ(ReadBudget(store, "budget-test")->spent_micro, 1500000);
  // A budget of another size for the same series is refused.
  options.budget_micro = 5000000;
  EXPECT_THROW(Publish(store, options, kNowMs), Error);
  options.budget_micro = std::nullopt;
  // New data: a second release spends the rest.
  IngestGenerated(store, tmp / "native", "guangdong/assessment", 6, 901);
  const PublishSummary second = Publish(store, options, kNowMs + 86400000);
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(second.rho_remaining_micro, 0);
  // A third would exceed it: refused, saying what is left, nothing written or spent.
  IngestGenerated(store, tmp / "native", "guangdong/assessment", 6, 902);
  const auto folders = std::distance(fs::directory_iterator(out), fs::directory_iterator());
  try {
    Publish(store, options, kNowMs + 2 * 86400000);
    ADD_FAILURE() << "a release beyond the budget was published";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0.0 left of 3.0"), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(out), fs::directory_iterator()), folders);
  EXPECT_EQ(ReadBudget(store, "budget-test")->spent_micro, 3000000);
  // The command line says the same and fails.
  std::string cli;
  EXPECT_NE(RunCommand(CarehubBinary() + " publish --dir " + dir.string() + " --out " +
                           out.string() + " --series budget-test 2>&1",
                       &cli),
            0);
  EXPECT_NE(cli.find("has rho 0.0 left of 3.0 (3.0 spent)"), std::string::npos) << cli;
  // The spends are in the store; the codebook of release 2 states them.
  Poco::JSON::Parser parser;
  const auto privacy = parser.parse(Slurp(second.path / "codebook.json"))
                           .extract<Poco::JSON::Object::Ptr>()
                           ->getObject("privacy");
  EXPECT_EQ(privacy->getValue<std::string>("rho_release"), "1.5");
  EXPECT_EQ(privacy->getValue<std::string>("rho_series_spent"), "3.0");
  EXPECT_EQ(privacy->getValue<std::string>("rho_series_remaining"), "0.0");
}

// The release's rho split by shares: the tables' rho (codebook) add up to exactly what the series
// spent, a bigger share gives less noise, and a bad split is refused before anything is spent.
TEST_F(PublishTest, RhoSplitIsConfigurableAndAddsUpToTheSpend) {
  TempDir tmp;
  const fs::path dir = CopyHub(tmp / "hub");
  Store store = Store::Open(dir);
  PublishOptions options = Options(tmp / "out");
  options.series = "split-test";
  options.rho_micro = 1000000;
  const auto& specs = ResearchTableSpecs();
  // 3 : 1 : 1 : 1 : 1 of rho 1 does not divide evenly: 428572 + 4 x 142857 = 1000000.
  for (const TableSpec& spec : specs) options.rho_shares_micro[spec.name] = 1000000;
  options.rho_shares_micro[specs[0].name] = 3000000;
  EXPECT_EQ(SplitRho(options), (std::vector<std::int64_t>{428572, 142857, 142857, 142857, 142857}));
  const PublishSummary summary = Publish(store, options, kNowMs);
  Poco::JSON::Parser parser;
  const auto codebook =
      parser.parse(Slurp(summary.path / "codebook.json")).extract<Poco::JSON::Object::Ptr>();
  const auto tables = codebook->getArray("tables");
  ASSERT_EQ(tables->size(), specs.size());
  std::int64_t sum = 0;
  std::map<std::string, double> sigma;
  for (std::size_t t = 0; t < tables->size(); ++t) {
    const auto table = tables->getObject(static_cast<unsigned>(t));
    const double rho = std::stod(table->getValue<std::string>("rho"));
    sum += static_cast<std::int64_t>(std::llround(rho * 1e6));
    sigma[table->getValue<std::string>("name")] =
        std::stod(table->getValue<std::string>("sigma_cells"));
  }
  EXPECT_EQ(sum, summary.rho_spent_micro);
  EXPECT_EQ(ReadBudget(store, "split-test")->spent_micro, 1000000);
  // Table 1 (k = 6) with rho 0.43 is less noisy than with the equal split's 0.2.
  EXPECT_NEAR(sigma[specs[0].name], std::sqrt(6.0 / 0.428572), 0.01);
  // Refused, with the table named, nothing spent: unknown, missing, zero share.
  auto refused = [&](PublishOptions bad, const std::string& says) {
    try {
      Publish(store, bad, kNowMs);
      ADD_FAILURE() << "accepted a bad split, expected: " << says;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
    }
  };
  PublishOptions unknown = options;
  unknown.rho_shares_micro["no_such_table"] = 1;
  refused(unknown, "unknown table 'no_such_table'");
  PublishOptions missing = options;
  missing.rho_shares_micro.erase(specs[4].name);
  refused(missing, "no share for table '" + specs[4].name + "'");
  PublishOptions zero = options;
  zero.rho_shares_micro[specs[2].name] = 0;
  refused(zero, "the share of '" + specs[2].name + "' must be in (0, 1000]");
  PublishOptions tiny = options;
  tiny.rho_micro = 3;
  refused(tiny, "would get rho 0");
  EXPECT_EQ(ReadBudget(store, "split-test")->spent_micro, 1000000);
  // The command line takes TABLE=SHARE pairs and names a bad one.
  std::string cli;
  EXPECT_NE(RunCommand(CarehubBinary() + " publish --dir " + dir.string() + " --out " +
                           (tmp / "out").string() + " --series split-test --rho-split " +
                           specs[0].name + "=2 2>&1",
                       &cli),
            0);
  EXPECT_NE(cli.find("no share for table '" + specs[1].name + "'"), std::string::npos) << cli;
}

// Issue 13's attack: publish, add a few records, publish again, subtract. Each release has
// fresh noise, so the differences are noisy too and the new records' cells are not recovered.
TEST_F(PublishTest, DifferencingTwoReleasesNoLongerGivesExactCounts) {
  using namespace publish_internal;
  TempDir tmp;
  const fs::path dir = CopyHub(tmp / "hub");
  Store store = Store::Open(dir);
  PublishOptions options = Options(tmp / "out");
  options.series = "differencing";
  auto truth_of_table1 = [&store] {
    std::int64_t records = 0;
    std::vector<TableInput> tables = CollectTables(store, std::nullopt, records);
    const TrueCounts truth = BoundContributions(tables[0]);
    std::map<std::string, std::int64_t> cells;
    for (std::size_t g = 0; g < tables[0].groups.size(); ++g) {
      const TableGroup& group = tables[0].groups[g];
      for (std::size_t c = 0; c < group.classes->size(); ++c) {
        cells["geo=" + group.geo + ";q=" + group.period + ";s=" + group.extras[0] +
              ";l=" + (*group.classes)[c]] = truth.cells[g][c];
      }
    }
    return cells;
  };
  auto published_table1 = [](const fs::path& release) {
    std::map<std::string, std::int64_t> cells;
    for (const auto& row : ReadTable(release / (ResearchTableSpecs()[0].name + ".csv"))) {
      cells["geo=" + row.at("prefecture") + ";q=" + row.at("quarter") + ";s=" + row.at("scale") +
            ";l=" + row.at("level")] = std::stoll(row.at("count"));
    }
    return cells;
  };
  const auto truth1 = truth_of_table1();
  const PublishSummary first = Publish(store, options, kNowMs);
  IngestGenerated(store, tmp / "native", "guangdong/assessment", 6, 777);
  const auto truth2 = truth_of_table1();
  const PublishSummary second = Publish(store, options, kNowMs + 86400000);
  const auto cells1 = published_table1(first.path);
  const auto cells2 = published_table1(second.path);
  ASSERT_EQ(cells1.size(), truth1.size());
  int changed = 0, recovered = 0;
  for (const auto& [key, t2] : truth2) {
    const std::int64_t true_diff = t2 - truth1.at(key);
    if (true_diff == 0) continue;
    ++changed;
    recovered += cells2.at(key) - cells1.at(key) == true_diff ? 1 : 0;
  }
  EXPECT_GE(changed, 6);  // the pivot and native cells of the six new people
  EXPECT_LT(recovered * 2, changed) << recovered << " of " << changed << " recovered";
  std::cerr << "differencing: " << recovered << " of " << changed << " changed cells recovered\n";
  // The second release links its series and the first release.
  const std::string catalog = Slurp(second.path / "catalog.json");
  EXPECT_NE(catalog.find("\"dcat:prev\""), std::string::npos);
  EXPECT_NE(catalog.find(DatasetIri(kBaseUrl, first.release)), std::string::npos);
}

// Values of the native files' personal and organisation columns (from the region's profile),
// plus birth dates read from PRC resident ids.
std::vector<std::string> NativeSecrets() {
  static const std::set<std::string> kSecretFields = {
      "person_name", "person_id",     "person_alt_id", "birth_date",
      "org_uscc",    "employer_uscc", "source_id",     "certificate_no",
      "org_name",    "employer_name", "org_local_id",  "employer_local_id"};
  std::vector<std::string> secrets;
  for (int k = 0; k < 4; ++k) {
    const char* kind = kKinds[k];
    Poco::JSON::Parser parser;
    const auto profile = parser
                             .parse(Slurp(SourceDir() / "connectors/profiles/guangdong" /
                                          (std::string(kind) + ".json")))
                             .extract<Poco::JSON::Object::Ptr>();
    const std::string delimiter = profile->getObject("csv")->getValue<std::string>("delimiter");
    std::map<std::string, std::string> field_of;
    const auto fields = profile->getArray("fields");
    for (std::size_t i = 0; i < fields->size(); ++i) {
      const auto f = fields->getObject(static_cast<unsigned>(i));
      field_of[f->getValue<std::string>("name")] = f->getValue<std::string>("field");
    }
    const auto rows = ParseCsv(Slurp(hub->native / ("guangdong-" + std::string(kind) + "-" +
                                                    std::to_string(11 + k) + ".csv")),
                               delimiter.at(0));
    EXPECT_EQ(rows.size(), static_cast<std::size_t>(kRowsPerKind + 1)) << kind;
    for (std::size_t r = 1; r < rows.size(); ++r) {
      for (std::size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) {
        const auto it = field_of.find(rows[0][c]);
        if (it == field_of.end() || !kSecretFields.count(it->second)) continue;
        const std::string& v = rows[r][c];
        if (v.size() >= 5) secrets.push_back(v);
        if (it->second == "person_id" && v.size() == 18) {
          const std::string y = v.substr(6, 4), m = v.substr(10, 2), d = v.substr(12, 2);
          secrets.push_back(y + m + d);
          secrets.push_back(y + "-" + m + "-" + d);
          secrets.push_back(y + "/" + m + "/" + d);
        }
      }
    }
  }
  return secrets;
}

TEST_F(PublishTest, NoPersonalDataInAnyFile) {
  std::vector<std::string> secrets = NativeSecrets();
  const std::size_t native = secrets.size();
  EXPECT_GT(native, static_cast<std::size_t>(4 * kRowsPerKind));
  {
    Store store = Store::Open(hub->dir);
    std::set<Hmac256> tokens;
    sqlite::Statement bodies(store.db(), "SELECT body FROM changes");
    while (bodies.Step()) {
      for (const Hmac256& token : ColumnsOf(DecodeSingleObject(bodies.ColumnBlob(0))).tokens) {
        tokens.insert(token);
      }
    }
    for (const Hmac256& token : tokens) {
      const std::string_view raw(reinterpret_cast<const char*>(token.data()), token.size());
      secrets.emplace_back(raw);
      std::string hex = ToHex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
      secrets.push_back(hex);
      for (char& ch : hex) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      secrets.push_back(hex);
    }
    EXPECT_GT(tokens.size(), static_cast<std::size_t>(kRowsPerKind));
    sqlite::Statement ids(store.db(), "SELECT record_id, subject_org FROM records");
    while (ids.Step()) {
      secrets.push_back(ids.ColumnText(0));
      const auto org = ids.ColumnOptionalText(1);
      if (org && org->size() >= 5) secrets.push_back(*org);
    }
  }
  // Every byte offset of every file (and its path) against every secret: a bit filter on the
  // first four bytes picks the offsets worth comparing (secrets are all 5+ bytes long).
  constexpr int kFilterBits = 22;
  auto prefix_hash = [](const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return (v * 2654435761u) >> (32 - kFilterBits);
  };
  std::vector<bool> filter(std::size_t{1} << kFilterBits);
  std::map<std::size_t, std::unordered_set<std::string_view>> by_length;
  for (const auto& secret : secrets) {
    ASSERT_GE(secret.size(), 5u);
    filter[prefix_hash(secret.data())] = true;
    by_length[secret.size()].insert(secret);
  }
  auto find_secret = [&](const std::string& bytes) -> std::optional<std::string_view> {
    for (std::size_t i = 0; i + 4 <= bytes.size(); ++i) {
      if (!filter[prefix_hash(bytes.data() + i)]) continue;
      for (const auto& [length, set] : by_length) {
        if (i + length > bytes.size()) break;
        const std::string_view window(bytes.data() + i, length);
        if (set.count(window)) return window;
      }
    }
    return std::nullopt;
  };
  EXPECT_TRUE(find_secret("a,b," + secrets.front() + ",c"));  // the scanner finds what it seeks
  EXPECT_TRUE(find_secret("\x01" + secrets.back()));
  std::size_t scanned = 0;
  for (const auto& [path, raw] : Files(Release())) {
    const std::string bytes = path + "\n" + raw;
    scanned += bytes.size();
    const auto found = find_secret(bytes);
    EXPECT_FALSE(found) << "'" << *found << "' found in " << path;
  }
  EXPECT_GT(scanned, 10000u);
}

TEST_F(PublishTest, SameDataAndKeyGiveIdenticalBytesAnotherKeyOtherNoise) {
  TempDir tmp;
  // The same store again (its spend is reused) into another folder: identical bytes.
  {
    Store store = Store::Open(hub->dir);
    const PublishSummary again = Publish(store, Options(tmp / "again"), kNowMs + 5000);
    EXPECT_EQ(again.release, hub->first.release);
    EXPECT_EQ(Files(again.path), Files(Release()));
  }
  // A copy of the hub with a new series and another key: other noise, other counts.
  const fs::path dir = CopyHub(tmp / "hub");
  Store store = Store::Open(dir);
  PublishOptions options = Options(tmp / "other");
  options.series = "other-key";
  options.noise_key = TestKey(8);
  const PublishSummary other = Publish(store, options, kNowMs);
  const std::string name = ResearchTableSpecs()[0].name + ".csv";
  EXPECT_NE(Slurp(other.path / name), Slurp(Release() / name));
  // Same key and series name in a second copy: identical to that one.
  const fs::path dir2 = CopyHub(tmp / "hub2");
  Store store2 = Store::Open(dir2);
  options.out_dir = tmp / "other2";
  EXPECT_EQ(Files(Publish(store2, options, kNowMs).path), Files(other.path));
}

TEST_F(PublishTest, OneFilePerTablePerFormatPlusCodebookReadmeAndCatalog) {
  std::set<std::string> expected = {"README.txt", "catalog.json", "codebook.csv", "codebook.json"};
  for (const TableSpec& spec : ResearchTableSpecs()) {
    expected.insert(spec.name + ".csv");
    expected.insert(spec.name + ".avro");
  }
  std::set<std::string> seen;
  for (const auto& [path, bytes] : Files(Release())) seen.insert(path);
  EXPECT_EQ(seen, expected);
  // The codebook names every column of every table with its meaning, the code lists with both
  // labels, the regions and the crosswalk.
  const auto codebook = ReadTable(Release() / "codebook.csv");
  std::set<std::string> described;
  for (const auto& row : codebook) {
    if (row.at("section") == "column") {
      EXPECT_FALSE(row.at("meaning").empty()) << row.at("column");
      described.insert(row.at("table") + "." + row.at("column"));
    }
    if (row.at("section") == "code") {
      EXPECT_FALSE(row.at("label_zh").empty()) << row.at("code");
      EXPECT_FALSE(row.at("label_en").empty()) << row.at("code");
    }
  }
  for (const TableSpec& spec : ResearchTableSpecs()) {
    for (const std::string& column : TableColumns(spec)) {
      EXPECT_TRUE(described.count(spec.name + "." + column)) << spec.name << "." << column;
    }
  }
  const std::string text = Slurp(Release() / "codebook.csv");
  for (const char* needle : {"深圳市", "Shenzhen", "crosswalk", "SH_CARE_NEEDS", "照护三级"}) {
    EXPECT_NE(text.find(needle), std::string::npos) << needle;
  }
  const std::string readme = Slurp(Release() / "README.txt");
  EXPECT_NE(readme.find("differential privacy"), std::string::npos);
}

TEST_F(PublishTest, AvroFilesReadByPythonAvroMatchTheCsv) {
  const std::string script =
      "import sys, avro.datafile, avro.io\n"
      "for p in sys.argv[1:]:\n"
      "  rows = list(avro.datafile.DataFileReader(open(p, 'rb'), avro.io.DatumReader()))\n"
      "  print(len(rows), sum(r['count'] for r in rows), sum(r['group_total'] for r in rows))\n";
  std::ofstream(hub->tmp / "read_tables.py") << script;
  std::string command = "/usr/bin/python3 " + (hub->tmp / "read_tables.py").string();
  std::string expected;
  for (const TableSpec& spec : ResearchTableSpecs()) {
    command += " " + (Release() / (spec.name + ".avro")).string();
    std::int64_t count = 0, total = 0;
    const auto rows = ReadTable(Release() / (spec.name + ".csv"));
    for (const auto& row : rows) {
      count += std::stoll(row.at("count"));
      total += std::stoll(row.at("group_total"));
    }
    expected += std::to_string(rows.size()) + " " + std::to_string(count) + " " +
                std::to_string(total) + "\n";
  }
  std::string py;
  ASSERT_EQ(RunCommand(command, &py), 0) << py;
  EXPECT_EQ(py, expected);
}

// DCAT-AP 3.0 (SEMIC, releases/3.0.0 SHACL shapes): the mandatory classes and properties, IRIs
// for every node under the base URL, only real vocabulary terms, and distributions that match
// the files.
TEST_F(PublishTest, CatalogIsDcatAp3WithMandatoryPropertiesAndMatchingFiles) {
  using Poco::JSON::Object;
  Poco::JSON::Parser parser;
  const auto document = parser.parse(Slurp(Release() / "catalog.json")).extract<Object::Ptr>();
  const auto context = document->getObject("@context");
  ASSERT_TRUE(context);
  const std::map<std::string, std::set<std::string>> kTerms = {
      {"dcat",
       {"Catalog", "Dataset", "DatasetSeries", "Distribution", "dataset", "accessURL",
        "downloadURL", "mediaType", "byteSize", "inSeries", "prev", "version", "contactPoint",
        "landingPage", "theme", "keyword", "distribution", "startDate", "endDate"}},
      {"dct",
       {"title", "description", "publisher", "identifier", "issued", "modified", "temporal",
        "spatial", "license", "format", "conformsTo", "accessRights", "PeriodOfTime", "Location"}},
      {"foaf", {"Agent", "name", "homepage"}},
      {"vcard", {"Organization", "fn", "hasEmail", "hasURL"}},
      {"spdx", {"Checksum", "checksum", "algorithm", "checksumValue", "checksumAlgorithm_sha256"}},
      {"skos", {"prefLabel", "notation"}},
      {"xsd", {"date", "hexBinary", "nonNegativeInteger"}}};
  for (const auto& [prefix, terms] : kTerms) EXPECT_TRUE(context->has(prefix)) << prefix;
  auto check_term = [&](const std::string& term) {
    const auto colon = term.find(':');
    ASSERT_NE(colon, std::string::npos) << term;
    const auto it = kTerms.find(term.substr(0, colon));
    ASSERT_NE(it, kTerms.end()) << term;
    EXPECT_TRUE(it->second.count(term.substr(colon + 1))) << "not a term: " << term;
  };
  std::map<std::string, Object::Ptr> nodes;
  std::map<std::string, std::vector<Object::Ptr>> by_type;
  // Walks a node and its embedded nodes: every key a real term, every @id under the base URL.
  std::function<void(Object::Ptr)> visit = [&](Object::Ptr node) {
    if (node->has("@value")) {  // a literal, typed (xsd:) or with a language
      if (node->has("@type")) check_term(node->getValue<std::string>("@type"));
      return;
    }
    if (node->has("@type")) {
      check_term(node->getValue<std::string>("@type"));
      by_type[node->getValue<std::string>("@type")].push_back(node);
      ASSERT_TRUE(node->has("@id"));
      EXPECT_TRUE(node->getValue<std::string>("@id").starts_with(kBaseUrl));
      nodes[node->getValue<std::string>("@id")] = node;
    }
    for (const auto& [key, value] : *node) {
      if (key == "@id" || key == "@type" || key == "@value" || key == "@language") continue;
      check_term(key);
      if (value.type() == typeid(Object::Ptr)) visit(value.extract<Object::Ptr>());
    }
  };
  const auto graph = document->getArray("@graph");
  ASSERT_TRUE(graph);
  for (std::size_t i = 0; i < graph->size(); ++i) visit(graph->getObject(static_cast<unsigned>(i)));
  auto iri = [](const Object::Ptr& node, const std::string& key) {
    return node->getObject(key)->getValue<std::string>("@id");
  };
  auto literal = [](const Object::Ptr& node, const std::string& key) {
    const auto value = node->get(key);
    return value.type() == typeid(Object::Ptr)
               ? value.extract<Object::Ptr>()->getValue<std::string>("@value")
               : value.convert<std::string>();
  };
  // Catalog: title, description, publisher (1), its datasets.
  ASSERT_EQ(by_type["dcat:Catalog"].size(), 1u);
  const auto catalog = by_type["dcat:Catalog"][0];
  EXPECT_FALSE(literal(catalog, "dct:title").empty());
  EXPECT_FALSE(literal(catalog, "dct:description").empty());
  const std::string publisher = iri(catalog, "dct:publisher");
  ASSERT_TRUE(nodes.count(publisher));
  EXPECT_EQ(nodes[publisher]->getValue<std::string>("@type"), "foaf:Agent");
  EXPECT_FALSE(nodes[publisher]->getValue<std::string>("foaf:name").empty());
  // Series and dataset: title and description; the dataset in its series.
  ASSERT_EQ(by_type["dcat:DatasetSeries"].size(), 1u);
  ASSERT_EQ(by_type["dcat:Dataset"].size(), 1u);
  const auto series = by_type["dcat:DatasetSeries"][0];
  const auto dataset = by_type["dcat:Dataset"][0];
  for (const auto& node : {series, dataset}) {
    EXPECT_FALSE(literal(node, "dct:title").empty());
    EXPECT_FALSE(literal(node, "dct:description").empty());
  }
  EXPECT_EQ(iri(dataset, "dcat:inSeries"), series->getValue<std::string>("@id"));
  EXPECT_EQ(dataset->getValue<std::string>("@id"), DatasetIri(kBaseUrl, hub->first.release));
  EXPECT_EQ(literal(dataset, "dct:issued"), "2026-12-06");
  EXPECT_TRUE(nodes.count(iri(dataset, "dcat:contactPoint")));
  EXPECT_TRUE(nodes.count(iri(dataset, "dct:temporal")));
  EXPECT_TRUE(nodes.count(iri(dataset, "dct:publisher")));
  EXPECT_NE(literal(dataset, "dct:description").find("differential privacy"), std::string::npos);
  // Distributions: one per file but the catalog, each with what DCAT-AP asks.
  const auto files = Files(Release());
  ASSERT_EQ(by_type["dcat:Distribution"].size(), files.size() - 1);
  const auto listed = dataset->getArray("dcat:distribution");
  EXPECT_EQ(listed->size(), files.size() - 1);
  for (const auto& d : by_type["dcat:Distribution"]) {
    const std::string download = iri(d, "dcat:downloadURL");
    const std::string prefix = DatasetIri(kBaseUrl, hub->first.release) + "/files/";
    ASSERT_TRUE(download.starts_with(prefix)) << download;
    const std::string path = download.substr(prefix.size());
    ASSERT_TRUE(files.count(path)) << path;
    EXPECT_EQ(iri(d, "dcat:accessURL"), DatasetIri(kBaseUrl, hub->first.release));
    EXPECT_EQ(iri(d, "dct:license"),
              "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0");
    if (!path.ends_with(".avro")) {
      EXPECT_TRUE(
          iri(d, "dcat:mediaType").starts_with("https://www.iana.org/assignments/media-types/"));
    }
    EXPECT_EQ(literal(d, "dcat:byteSize"), std::to_string(files.at(path).size()));
    const auto checksum = d->getObject("spdx:checksum");
    EXPECT_EQ(checksum->getValue<std::string>("@type"), "spdx:Checksum");
    EXPECT_EQ(iri(checksum, "spdx:algorithm"), "spdx:checksumAlgorithm_sha256");
    EXPECT_EQ(literal(checksum, "spdx:checksumValue"), Sha256Hex(files.at(path)));
  }
  // The store lists the same files with their SHA-256, the catalog too, for the HTTP API.
  Store store = Store::Open(hub->dir);
  for (const auto& [path, bytes] : files) {
    const auto recorded = FindPublishedFile(store.db(), hub->first.release, path);
    ASSERT_TRUE(recorded) << path;
    EXPECT_EQ(recorded->sha256, Sha256Hex(bytes)) << path;
  }
}

// The same catalog as RDF: rdflib (python3-rdflib) parses the JSON-LD and the script checks the
// DCAT-AP 3.0 mandatory classes and properties on the triples, and that no node is blank.
TEST_F(PublishTest, CatalogParsesAsRdfAndMeetsDcatAp3) {
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " +
                           (SourceDir() / "tests/data/publish/dcat_ap_check.py").string() + " " +
                           (Release() / "catalog.json").string() + " " + kBaseUrl + " 2>&1",
                       &out),
            0)
      << out;
  EXPECT_TRUE(out.starts_with("ok ")) << out;
}

}  // namespace
}  // namespace carehub
