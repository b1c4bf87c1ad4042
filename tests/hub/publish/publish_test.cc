// Open datasets (`carehub publish`, hub/publish/publish.h): disclosure control (no small count, no
// suppressed cell recoverable from the published totals by subtraction or by interval bounds),
// no personal data in any file, a DCAT catalog whose sizes and checksums match, reproducible
// and immutable releases, Hive-partitioned Avro read by python3-avro, retracted records left
// out, errors that leave nothing behind.
// One Guangdong hub (nine prefectures) is built per process from generated native files; the
// `carehub publish` CLI is run where the tests compare it with the library.
#include "hub/publish/publish.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <unordered_set>

#include "connectors/generator.h"
#include "connectors/profile.h"
#include "hub/publish/publish_internal.h"
#include "hub/publish/suppress.h"
#include "hub/store/ingest.h"
#include "hub/store/keys.h"
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

constexpr std::int64_t kThreshold = 10;
constexpr int kRowsPerKind = 150;
constexpr int kRetracted = 7;
const char* const kKinds[] = {"assessment", "caregiver", "facility", "sanction"};

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

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return ToHex(digest, sizeof digest);
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

// The subtraction attack on published additive relations: parent = sum of children. An
// unknown (suppressed) value follows when it is the only unknown of a relation, or when the
// unknown children of a known parent leave exactly 1 each (cells are >= 1: zeros are absent).
// Iterated to a fixed point. Returns the recovered cells; also checks fully known relations add up.
class Attacker {
 public:
  void Cell(const std::string& id, std::optional<std::int64_t> value) {
    const auto [it, fresh] = values_.emplace(id, value);
    if (!fresh) {
      EXPECT_EQ(it->second, value) << "cell " << id << " published twice, differently";
    }
  }
  void Relation(const std::string& parent, std::vector<std::string> children) {
    relations_.push_back({parent, std::move(children)});
  }
  std::set<std::string> Attack() {
    std::set<std::string> recovered;
    for (const auto& [parent, children] : relations_) {
      EXPECT_TRUE(values_.count(parent)) << "relation with unknown parent " << parent;
      for (const auto& c : children) EXPECT_TRUE(values_.count(c)) << c;
    }
    bool changed = true;
    while (changed) {
      changed = false;
      for (const auto& [parent, children] : relations_) {
        std::vector<std::string> unknown;
        std::int64_t known_children = 0;
        for (const auto& c : children) {
          const auto& v = values_.at(c);
          if (v) {
            known_children += *v;
          } else {
            unknown.push_back(c);
          }
        }
        auto& p = values_.at(parent);
        if (p && unknown.empty()) {
          EXPECT_EQ(*p, known_children) << "published relation does not add up: " << parent;
          continue;
        }
        if (!p && unknown.empty()) {
          p = known_children;
          recovered.insert(parent);
          changed = true;
        } else if (p && unknown.size() == 1) {
          values_.at(unknown[0]) = *p - known_children;
          recovered.insert(unknown[0]);
          changed = true;
        } else if (p && *p - known_children == static_cast<std::int64_t>(unknown.size())) {
          for (const auto& u : unknown) {
            values_.at(u) = 1;
            recovered.insert(u);
          }
          changed = true;
        }
      }
    }
    return recovered;
  }
  // A stronger attacker: interval bounds. Every hidden cell is in [1, inf) (zeros are absent),
  // and each relation narrows its hidden members from the others' bounds, across relations,
  // until nothing changes. Returns the hidden cells whose interval closes to one value.
  std::set<std::string> BoundsAttack() const {
    constexpr std::int64_t kInf = std::int64_t{1} << 40;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> b;
    for (const auto& [id, v] : values_)
      b[id] = v ? std::pair(*v, *v) : std::pair(std::int64_t{1}, kInf);
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [parent, children] : relations_) {
        std::int64_t lo = 0, hi = 0;
        for (const auto& c : children) {
          lo += b[c].first;
          hi = std::min(kInf, hi + b[c].second);
        }
        auto narrow = [&](const std::string& id, std::int64_t new_lo, std::int64_t new_hi) {
          auto& [l, h] = b[id];
          if (new_lo > l) {
            l = new_lo;
            changed = true;
          }
          if (new_hi < h) {
            h = new_hi;
            changed = true;
          }
        };
        narrow(parent, lo, hi);
        const auto [plo, phi] = b[parent];
        for (const auto& c : children) {
          const auto [clo, chi] = b[c];
          const std::int64_t others_lo = lo - clo;
          const std::int64_t others_hi = hi >= kInf || chi >= kInf ? kInf : hi - chi;
          narrow(c, others_hi >= kInf ? clo : plo - others_hi,
                 phi >= kInf ? kInf : phi - others_lo);
        }
      }
    }
    std::set<std::string> recovered;
    for (const auto& [id, v] : values_) {
      if (!v && b[id].first == b[id].second) recovered.insert(id);
      EXPECT_LE(b[id].first, b[id].second) << id;
    }
    return recovered;
  }
  std::size_t unknowns() const {
    std::size_t n = 0;
    for (const auto& [id, v] : values_) n += v ? 0 : 1;
    return n;
  }

 private:
  std::map<std::string, std::optional<std::int64_t>> values_;
  std::vector<std::pair<std::string, std::vector<std::string>>> relations_;
};

