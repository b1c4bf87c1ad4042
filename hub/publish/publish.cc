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
#include "hub/publish/suppress.h"
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

using Cells = std::unordered_map<std::string, std::int64_t, KeyHash, std::equal_to<>>;

// Counts the records that are not retracted (of `origin`, if given) per detailed cell, in one
// pass over one statement (one consistent snapshot). Only origin and body are read, the body in
// place. Decoding dominates; decoding in worker threads while this thread reads was tried and
// gave no gain on the shared 2-core machine (more CPU for batching and merging), and neither did
// memory-mapping the store (which shows the whole file as resident memory).
Cells CountCells(Store& store, const std::optional<std::string>& origin, std::int64_t& records) {
  Cells cells;
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
  return cells;
}

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

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::optional<std::string> Nullable(const std::string& text) {
  return text.empty() ? std::nullopt : std::optional<std::string>(text);
}

struct SummaryRow {
  std::string kind, region, class_dim, class_value;
  int node;
};

struct Distribution {
  std::string title;
  std::string media_type;
  std::string format;
  std::string conforms_to;  // schema file, for Avro
};

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
bool SameRelease(const fs::path& dir, const std::map<std::string, std::string>& files) {
  std::size_t seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++seen;
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    const auto it = files.find(rel);
    if (it == files.end() || ReadIfExists(entry.path()) != it->second) return false;
  }
  return seen == files.size();
}

}  // namespace

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
  const auto start = std::chrono::steady_clock::now();
  if (options.threshold < 1) throw Error::InvalidInput("threshold: must be at least 1");
  if (options.release && !IsValidReleaseName(*options.release)) {
    throw Error::InvalidInput("release: use 1-64 characters of A-Z a-z 0-9 . _ - (no leading .)");
  }
  PublishSummary summary;

  // 1. One streaming pass: every record that is not retracted adds one to its detailed cell.
  Cells cells = CountCells(store, options.origin, summary.records);

  // 2. The tree of totals: kind -> kind x region -> kind x region x class -> detailed cells.
  std::map<std::string, std::int64_t> sorted(cells.begin(), cells.end());
  cells.clear();
  std::map<std::string, std::int64_t> kind_total, region_total, class_total;
  std::set<std::string> quarters, regions;
  for (const auto& [key, count] : sorted) {
    const auto f = SplitKey(key);
    kind_total[f[kKind]] += count;
    region_total[f[kKind] + kSep + f[kRegion]] += count;
    class_total[f[kKind] + kSep + f[kRegion] + kSep + ClassOf(f)] += count;
    quarters.insert(f[kQuarter]);
    regions.insert(f[kRegion]);
  }
  SuppressionTree tree;
  std::map<std::string, int> node_of;
  std::vector<SummaryRow> summary_rows;
  for (const auto& [kind, count] : kind_total) {
    node_of[kind] = tree.Add(count, SuppressionTree::kNoParent);
    summary_rows.push_back({kind, "all", std::string(ClassDim(kind)), "all", node_of[kind]});
  }
  for (const auto& [key, count] : region_total) {
    const auto f = SplitKey(key);
    node_of[key] = tree.Add(count, node_of.at(f[0]));
    summary_rows.push_back({f[0], f[1], std::string(ClassDim(f[0])), "all", node_of[key]});
  }
  for (const auto& [key, count] : class_total) {
    const auto f = SplitKey(key);
    node_of[key] = tree.Add(count, node_of.at(f[0] + kSep + f[1]));
    summary_rows.push_back({f[0], f[1], std::string(ClassDim(f[0])), f[2], node_of[key]});
  }
  std::vector<std::pair<std::vector<std::string>, int>> detail;
  detail.reserve(sorted.size());
  for (const auto& [key, count] : sorted) {
    auto f = SplitKey(key);
    const int parent = node_of.at(f[kKind] + kSep + f[kRegion] + kSep + ClassOf(f));
    detail.emplace_back(std::move(f), tree.Add(count, parent));
  }
  tree.Suppress(options.threshold);
  summary.suppressed_primary = tree.primary_count();
  summary.suppressed_secondary = tree.secondary_count();
  summary.cells = static_cast<std::int64_t>(tree.size());
  auto count_text = [&tree](int node) {
    return tree.suppressed(node) ? std::string() : std::to_string(tree.value(node));
  };
  auto count_value = [&tree](int node) {
    return tree.suppressed(node) ? std::nullopt : std::optional<std::int64_t>(tree.value(node));
  };

  // 3. The files, in memory (aggregates are small), keyed by path inside the release.
  std::map<std::string, std::string> files;
  std::map<std::string, Distribution> meta;
  {
    std::string csv;
    CsvRow(csv, {"kind", "region", "quarter", "pivot_level", "native_scale", "native_code",
                 "sanction_type", "age_band", "sex", "count", "suppressed"});
    std::map<std::string, OcfBuilder> partitions;
    for (const auto& [f, node] : detail) {
      const std::string count = count_text(node);
      CsvRow(csv,
             {f[kKind], f[kRegion], f[kQuarter], f[kPivot], f[kScale], f[kCode], f[kSanctionType],
              f[kAge], f[kSex], count, tree.suppressed(node) ? "true" : "false"});
      const std::string part = "counts/kind=" + f[kKind] + "/region=" + f[kRegion] +
                               "/quarter=" + f[kQuarter] + "/part-0.avro";
      auto it = partitions.find(part);
      if (it == partitions.end()) {
        it = partitions.emplace(part, OcfBuilder(std::string(kCellSchema))).first;
      }
      std::string datum;
      AvroAppendOptionalLong(datum, f[kPivot].empty()
                                        ? std::nullopt
                                        : std::optional<std::int64_t>(std::stoll(f[kPivot])));
      AvroAppendString(datum, f[kScale]);
      AvroAppendString(datum, f[kCode]);
      AvroAppendOptionalString(datum, Nullable(f[kSanctionType]));
      AvroAppendOptionalString(datum, Nullable(f[kAge]));
      AvroAppendOptionalString(datum, Nullable(f[kSex]));
      AvroAppendOptionalLong(datum, count_value(node));
      AvroAppendBoolean(datum, tree.suppressed(node));
      it->second.Add(datum);
    }
    files["counts.csv"] = std::move(csv);
    meta["counts.csv"] = {"Record counts per detailed cell (all kinds)", "text/csv", "CSV", ""};
    for (const auto& [part, ocf] : partitions) {
      files[part] = ocf.Finish();
      meta[part] = {"Record counts, partition " + part.substr(7, part.size() - 7 - 12),
                    "application/avro", "Avro", "schema/cell_count.avsc"};
    }
  }
  {
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
    for (const SummaryRow& row : summary_rows) {
      const std::string count = count_text(row.node);
      const char* flag = tree.suppressed(row.node) ? "true" : "false";
      CsvRow(csv, {row.kind, row.region, row.class_dim, row.class_value, count, flag});
      std::string datum;
      AvroAppendString(datum, row.kind);
      AvroAppendString(datum, row.region);
      AvroAppendString(datum, row.class_dim);
      AvroAppendString(datum, row.class_value);
      AvroAppendOptionalLong(datum, count_value(row.node));
      AvroAppendBoolean(datum, tree.suppressed(row.node));
      ocf.Add(datum);
      for (View& v : views) {
        if (v.kind == row.kind) CsvRow(v.csv, {row.region, row.class_value, count, flag});
      }
    }
    files["summary.csv"] = std::move(csv);
    meta["summary.csv"] = {"Totals by kind, region and class", "text/csv", "CSV", ""};
    files["summary.avro"] = ocf.Finish();
    meta["summary.avro"] = {"Totals by kind, region and class", "application/avro", "Avro",
                            "schema/summary_count.avsc"};
    for (View& v : views) {
      files[v.file] = std::move(v.csv);
      meta[v.file] = {v.title, "text/csv", "CSV", ""};
    }
  }
  files["schema/cell_count.avsc"] = std::string(kCellSchema);
  meta["schema/cell_count.avsc"] = {"Avro schema of the counts partitions", "application/json",
                                    "JSON", ""};
  files["schema/summary_count.avsc"] = std::string(kSummarySchema);
  meta["schema/summary_count.avsc"] = {"Avro schema of summary.avro", "application/json", "JSON",
                                       ""};

  // 4. The release name (content hash by default) and the catalog.
  std::string content;
  for (const auto& [path, bytes] : files) content += path + '\0' + Sha256Hex(bytes) + '\n';
  content += "threshold=" + std::to_string(options.threshold);
  summary.release = options.release.value_or("r" + Sha256Hex(content).substr(0, 12));

  Object catalog(Poco::JSON_PRESERVE_KEY_ORDER);
  Object::Ptr context = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
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
  catalog.set("@context", context);
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
  Object::Ptr publisher = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  publisher->set("name", "Civil affairs department of region " + store.region() + " (carehub hub)");
  publisher->set("region", store.region());
  catalog.set("publisher", publisher);
  Object::Ptr temporal = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  temporal->set("startDate", quarters.empty()
                                 ? Poco::Dynamic::Var()
                                 : Poco::Dynamic::Var(QuarterStart(*quarters.begin())));
  temporal->set("endDate", quarters.empty() ? Poco::Dynamic::Var()
                                            : Poco::Dynamic::Var(QuarterEnd(*quarters.rbegin())));
  catalog.set("temporal", temporal);
  Object::Ptr spatial = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  spatial->set("level", "prefecture (GB/T 2260 code truncated to xxxx00)");
  Array::Ptr region_list = new Array;
  for (const std::string& r : regions) region_list->add(r);
  spatial->set("regions", region_list);
  catalog.set("spatial", spatial);
  catalog.set("license", options.licence);
  Object::Ptr control = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
  control->set("threshold", options.threshold);
  control->set("rule", "counts 1.." + std::to_string(options.threshold - 1) +
                           " suppressed; complementary suppression so that every published total "
                           "relation has zero or at least two hidden cells, and no hidden value "
                           "follows from the published ones by arithmetic or by bounds (hidden "
                           "cells are at least 1); cells with no records are not listed (= 0)");
  control->set("cells", summary.cells);
  control->set("suppressedPrimary", summary.suppressed_primary);
  control->set("suppressedComplementary", summary.suppressed_secondary);
  catalog.set("disclosureControl", control);
  Array::Ptr distributions = new Array;
  for (const auto& [path, bytes] : files) {
    const Distribution& d = meta.at(path);
    Object::Ptr dist = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    dist->set("@type", "Distribution");
    dist->set("title", d.title);
    dist->set("downloadURL", path);
    dist->set("mediaType", d.media_type);
    dist->set("format", d.format);
    if (!d.conforms_to.empty()) dist->set("conformsTo", d.conforms_to);
    dist->set("byteSize", static_cast<std::uint64_t>(bytes.size()));
    Object::Ptr checksum = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    checksum->set("algorithm", "spdx:checksumAlgorithm_sha256");
    checksum->set("checksumValue", Sha256Hex(bytes));
    dist->set("checksum", checksum);
    distributions->add(dist);
    summary.bytes += bytes.size();
  }
  catalog.set("distribution", distributions);
  std::ostringstream catalog_text;
  catalog.stringify(catalog_text, 2);
  files["catalog.json"] = catalog_text.str() + "\n";
  summary.files = static_cast<int>(files.size());

  // 5. Write the release into a temporary folder, then rename it into place: a release is
  // whole or absent, and never overwritten.
  const fs::path out_dir = fs::absolute(options.out_dir);
  fs::create_directories(out_dir);
  summary.path = out_dir / summary.release;
  if (fs::exists(summary.path)) {
    if (!SameRelease(summary.path, files)) {
      throw Error::InvalidInput("release '" + summary.release + "' exists in " + out_dir.string() +
                                " with other content; releases are immutable: choose another "
                                "--release");
    }
    summary.unchanged = true;
  } else {
    unsigned char nonce[6];
    randombytes_buf(nonce, sizeof nonce);
    char nonce_hex[2 * sizeof nonce + 1];
    sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
    const fs::path tmp = out_dir / ("." + summary.release + ".partial-" + nonce_hex);
    try {
      std::set<fs::path> made;
      for (const auto& [path, bytes] : files) WriteFile(tmp / path, bytes, made);
    } catch (...) {
      std::error_code ignored;
      fs::remove_all(tmp, ignored);
      throw;
    }
    std::error_code ec;
    fs::rename(tmp, summary.path, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove_all(tmp, ignored);
      // A concurrent publish of the same data may have renamed its copy first: that is fine.
      if (!fs::exists(summary.path) || !SameRelease(summary.path, files)) {
        throw Error::IoError("cannot move release into " + summary.path.string() + ": " +
                             ec.message());
      }
      summary.unchanged = true;
    }
  }

  sqlite::Transaction tx(store.db());
  sqlite::Statement reg(store.db(),
                        "INSERT INTO published_releases(release, path, catalog_sha256, "
                        "published_at) VALUES(?, ?, ?, ?) ON CONFLICT(release) DO UPDATE SET "
                        "path = excluded.path, catalog_sha256 = excluded.catalog_sha256");
  reg.Bind(1, summary.release)
      .Bind(2, summary.path.string())
      .Bind(3, Sha256Hex(files["catalog.json"]))
      .Bind(4, now_ms);
  reg.Run();
  tx.Commit();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace carehub
