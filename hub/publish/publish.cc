#include "hub/publish/publish.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "connectors/csv_reader.h"
#include "connectors/profile.h"
#include "hub/publish/ocf.h"
#include "hub/publish/publish_internal.h"
#include "hub/publish/suppress.h"
#include "hub/store/published_files.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;

// Columns of a detailed cell, in key order. The first three are the Hive partition columns.
enum Col { kKind, kRegion, kQuarter, kPivot, kScale, kCode, kSanctionType, kAge, kSex, kCols };
constexpr const char* kColNames[kCols] = {"kind",          "region",       "quarter",
                                          "pivot_level",   "native_scale", "native_code",
                                          "sanction_type", "age_band",     "sex"};
constexpr char kSep = '\x1f';

constexpr std::string_view kCellSchema = R"({
  "type": "record", "name": "CellCount", "namespace": "carehub.open.v1",
  "doc": "Records in one cell of a carehub open dataset. The partition columns kind, region (GB/T 2260 prefecture code) and quarter (YYYYQn) are in the folder names. count is null when suppressed.",
  "fields": [
    {"name": "pivot_level", "type": ["null", "long"], "doc": "carehub pivot level, null when the record has none"},
    {"name": "native_scale", "type": "string"},
    {"name": "native_code", "type": "string"},
    {"name": "sanction_type", "type": ["null", "string"], "doc": "PENALTY, BLACKLIST or DISHONESTY; null for other kinds"},
    {"name": "age_band", "type": ["null", "string"], "doc": "5-year band of age at the record date (80-84, 100+, unknown); null for organisations"},
    {"name": "sex", "type": ["null", "string"], "doc": "M, F or U; null for organisations"},
    {"name": "count", "type": ["null", "long"]},
    {"name": "suppressed", "type": "boolean"}
  ]
}
)";

constexpr std::string_view kSummarySchema = R"({
  "type": "record", "name": "SummaryCount", "namespace": "carehub.open.v1",
  "doc": "Totals of a carehub open dataset: per kind, region ('all' = every region) and class ('all' = every class) where class_dim names the class (pivot_level, level, grade or sanction_type). count is null when suppressed.",
  "fields": [
    {"name": "kind", "type": "string"},
    {"name": "region", "type": "string"},
    {"name": "class_dim", "type": "string"},
    {"name": "class", "type": "string"},
    {"name": "count", "type": ["null", "long"]},
    {"name": "suppressed", "type": "boolean"}
  ]
}
)";

std::vector<std::string> SplitKey(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t sep = key.find(kSep, start);
    parts.push_back(key.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (sep == std::string::npos) break;
    start = sep + 1;
  }
  return parts;
}

std::string Prefecture(const std::optional<std::string>& code, const std::string& fallback) {
  const std::string& c = code && code->size() == 6 ? *code : fallback;
  if (c.size() != 6) return "unknown";
  return c.substr(0, 4) + "00";
}

std::string QuarterOf(Date date) {
  const std::chrono::year_month_day ymd(date);
  return std::to_string(static_cast<int>(ymd.year())) + "Q" +
         std::to_string((static_cast<unsigned>(ymd.month()) - 1) / 3 + 1);
}

std::string AgeBand(const std::optional<int>& birth_year, Date on) {
  if (!birth_year) return "unknown";
  const int age = static_cast<int>(std::chrono::year_month_day(on).year()) - *birth_year;
  if (age < 0) return "unknown";
  if (age >= 100) return "100+";
  const int low = age / 5 * 5;
  return std::to_string(low) + "-" + std::to_string(low + 4);
}

std::string SexCode(Sex sex) { return std::string(SexName(sex)); }  // "M", "F", "U"

std::string PivotText(const std::optional<PivotLevel>& pivot) {
  return pivot ? std::to_string(pivot->level) : std::string();
}

std::string SanctionTypeText(SanctionType type) {
  return type == SanctionType::kPenalty     ? "PENALTY"
         : type == SanctionType::kBlacklist ? "BLACKLIST"
                                            : "DISHONESTY";
}