std::optional<std::int64_t> CountOf(const std::map<std::string, std::string>& row) {
  const std::string& text = row.at("count");
  const bool suppressed = row.at("suppressed") == "true";
  EXPECT_EQ(text.empty(), suppressed);
  EXPECT_TRUE(row.at("suppressed") == "true" || row.at("suppressed") == "false");
  if (text.empty()) return std::nullopt;
  return std::stoll(text);
}

// The class a detailed cell is totalled under (docs/DATASETS.md, summary.csv).
std::string ClassOf(const std::map<std::string, std::string>& row) {
  if (row.at("kind") == "sanction") return row.at("sanction_type");
  if (!row.at("pivot_level").empty()) return row.at("pivot_level");
  return row.at("kind") == "facility" ? "ungraded" : "none";
}

// The hub, built once for the suite: gd (nine prefectures), all four kinds, some retractions,
// published once into out/.
struct Hub {
  TempDir tmp;
  fs::path dir, native, out;
  PublishSummary first;
  std::map<std::string, std::int64_t> active_by_kind;  // records not retracted
  std::int64_t retracted_assessments = 0;
};
Hub* hub = nullptr;

class PublishTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hub = new Hub;
    hub->dir = hub->tmp / "hub";
    hub->native = hub->tmp / "native";
    hub->out = hub->tmp / "out";
    fs::create_directories(hub->native);
    // In process (what `carehub init`, `gen` and `ingest` do): one sanitised process, not five.
    Store store = Store::Init(hub->dir, {.region = "gd"});
    ConnectorEngine engine(EngineOptionsFor(store));
    Ingester ingester(store, engine);
    for (const char* kind : kKinds) {
      const auto file = hub->native / (std::string(kind) + ".csv");
      const Profile* profile = FindBuiltinProfile("guangdong/" + std::string(kind));
      ASSERT_NE(profile, nullptr) << kind;
      GeneratorOptions generate;
      generate.rows = kRowsPerKind;
      generate.seed = 11;
      Generator(*profile, generate).Write(file.string());
      const IngestSummary ingested = ingester.IngestFile(file.string());
      ASSERT_GT(ingested.accepted, kRowsPerKind / 2) << kind;
    }
    std::vector<std::string> ids;
    store.ForEachRecord({.kind = RecordKind::kAssessment, .origin = std::nullopt},
                        [&](const StoredRecord& r) {
                          if (r.status != RecordStatus::kRetracted) ids.push_back(r.record_id);
                          return ids.size() < kRetracted;
                        });
    for (const auto& id : ids) {
      if (store.Retract(id)) ++hub->retracted_assessments;
    }
    store.ForEachRecord({}, [&](const StoredRecord& r) {
      if (r.status != RecordStatus::kRetracted)
        ++hub->active_by_kind[std::string(KindName(r.kind))];
      return true;
    });
    hub->first = Publish(store, {.out_dir = hub->out, .threshold = kThreshold}, 1);
  }
  static void TearDownTestSuite() {
    delete hub;
    hub = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(hub != nullptr && fs::exists(hub->first.path)); }
  static fs::path Release() { return hub->first.path; }
};

TEST_F(PublishTest, NoPublishedCountIsBelowTheThreshold) {
  int tables = 0;
  std::int64_t suppressed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(Release())) {
    if (entry.path().extension() != ".csv") continue;
    ++tables;
    for (const auto& row : ReadTable(entry.path())) {
      const auto count = CountOf(row);
      if (count) {
        EXPECT_GE(*count, kThreshold) << entry.path();
      } else if (entry.path().filename() == "counts.csv" ||
                 entry.path().filename() == "summary.csv") {
        ++suppressed;
      }
    }
  }
  EXPECT_EQ(tables, 6);  // counts, summary and the four per-kind views
  // Not vacuous: the data has small cells, and complementary ones were needed.
  EXPECT_GT(hub->first.suppressed_primary, 0);
  EXPECT_GT(hub->first.suppressed_secondary, 0);
  EXPECT_EQ(suppressed, hub->first.suppressed_primary + hub->first.suppressed_secondary);
  EXPECT_EQ(hub->first.cells,
            static_cast<std::int64_t>(ReadTable(Release() / "counts.csv").size() +
                                      ReadTable(Release() / "summary.csv").size()));
}

TEST_F(PublishTest, SuppressedCellsCannotBeRecoveredFromPublishedTotals) {
  Attacker attacker;
  const auto summary = ReadTable(Release() / "summary.csv");
  std::map<std::string, std::set<std::string>> regions_of_kind, classes_of;
  for (const auto& row : summary) {
    const std::string kind = row.at("kind"), region = row.at("region"), cls = row.at("class");
    attacker.Cell("S|" + kind + "|" + region + "|" + cls, CountOf(row));
    if (region != "all" && cls == "all") regions_of_kind[kind].insert(region);
    if (region != "all" && cls != "all") classes_of[kind + "|" + region].insert(cls);
  }
  // The per-kind views repeat summary.csv: same values or the attacker would see more.
  const std::map<std::string, std::pair<std::string, std::string>> views = {
      {"assessments_by_level.csv", {"assessment", "pivot_level"}},
      {"caregiver_qualifications.csv", {"caregiver", "level"}},
      {"facility_ratings.csv", {"facility", "grade"}},
      {"sanctions.csv", {"sanction", "sanction_type"}}};
  for (const auto& [file, kind_column] : views) {
    for (const auto& row : ReadTable(Release() / file)) {
      attacker.Cell(
          "S|" + kind_column.first + "|" + row.at("region") + "|" + row.at(kind_column.second),
          CountOf(row));
    }
  }
  std::map<std::string, std::vector<std::string>> detail_of;
  int n = 0;
  for (const auto& row : ReadTable(Release() / "counts.csv")) {
    const std::string id = "D" + std::to_string(n++);
    attacker.Cell(id, CountOf(row));
    detail_of["S|" + row.at("kind") + "|" + row.at("region") + "|" + ClassOf(row)].push_back(id);
  }
  for (const auto& [kind, regions] : regions_of_kind) {
    std::vector<std::string> children;
    for (const auto& region : regions) {
      children.push_back("S|" + kind + "|" + region + "|all");
      std::vector<std::string> classes;
      for (const auto& cls : classes_of[kind + "|" + region]) {
        const std::string node = "S|" + kind + "|" + region + "|" + cls;
        classes.push_back(node);
        EXPECT_FALSE(detail_of[node].empty()) << node;
        attacker.Relation(node, detail_of[node]);
      }
      attacker.Relation("S|" + kind + "|" + region + "|all", classes);
    }
    attacker.Relation("S|" + kind + "|all|all", children);
  }
  const std::size_t unknowns = attacker.unknowns();
  EXPECT_GT(unknowns, 20u);
  const auto bounded = attacker.BoundsAttack();
  EXPECT_TRUE(bounded.empty()) << bounded.size() << " of " << unknowns
                               << " suppressed cells pinned by bounds, e.g. " << *bounded.begin();
  const auto recovered = attacker.Attack();
  EXPECT_TRUE(recovered.empty()) << recovered.size() << " of " << unknowns
                                 << " suppressed cells recovered, e.g. " << *recovered.begin();
}