// The detailed cell key of a record (kCols fields joined by kSep), built into `key`; reusing
// `f` and `key` across records keeps the scan free of allocations for known cells.
void CellKey(const CanonicalRecord& record, const std::string& origin, std::string (&f)[kCols],
             std::string& key) {
  Date date{};
  for (std::string& field : f) field.clear();
  f[kKind] = KindName(record.kind());
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        f[kScale] = body.native.scale;
        f[kCode] = body.native.code;
        if constexpr (std::is_same_v<T, Assessment>) {
          date = body.assessed_on;
          f[kRegion] = Prefecture(body.person.residence_region,
                                  body.assessor ? body.assessor->region : origin);
          f[kPivot] = PivotText(body.pivot);
          f[kAge] = AgeBand(body.person.birth_year, date);
          f[kSex] = SexCode(body.person.sex);
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          date = body.issued_on;
          f[kRegion] = Prefecture(
              body.employer ? std::optional(body.employer->region) : body.person.residence_region,
              origin);
          f[kPivot] = PivotText(body.pivot);
          f[kAge] = AgeBand(body.person.birth_year, date);
          f[kSex] = SexCode(body.person.sex);
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          date = body.rated_on;
          f[kRegion] = Prefecture(body.facility.region, origin);
          f[kPivot] = PivotText(body.pivot);
        } else {
          date = body.decided_on;
          f[kSanctionType] = SanctionTypeText(body.sanction_type);
          const std::string& issuer = body.issuing_region.empty() ? origin : body.issuing_region;
          if (body.subject_person) {
            f[kRegion] = Prefecture(body.subject_person->residence_region, issuer);
            f[kAge] = AgeBand(body.subject_person->birth_year, date);
            f[kSex] = SexCode(body.subject_person->sex);
          } else {
            f[kRegion] = Prefecture(
                body.subject_org ? std::optional(body.subject_org->region) : std::nullopt, issuer);
          }
        }
      },
      record.body);
  f[kQuarter] = QuarterOf(date);
  key.clear();
  for (int i = 0; i < kCols; ++i) {
    if (i) key += kSep;
    key += f[i];
  }
}

// Heterogeneous lookup: find a cell by a string_view without building a std::string.
struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

using HashedCells = std::unordered_map<std::string, std::int64_t, KeyHash, std::equal_to<>>;

// The class a detailed cell is totalled under, per kind.
std::string_view ClassDim(std::string_view kind) {
  if (kind == "assessment") return "pivot_level";
  if (kind == "caregiver") return "level";
  if (kind == "facility") return "grade";
  return "sanction_type";
}

std::string ClassOf(const std::vector<std::string>& f) {
  if (f[kKind] == "sanction") return f[kSanctionType];
  if (!f[kPivot].empty()) return f[kPivot];
  return f[kKind] == "facility" ? "ungraded" : "none";
}

void CsvRow(std::string& out, std::initializer_list<std::string_view> cells) {
  bool first = true;
  for (std::string_view c : cells) {
    if (!first) out += ',';
    first = false;
    AppendCsvField(out, c);
  }
  out += "\r\n";
}