// Both attacks on many random trees, straight on SuppressionTree.
TEST(PublishSuppressionTest, RandomTreesResistSubtractionAndBoundsAttacks) {
  std::mt19937 rng(20261123);
  int primary = 0;
  int recovered_without_complement = 0;
  int bounds_failures = 0;
  for (int round = 0; round < 400; ++round) {
    SuppressionTree tree;
    std::vector<std::vector<int>> children_of;
    std::vector<std::int64_t> values;
    std::vector<int> parents;
    // Generate shape: depth 1..3 under a root, 1..5 children each, leaves skewed small.
    std::function<std::int64_t(int, int)> grow = [&](int parent, int depth) -> std::int64_t {
      const int index = static_cast<int>(values.size());
      values.push_back(0);
      parents.push_back(parent);
      children_of.emplace_back();
      if (parent >= 0) children_of[static_cast<std::size_t>(parent)].push_back(index);
      std::int64_t sum = 0;
      if (depth == 0) {
        // Half the trees sparse (mostly 1s and 2s), half with counts around the threshold.
        const double rate = round % 2 == 0 ? 0.12 : 0.7;
        sum = 1 + static_cast<std::int64_t>(std::exponential_distribution<double>(rate)(rng));
      } else {
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) sum += grow(index, depth - 1);
      }
      values[static_cast<std::size_t>(index)] = sum;
      return sum;
    };
    grow(-1, 1 + static_cast<int>(rng() % 3));
    for (std::size_t i = 0; i < values.size(); ++i) tree.Add(values[i], parents[i]);
    tree.Suppress(kThreshold);
    primary += static_cast<int>(tree.primary_count());
    Attacker attacker;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const int node = static_cast<int>(i);
      if (!tree.suppressed(node)) {
        EXPECT_GE(tree.value(node), kThreshold);
      }
      attacker.Cell(std::to_string(i),
                    tree.suppressed(node) ? std::nullopt : std::optional(values[i]));
      if (values[i] < kThreshold) {
        EXPECT_TRUE(tree.suppressed(node));
      }
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (children_of[i].empty()) continue;
      std::vector<std::string> children;
      for (int c : children_of[i]) children.push_back(std::to_string(c));
      attacker.Relation(std::to_string(i), children);
    }
    const auto bounded = attacker.BoundsAttack();
    EXPECT_TRUE(bounded.empty()) << "round " << round << ": bounds pin " << *bounded.begin();
    bounds_failures += bounded.empty() ? 0 : 1;
    const auto recovered = attacker.Attack();
    ASSERT_TRUE(recovered.empty()) << "round " << round << ": recovered " << *recovered.begin();
    // The attack has teeth: with primary suppression alone it recovers cells.
    Attacker naive;
    for (std::size_t i = 0; i < values.size(); ++i) {
      naive.Cell(std::to_string(i),
                 values[i] < kThreshold ? std::nullopt : std::optional(values[i]));
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (children_of[i].empty()) continue;
      std::vector<std::string> children;
      for (int c : children_of[i]) children.push_back(std::to_string(c));
      naive.Relation(std::to_string(i), children);
    }
    recovered_without_complement += static_cast<int>(naive.Attack().size());
  }
  EXPECT_GT(primary, 100);
  EXPECT_GT(recovered_without_complement, 50);
  EXPECT_EQ(bounds_failures, 0);
}

TEST(PublishSuppressionTest, HiddenCellsThatWouldAllBeOneGetACompanion) {
  SuppressionTree tree;
  const int root = tree.Add(12, SuppressionTree::kNoParent);
  const int a = tree.Add(1, root);
  const int b = tree.Add(1, root);
  const int c = tree.Add(10, root);
  tree.Suppress(kThreshold);
  EXPECT_FALSE(tree.suppressed(root));
  EXPECT_TRUE(tree.suppressed(a));
  EXPECT_TRUE(tree.suppressed(b));
  EXPECT_TRUE(tree.suppressed(c));  // else 12 - 10 = 2 = 1 + 1 would give both away
  EXPECT_EQ(tree.primary_count(), 2);
  EXPECT_EQ(tree.secondary_count(), 1);
}

TEST(PublishSuppressionTest, ThresholdOneSuppressesNothingAndZeroCellsAreRefused) {
  SuppressionTree tree;
  const int root = tree.Add(3, SuppressionTree::kNoParent);
  tree.Add(1, root);
  tree.Add(2, root);
  tree.Suppress(1);
  EXPECT_EQ(tree.primary_count() + tree.secondary_count(), 0);
  EXPECT_THROW(tree.Add(0, root), Error);
  EXPECT_THROW(tree.Add(5, 17), Error);
}

// Values of the native files' personal and organisation columns (from the region's profile),
// plus birth dates read from PRC resident ids.
std::vector<std::string> NativeSecrets() {
  static const std::set<std::string> kSecretFields = {
      "person_name", "person_id",     "person_alt_id", "birth_date",
      "org_uscc",    "employer_uscc", "source_id",     "certificate_no",
      "org_name",    "employer_name", "org_local_id",  "employer_local_id"};
  std::vector<std::string> secrets;
  for (const char* kind : kKinds) {
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
    const auto rows = ParseCsv(Slurp(hub->native / (std::string(kind) + ".csv")), delimiter.at(0));
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

// Publish's steps one by one (issue 11): the counted cells add up to the records, the totals
// tree repeats them, and the release name is content-derived.
TEST_F(PublishTest, StepsCountBuildRenderAndNameTheRelease) {
  using namespace publish_internal;
  Store store = Store::Open(hub->dir);
  std::int64_t records = 0;
  const CellCounts cells = CountCells(store, std::nullopt, records);
  std::int64_t sum = 0;
  for (const auto& [key, count] : cells) sum += count;
  EXPECT_EQ(sum, records);
  EXPECT_EQ(records, hub->first.records);
  const Aggregates aggregates = BuildSuppressedTotals(cells, kThreshold);
  EXPECT_EQ(aggregates.detail.size(), cells.size());
  std::int64_t kinds_total = 0;
  for (const SummaryRow& row : aggregates.summary_rows) {
    if (row.region == "all") kinds_total += aggregates.tree.value(row.node);
  }
  EXPECT_EQ(kinds_total, records);
  ReleaseFiles files;
  AddCountFiles(aggregates, files);
  AddSummaryFiles(aggregates, files);
  AddSchemaFiles(files);
  PublishOptions options;
  options.threshold = kThreshold;
  EXPECT_EQ(ReleaseName(files, options), hub->first.release);
  EXPECT_EQ(files.at("counts.csv").bytes, Slurp(Release() / "counts.csv"));
}

TEST_F(PublishTest, NoPersonalDataInAnyFile) {
  std::vector<std::string> secrets = NativeSecrets();
  const std::size_t native = secrets.size();
  EXPECT_GT(native, static_cast<std::size_t>(4 * kRowsPerKind * 3));
  {
    Store store = Store::Open(hub->dir);
    // Every person token of every record (record_persons holds only 8-byte keys of them).
    std::set<Hmac256> tokens;
    sqlite::Statement bodies(store.db(), "SELECT body FROM records");
    while (bodies.Step()) {
      for (const Hmac256& token : ColumnsOf(DecodeSingleObject(bodies.ColumnBlob(0))).tokens) {
        tokens.insert(token);
      }
    }
    int n = 0;
    for (const Hmac256& token : tokens) {
      const std::string_view raw(reinterpret_cast<const char*>(token.data()), token.size());
      secrets.emplace_back(raw);
      std::string hex = ToHex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
      secrets.push_back(hex);
      for (char& ch : hex) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      secrets.push_back(hex);
      ++n;
    }
    EXPECT_GT(n, kRowsPerKind);
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
  // The scanner finds what it looks for.
  EXPECT_TRUE(find_secret("a,b," + secrets.front() + ",c"));
  EXPECT_TRUE(find_secret("\x01" + secrets.back()));
  std::size_t scanned = 0;
  for (const auto& [path, raw] : Files(Release())) {
    const std::string bytes = path + "\n" + raw;
    scanned += bytes.size();
    const auto found = find_secret(bytes);
    EXPECT_FALSE(found) << "'" << *found << "' found in " << path;
  }
  EXPECT_GT(scanned, 10000u);
  std::cerr << "scanned " << scanned << " bytes for " << secrets.size() << " secrets (" << native
            << " from native files)\n";
}

TEST_F(PublishTest, CatalogIsDcatWithMatchingSizesAndChecksums) {
  Poco::JSON::Parser parser;
  const auto catalog =
      parser.parse(Slurp(Release() / "catalog.json")).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(catalog->getValue<std::string>("identifier"), hub->first.release);
  for (const char* key : {"title", "description", "license"}) {
    EXPECT_FALSE(catalog->optValue<std::string>(key, "").empty()) << key;
  }
  ASSERT_TRUE(catalog->getObject("publisher"));
  EXPECT_FALSE(catalog->getObject("publisher")->getValue<std::string>("name").empty());
  ASSERT_TRUE(catalog->getObject("temporal"));
  EXPECT_EQ(catalog->getObject("temporal")->getValue<std::string>("startDate").size(), 10u);
  EXPECT_EQ(catalog->getObject("temporal")->getValue<std::string>("endDate").size(), 10u);
  ASSERT_TRUE(catalog->getObject("spatial"));
  EXPECT_GE(catalog->getObject("spatial")->getArray("regions")->size(), 5u);
  const auto control = catalog->getObject("disclosureControl");
  ASSERT_TRUE(control);
  EXPECT_EQ(control->getValue<std::int64_t>("threshold"), kThreshold);

  auto files = Files(Release());
  ASSERT_EQ(files.erase("catalog.json"), 1u);
  const auto dists = catalog->getArray("distribution");
  ASSERT_TRUE(dists);
  std::set<std::string> listed;
  for (std::size_t i = 0; i < dists->size(); ++i) {
    const auto d = dists->getObject(static_cast<unsigned>(i));
    const std::string url = d->getValue<std::string>("downloadURL");
    EXPECT_TRUE(listed.insert(url).second) << url;
    ASSERT_TRUE(files.count(url)) << url;
    EXPECT_FALSE(d->getValue<std::string>("title").empty());
    const std::string media = d->getValue<std::string>("mediaType");
    EXPECT_EQ(media, url.ends_with(".csv")    ? "text/csv"
                     : url.ends_with(".avro") ? "application/avro"
                                              : "application/json")
        << url;
    EXPECT_EQ(d->getValue<std::uint64_t>("byteSize"), files[url].size()) << url;
    EXPECT_EQ(d->getObject("checksum")->getValue<std::string>("checksumValue"),
              Sha256Hex(files[url]))
        << url;
  }
  EXPECT_EQ(listed.size(), files.size());
}

TEST_F(PublishTest, RepublishingGivesIdenticalBytesAndReleasesAreImmutable) {
  // Another out dir, through the CLI: same default name, same bytes.
  const auto out2 = hub->tmp / "out2";
  std::string stdout_text;
  ASSERT_EQ(RunCommand(CarehubBinary() + " publish --dir " + hub->dir.string() + " --out " +
                           out2.string() + " 2>/dev/null",
                       &stdout_text),
            0);
  EXPECT_EQ(stdout_text, (out2 / hub->first.release).string() + "\n");
  EXPECT_EQ(Files(out2 / hub->first.release), Files(Release()));

  Store store = Store::Open(hub->dir);
  // The same out dir: recognised as the same release, nothing rewritten.
  const auto again = Publish(store, {.out_dir = hub->out, .threshold = kThreshold}, 2);
  EXPECT_EQ(again.release, hub->first.release);
  EXPECT_TRUE(again.unchanged);
  EXPECT_EQ(Files(Release()), Files(out2 / hub->first.release));

  // A named release with other content (another threshold) is refused, and left as it was.
  const auto v1 = Publish(store, {.out_dir = out2, .release = "v1", .threshold = kThreshold}, 3);
  EXPECT_FALSE(v1.unchanged);
  const auto before = Files(v1.path);
  EXPECT_THROW(Publish(store, {.out_dir = out2, .release = "v1", .threshold = 5}, 4), Error);
  EXPECT_EQ(Files(v1.path), before);
  // So is a default-named release whose folder was tampered with.
  { std::ofstream(out2 / hub->first.release / "counts.csv", std::ios::app) << "x"; }
  EXPECT_THROW(Publish(store, {.out_dir = out2, .threshold = kThreshold}, 5), Error);
  // No temporary folders are left behind.
  for (const auto& entry : fs::directory_iterator(out2)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".")) << entry.path();
  }
  EXPECT_THROW(Publish(store, {.out_dir = out2, .release = "../x"}, 6), Error);
  EXPECT_THROW(Publish(store, {.out_dir = out2, .release = ".hidden"}, 6), Error);
}

TEST_F(PublishTest, ConcurrentPublishesOfTheSameDataBothSucceed) {
  const auto out = hub->tmp / "out-concurrent";
  const std::string publish =
      CarehubBinary() + " publish --dir " + hub->dir.string() + " --out " + out.string() + " 2>&1";
  std::string log;
  const int rc = RunCommand("(" + publish + ") > " + (hub->tmp / "c1.log").string() + " & a=$!; (" +
                                publish + ") > " + (hub->tmp / "c2.log").string() +
                                " & b=$!; wait $a; ra=$?; wait $b; rb=$?; exit $((ra + rb))",
                            &log);
  EXPECT_EQ(rc, 0) << Slurp(hub->tmp / "c1.log") << Slurp(hub->tmp / "c2.log");
  EXPECT_EQ(Files(out / hub->first.release), Files(Release()));
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename(), hub->first.release);  // no partial folder left
  }
}