std::optional<std::string> Nullable(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

std::string QuarterStart(const std::string& quarter) {
  const int q = quarter.back() - '0';
  static const char* kStart[] = {"01-01", "04-01", "07-01", "10-01"};
  return quarter.substr(0, 4) + "-" + kStart[q - 1];
}

std::string QuarterEnd(const std::string& quarter) {
  const int q = quarter.back() - '0';
  static const char* kEnd[] = {"03-31", "06-30", "09-30", "12-31"};
  return quarter.substr(0, 4) + "-" + kEnd[q - 1];
}

// `made` remembers the folders created already (a release has hundreds of partitions).
void WriteFile(const fs::path& path, const std::string& bytes, std::set<fs::path>& made) {
  if (made.insert(path.parent_path()).second) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error::IoError("cannot write " + path.string());
}

std::optional<std::string> ReadIfExists(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// True when `dir` holds exactly `files` (relative path -> bytes), nothing more or less.
bool SameRelease(const fs::path& dir, const publish_internal::ReleaseFiles& files) {
  std::size_t seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++seen;
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    const auto it = files.find(rel);
    if (it == files.end() || ReadIfExists(entry.path()) != it->second.bytes) return false;
  }
  return seen == files.size();
}

std::string PartialName(const std::string& release) {
  unsigned char nonce[6];
  randombytes_buf(nonce, sizeof nonce);
  char nonce_hex[2 * sizeof nonce + 1];
  sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
  return "." + release + ".partial-" + nonce_hex;
}

// The Avro datum of one detailed cell (kCellSchema).
std::string CellDatum(const std::vector<std::string>& f, const SuppressionTree& tree, int node) {
  std::string datum;
  AvroAppendOptionalLong(
      datum, f[kPivot].empty() ? std::nullopt : std::optional<std::int64_t>(std::stoll(f[kPivot])));
  AvroAppendString(datum, f[kScale]);
  AvroAppendString(datum, f[kCode]);
  AvroAppendOptionalString(datum, Nullable(f[kSanctionType]));
  AvroAppendOptionalString(datum, Nullable(f[kAge]));
  AvroAppendOptionalString(datum, Nullable(f[kSex]));
  AvroAppendOptionalLong(
      datum, tree.suppressed(node) ? std::nullopt : std::optional<std::int64_t>(tree.value(node)));
  AvroAppendBoolean(datum, tree.suppressed(node));
  return datum;
}

std::string CountText(const SuppressionTree& tree, int node) {
  return tree.suppressed(node) ? std::string() : std::to_string(tree.value(node));
}

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Object::Ptr CatalogContext() {
  Object::Ptr context = NewObject();
  context->set("@vocab", "http://www.w3.org/ns/dcat#");
  context->set("dct", "http://purl.org/dc/terms/");
  context->set("spdx", "http://spdx.org/rdf/terms#");
  // Plain keys, mapped to their vocabularies (DCAT 2 with Dublin Core terms and SPDX).
  for (const char* term : {"identifier", "title", "description", "publisher", "temporal", "spatial",
                           "license", "format", "conformsTo"}) {
    context->set(term, std::string("dct:") + term);
  }
  context->set("checksum", "spdx:checksum");
  context->set("algorithm", "spdx:algorithm");
  context->set("checksumValue", "spdx:checksumValue");
  return context;
}

Object::Ptr CatalogCoverage(const std::set<std::string>& quarters,
                            const std::set<std::string>& regions, Object& catalog) {
  Object::Ptr temporal = NewObject();
  temporal->set("startDate", quarters.empty()
                                 ? Poco::Dynamic::Var()
                                 : Poco::Dynamic::Var(QuarterStart(*quarters.begin())));
  temporal->set("endDate", quarters.empty() ? Poco::Dynamic::Var()
                                            : Poco::Dynamic::Var(QuarterEnd(*quarters.rbegin())));
  catalog.set("temporal", temporal);
  Object::Ptr spatial = NewObject();
  spatial->set("level", "prefecture (GB/T 2260 code truncated to xxxx00)");
  Array::Ptr region_list = new Array;
  for (const std::string& r : regions) region_list->add(r);
  spatial->set("regions", region_list);
  return spatial;
}

Object::Ptr DisclosureControl(const PublishOptions& options, const PublishSummary& summary) {
  Object::Ptr control = NewObject();
  control->set("threshold", options.threshold);
  control->set("rule", "counts 1.." + std::to_string(options.threshold - 1) +
                           " suppressed; complementary suppression so that every published total "
                           "relation has zero or at least two hidden cells, and no hidden value "
                           "follows from the published ones by arithmetic or by bounds (hidden "
                           "cells are at least 1); cells with no records are not listed (= 0)");
  control->set("cells", summary.cells);
  control->set("suppressedPrimary", summary.suppressed_primary);
  control->set("suppressedComplementary", summary.suppressed_secondary);
  return control;
}

Array::Ptr CatalogDistributions(const publish_internal::ReleaseFiles& files) {
  Array::Ptr distributions = new Array;
  for (const auto& [path, file] : files) {
    Object::Ptr dist = NewObject();
    dist->set("@type", "Distribution");
    dist->set("title", file.title);
    dist->set("downloadURL", path);
    dist->set("mediaType", file.media_type);
    dist->set("format", file.format);
    if (!file.conforms_to.empty()) dist->set("conformsTo", file.conforms_to);
    dist->set("byteSize", static_cast<std::uint64_t>(file.bytes.size()));
    Object::Ptr checksum = NewObject();
    checksum->set("algorithm", "spdx:checksumAlgorithm_sha256");
    checksum->set("checksumValue", publish_internal::Sha256Hex(file.bytes));
    dist->set("checksum", checksum);
    distributions->add(dist);
  }
  return distributions;
}

}  // namespace