TEST_F(PublishTest, AnUndecodableRecordFailsThePublishAndWritesNothing) {
  const auto copy = hub->tmp / "hub-corrupt";
  // No writer is running: a copy of the folder (database and WAL) is a consistent hub.
  fs::copy(hub->dir, copy, fs::copy_options::recursive);
  Store store = Store::Open(copy);
  store.db().Exec(
      "UPDATE records SET body = x'c30100' WHERE rowid = (SELECT max(rowid) / 2 FROM records)");
  const auto out = hub->tmp / "out-corrupt";
  EXPECT_THROW(Publish(store, {.out_dir = out, .threshold = kThreshold}, 7), Error);
  EXPECT_TRUE(!fs::exists(out) || fs::is_empty(out));
}

TEST_F(PublishTest, HivePartitionsAreReadableByPythonAvroAndMatchTheCsv) {
  // Per partition: rows, suppressed rows and the sum of published counts.
  std::map<std::string, std::array<std::int64_t, 3>> expected;
  for (const auto& row : ReadTable(Release() / "counts.csv")) {
    auto& e = expected["kind=" + row.at("kind") + "/region=" + row.at("region") +
                       "/quarter=" + row.at("quarter")];
    ++e[0];
    const auto count = CountOf(row);
    e[1] += count ? 0 : 1;
    e[2] += count.value_or(0);
  }
  const std::string script =
      "import sys, os, avro.datafile, avro.io\n"
      "root = sys.argv[1]\n"
      "for d, _, names in sorted(os.walk(root)):\n"
      "  for n in sorted(names):\n"
      "    p = os.path.join(d, n)\n"
      "    r = avro.datafile.DataFileReader(open(p, 'rb'), avro.io.DatumReader())\n"
      "    rows = list(r)\n"
      "    s = sum(x['count'] or 0 for x in rows)\n"
      "    h = sum(1 for x in rows if x['suppressed'] and x['count'] is None)\n"
      "    print(os.path.relpath(d, root), n, len(rows), h, s)\n";
  std::ofstream(hub->tmp / "read_parts.py") << script;
  std::string py;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (hub->tmp / "read_parts.py").string() + " " +
                           (Release() / "counts").string(),
                       &py),
            0)
      << py;
  std::map<std::string, std::array<std::int64_t, 3>> seen;
  std::istringstream lines(py);
  std::string part, name;
  std::int64_t rows = 0, hidden = 0, sum = 0;
  while (lines >> part >> name >> rows >> hidden >> sum) {
    EXPECT_EQ(name, "part-0.avro");
    seen[part] = {rows, hidden, sum};
  }
  EXPECT_EQ(seen, expected);
  EXPECT_GT(seen.size(), 20u);
  // summary.avro too.
  std::string summary_py;
  ASSERT_EQ(RunCommand("/usr/bin/python3 -c \"import sys, avro.datafile, avro.io; "
                       "print(len(list(avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), "
                       "avro.io.DatumReader()))))\" " +
                           (Release() / "summary.avro").string(),
                       &summary_py),
            0);
  EXPECT_EQ(summary_py, std::to_string(ReadTable(Release() / "summary.csv").size()) + "\n");
}

TEST_F(PublishTest, RetractedRecordsAreNotCounted) {
  EXPECT_EQ(hub->retracted_assessments, kRetracted);
  std::int64_t active = 0;
  for (const auto& [kind, n] : hub->active_by_kind) active += n;
  EXPECT_EQ(hub->first.records, active);
  std::map<std::string, std::int64_t> kind_totals;
  for (const auto& row : ReadTable(Release() / "summary.csv")) {
    if (row.at("region") == "all" && row.at("class") == "all") {
      ASSERT_TRUE(CountOf(row)) << row.at("kind");
      kind_totals[row.at("kind")] = *CountOf(row);
    }
  }
  EXPECT_EQ(kind_totals, hub->active_by_kind);
  Store store = Store::Open(hub->dir);
  std::int64_t all = 0;
  store.ForEachRecord({.kind = RecordKind::kAssessment, .origin = std::nullopt},
                      [&](const StoredRecord&) {
                        ++all;
                        return true;
                      });
  EXPECT_EQ(kind_totals["assessment"], all - kRetracted);
}

}  // namespace
}  // namespace carehub