namespace publish_internal {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void CheckOptions(const PublishOptions& options) {
  if (options.threshold < 1) throw Error::InvalidInput("threshold: must be at least 1");
  if (options.release && !IsValidReleaseName(*options.release)) {
    throw Error::InvalidInput("release: use 1-64 characters of A-Z a-z 0-9 . _ - (no leading .)");
  }
}

// Only origin and body are read, the body in place. Decoding dominates; decoding in worker
// threads while this thread reads was tried and gave no gain on the shared 2-core machine (more
// CPU for batching and merging), and neither did memory-mapping the store (which shows the whole
// file as resident memory).
CellCounts CountCells(Store& store, const std::optional<std::string>& origin,
                      std::int64_t& records) {
  HashedCells cells;
  sqlite::Statement scan(store.db(),
                         "SELECT origin, body FROM records WHERE status != ?1 AND "
                         "(?2 IS NULL OR origin = ?2) ORDER BY rowid");
  scan.Bind(1, StatusName(RecordStatus::kRetracted)).Bind(2, origin);
  std::string fields[kCols];
  std::string key;
  std::string record_origin;
  while (scan.Step()) {
    const CanonicalRecord record = DecodeSingleObject(scan.ColumnBlob(1));
    record_origin = scan.ColumnText(0);
    CellKey(record, record_origin, fields, key);
    const auto it = cells.find(std::string_view(key));
    if (it != cells.end()) {
      ++it->second;
    } else {
      cells.emplace(key, 1);
    }
    ++records;
  }
  return CellCounts(cells.begin(), cells.end());
}

Aggregates BuildSuppressedTotals(const CellCounts& cells, std::int64_t threshold) {
  Aggregates out;
  std::map<std::string, std::int64_t> kind_total, region_total, class_total;
  for (const auto& [key, count] : cells) {
    const auto f = SplitKey(key);
    kind_total[f[kKind]] += count;
    region_total[f[kKind] + kSep + f[kRegion]] += count;
    class_total[f[kKind] + kSep + f[kRegion] + kSep + ClassOf(f)] += count;
    out.quarters.insert(f[kQuarter]);
    out.regions.insert(f[kRegion]);
  }
  std::map<std::string, int> node_of;
  for (const auto& [kind, count] : kind_total) {
    node_of[kind] = out.tree.Add(count, SuppressionTree::kNoParent);
    out.summary_rows.push_back({kind, "all", std::string(ClassDim(kind)), "all", node_of[kind]});
  }
  for (const auto& [key, count] : region_total) {
    const auto f = SplitKey(key);
    node_of[key] = out.tree.Add(count, node_of.at(f[0]));
    out.summary_rows.push_back({f[0], f[1], std::string(ClassDim(f[0])), "all", node_of[key]});
  }
  for (const auto& [key, count] : class_total) {
    const auto f = SplitKey(key);
    node_of[key] = out.tree.Add(count, node_of.at(f[0] + kSep + f[1]));
    out.summary_rows.push_back({f[0], f[1], std::string(ClassDim(f[0])), f[2], node_of[key]});
  }
  out.detail.reserve(cells.size());
  for (const auto& [key, count] : cells) {
    auto f = SplitKey(key);
    const int parent = node_of.at(f[kKind] + kSep + f[kRegion] + kSep + ClassOf(f));
    out.detail.emplace_back(std::move(f), out.tree.Add(count, parent));
  }
  out.tree.Suppress(threshold);
  return out;
}

void AddCountFiles(const Aggregates& aggregates, ReleaseFiles& files) {
  const SuppressionTree& tree = aggregates.tree;
  std::string csv;
  CsvRow(csv, {"kind", "region", "quarter", "pivot_level", "native_scale", "native_code",
               "sanction_type", "age_band", "sex", "count", "suppressed"});
  std::map<std::string, OcfBuilder> partitions;
  for (const auto& [f, node] : aggregates.detail) {
    CsvRow(csv,
           {f[kKind], f[kRegion], f[kQuarter], f[kPivot], f[kScale], f[kCode], f[kSanctionType],
            f[kAge], f[kSex], CountText(tree, node), tree.suppressed(node) ? "true" : "false"});
    const std::string part = "counts/kind=" + f[kKind] + "/region=" + f[kRegion] +
                             "/quarter=" + f[kQuarter] + "/part-0.avro";
    auto it = partitions.find(part);
    if (it == partitions.end()) {
      it = partitions.emplace(part, OcfBuilder(std::string(kCellSchema))).first;
    }
    it->second.Add(CellDatum(f, tree, node));
  }
  files["counts.csv"] = {std::move(csv), "Record counts per detailed cell (all kinds)", "text/csv",
                         "CSV"};
  for (const auto& [part, ocf] : partitions) {
    files[part] = {ocf.Finish(), "Record counts, partition " + part.substr(7, part.size() - 7 - 12),
                   "application/avro", "Avro", "schema/cell_count.avsc"};
  }
}

void AddSummaryFiles(const Aggregates& aggregates, ReleaseFiles& files) {
  const SuppressionTree& tree = aggregates.tree;
  std::string csv;
  CsvRow(csv, {"kind", "region", "class_dim", "class", "count", "suppressed"});
  OcfBuilder ocf{std::string(kSummarySchema)};
  struct View {
    std::string kind, file, column, title;
    std::string csv = {};
  };
  std::vector<View> views = {
      {"assessment", "assessments_by_level.csv", "pivot_level",
       "Care-needs assessments by region and pivot level"},
      {"caregiver", "caregiver_qualifications.csv", "level",
       "Caregiver qualifications by region and level"},
      {"facility", "facility_ratings.csv", "grade", "Facility ratings by region and grade"},
      {"sanction", "sanctions.csv", "sanction_type", "Sanction notices by region and type"},
  };
  for (View& v : views) CsvRow(v.csv, {"region", v.column, "count", "suppressed"});
  for (const SummaryRow& row : aggregates.summary_rows) {
    const std::string count = CountText(tree, row.node);
    const char* flag = tree.suppressed(row.node) ? "true" : "false";
    CsvRow(csv, {row.kind, row.region, row.class_dim, row.class_value, count, flag});
    std::string datum;
    AvroAppendString(datum, row.kind);
    AvroAppendString(datum, row.region);
    AvroAppendString(datum, row.class_dim);
    AvroAppendString(datum, row.class_value);
    AvroAppendOptionalLong(datum, tree.suppressed(row.node)
                                      ? std::nullopt
                                      : std::optional<std::int64_t>(tree.value(row.node)));
    AvroAppendBoolean(datum, tree.suppressed(row.node));
    ocf.Add(datum);
    for (View& v : views) {
      if (v.kind == row.kind) CsvRow(v.csv, {row.region, row.class_value, count, flag});
    }
  }
  files["summary.csv"] = {std::move(csv), "Totals by kind, region and class", "text/csv", "CSV"};
  files["summary.avro"] = {ocf.Finish(), "Totals by kind, region and class", "application/avro",
                           "Avro", "schema/summary_count.avsc"};
  for (View& v : views) files[v.file] = {std::move(v.csv), v.title, "text/csv", "CSV"};
}

void AddSchemaFiles(ReleaseFiles& files) {
  files["schema/cell_count.avsc"] = {
      std::string(kCellSchema), "Avro schema of the counts partitions", "application/json", "JSON"};
  files["schema/summary_count.avsc"] = {std::string(kSummarySchema), "Avro schema of summary.avro",
                                        "application/json", "JSON"};
}

std::string ReleaseName(const ReleaseFiles& files, const PublishOptions& options) {
  if (options.release) return *options.release;
  std::string content;
  for (const auto& [path, file] : files) content += path + '\0' + Sha256Hex(file.bytes) + '\n';
  content += "threshold=" + std::to_string(options.threshold);
  return "r" + Sha256Hex(content).substr(0, 12);
}

std::string RenderCatalog(const Store& store, const PublishOptions& options,
                          const PublishSummary& summary, const Aggregates& aggregates,
                          const ReleaseFiles& files) {
  Object catalog(Poco::JSON_PRESERVE_KEY_ORDER);
  catalog.set("@context", CatalogContext());
  catalog.set("@type", "Dataset");
  catalog.set("identifier", summary.release);
  catalog.set("version", summary.release);
  catalog.set("title", "carehub open elderly-care statistics, hub " + store.region() +
                           (options.origin ? ", origin " + *options.origin : "") + ", release " +
                           summary.release);
  catalog.set("description",
              "Counts of care-needs assessments, caregiver qualifications, facility ratings and "
              "sanction notices held by carehub hub " +
                  store.region() +
                  ", by prefecture-level region, quarter, pivot and native level, sanction "
                  "type, 5-year age band and sex, with totals by region and grade/level/type. "
                  "Cells of 1 to " +
                  std::to_string(options.threshold - 1) +
                  " records are suppressed, with complementary suppression against the "
                  "published totals. No personal data.");
  Object::Ptr publisher = NewObject();
  publisher->set("name", "Civil affairs department of region " + store.region() + " (carehub hub)");
  publisher->set("region", store.region());
  catalog.set("publisher", publisher);
  catalog.set("spatial", CatalogCoverage(aggregates.quarters, aggregates.regions, catalog));
  catalog.set("license", options.licence);
  catalog.set("disclosureControl", DisclosureControl(options, summary));
  catalog.set("distribution", CatalogDistributions(files));
  std::ostringstream text;
  catalog.stringify(text, 2);
  return text.str() + "\n";
}

bool WriteRelease(const fs::path& path, const ReleaseFiles& files) {
  fs::create_directories(path.parent_path());
  if (fs::exists(path)) {
    if (SameRelease(path, files)) return true;
    throw Error::InvalidInput("release '" + path.filename().string() + "' exists in " +
                              path.parent_path().string() +
                              " with other content; releases are immutable: choose another "
                              "--release");
  }
  const fs::path tmp = path.parent_path() / PartialName(path.filename().string());
  try {
    std::set<fs::path> made;
    for (const auto& [rel, file] : files) WriteFile(tmp / rel, file.bytes, made);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (!ec) return false;
  std::error_code ignored;
  fs::remove_all(tmp, ignored);
  // A concurrent publish of the same data may have renamed its copy first: that is fine.
  if (!fs::exists(path) || !SameRelease(path, files)) {
    throw Error::IoError("cannot move release into " + path.string() + ": " + ec.message());
  }
  return true;
}

void RegisterRelease(Store& store, const std::string& release, const fs::path& path,
                     const std::string& catalog_sha256, const ReleaseFiles& files,
                     std::int64_t now_ms) {
  sqlite::Transaction tx(store.db());
  sqlite::Statement reg(store.db(),
                        "INSERT INTO published_releases(release, path, catalog_sha256, "
                        "published_at) VALUES(?, ?, ?, ?) ON CONFLICT(release) DO UPDATE SET "
                        "path = excluded.path, catalog_sha256 = excluded.catalog_sha256");
  reg.Bind(1, release).Bind(2, path.string()).Bind(3, catalog_sha256).Bind(4, now_ms);
  reg.Run();
  std::map<std::string, std::string_view> recorded;
  for (const auto& [name, file] : files) recorded[name] = file.bytes;
  RecordPublishedFiles(store.db(), release, recorded);
  tx.Commit();
}

}  // namespace publish_internal

bool IsValidReleaseName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

PublishSummary Publish(Store& store, const PublishOptions& options, std::int64_t now_ms) {
  using namespace publish_internal;
  const auto start = std::chrono::steady_clock::now();
  CheckOptions(options);
  PublishSummary summary;
  const Aggregates aggregates =
      BuildSuppressedTotals(CountCells(store, options.origin, summary.records), options.threshold);
  summary.suppressed_primary = aggregates.tree.primary_count();
  summary.suppressed_secondary = aggregates.tree.secondary_count();
  summary.cells = static_cast<std::int64_t>(aggregates.tree.size());

  ReleaseFiles files;
  AddCountFiles(aggregates, files);
  AddSummaryFiles(aggregates, files);
  AddSchemaFiles(files);
  summary.release = ReleaseName(files, options);
  for (const auto& [path, file] : files) summary.bytes += file.bytes.size();
  const std::string catalog = RenderCatalog(store, options, summary, aggregates, files);
  files["catalog.json"] = {catalog, "DCAT catalog", "application/ld+json", "JSON-LD"};
  summary.files = static_cast<int>(files.size());

  summary.path = fs::absolute(options.out_dir) / summary.release;
  summary.unchanged = WriteRelease(summary.path, files);
  RegisterRelease(store, summary.release, summary.path, Sha256Hex(catalog), files, now_ms);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace carehub
