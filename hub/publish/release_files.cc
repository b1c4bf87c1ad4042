#include "hub/publish/release_files.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <sodium.h>

#include <cmath>
#include <iomanip>
#include <sstream>

#include "connectors/csv_reader.h"
#include "connectors/profile.h"
#include "hub/publish/json_ld.h"
#include "hub/publish/ocf.h"
#include "hub/publish/regions.h"

namespace carehub {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr double kZ95 = 1.959964;  // two-sided 95% quantile of the normal distribution

using json_ld::NewObject;

std::string Fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

std::string AvroName(const std::string& table) {
  std::string out;
  bool upper = true;
  for (char c : table) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

// The values of the key columns of one row: group key, then class.
std::vector<std::string> RowKey(const TableSpec& spec, const TableGroup& group,
                                const std::string& cls) {
  std::vector<std::string> key = {group.geo};
  if (spec.period != PeriodKind::kNone) key.push_back(group.period);
  key.insert(key.end(), group.extras.begin(), group.extras.end());
  key.push_back(cls);
  return key;
}

std::string TableCsv(const PublishedTable& table) {
  const TableSpec& spec = *table.input.spec;
  std::string csv;
  AppendCsvRow(csv, TableColumns(spec));
  for (std::size_t g = 0; g < table.input.groups.size(); ++g) {
    const TableGroup& group = table.input.groups[g];
    for (std::size_t c = 0; c < group.classes->size(); ++c) {
      std::vector<std::string> row = RowKey(spec, group, (*group.classes)[c]);
      row.push_back(std::to_string(table.noisy.cells[g][c]));
      row.push_back(std::to_string(table.noisy.totals[g]));
      if (spec.period != PeriodKind::kNone) row.push_back(group.complete ? "true" : "false");
      AppendCsvRow(csv, row);
    }
  }
  return csv;
}

std::string TableAvro(const PublishedTable& table) {
  const TableSpec& spec = *table.input.spec;
  OcfBuilder ocf(TableAvroSchema(spec));
  for (std::size_t g = 0; g < table.input.groups.size(); ++g) {
    const TableGroup& group = table.input.groups[g];
    for (std::size_t c = 0; c < group.classes->size(); ++c) {
      std::string datum;
      for (const std::string& value : RowKey(spec, group, (*group.classes)[c])) {
        AvroAppendString(datum, value);
      }
      AvroAppendLong(datum, table.noisy.cells[g][c]);
      AvroAppendLong(datum, table.noisy.totals[g]);
      if (spec.period != PeriodKind::kNone) AvroAppendBoolean(datum, group.complete);
      ocf.Add(datum);
    }
  }
  return ocf.Finish();
}

Array::Ptr CodeArray(const std::vector<CodeLabel>& codes) {
  Array::Ptr out = new Array;
  for (const CodeLabel& code : codes) {
    Object::Ptr entry = NewObject();
    entry->set("code", code.code);
    entry->set("zh", code.zh);
    entry->set("en", code.en);
    out->add(entry);
  }
  return out;
}

std::vector<CodeLabel> RegionCodes(const std::vector<RegionName>& regions) {
  std::vector<CodeLabel> out;
  for (const RegionName& r : regions) out.push_back({r.code, r.zh, r.en});
  return out;
}

// The codes of a column, with the region lists for the geography columns.
std::vector<CodeLabel> CodesOf(const TableSpec& spec, const std::string& column) {
  if (column == "prefecture") return RegionCodes(PrefectureDomain());
  if (column == "province") return RegionCodes(ProvinceDomain());
  return ColumnCodes(spec, column);
}

struct CrosswalkRow {
  std::string kind, profile, scale, scale_name, native, code, pivot;
};

std::vector<CrosswalkRow> Crosswalk() {
  std::vector<CrosswalkRow> rows;
  for (const Profile& profile : BuiltinProfiles()) {
    if (profile.kind == RecordKind::kSanction) continue;
    for (const LevelEntry& level : profile.scale.levels) {
      std::string pivot = level.pivot ? std::to_string(*level.pivot) : "";
      if (profile.kind == RecordKind::kFacility && level.pivot && !level.comparable) {
        pivot += " (not comparable)";
      }
      rows.push_back({std::string(KindName(profile.kind)), profile.name,
                      level.scale.empty() ? profile.scale.code : level.scale, profile.scale.name,
                      level.native, level.code, pivot});
    }
  }
  return rows;
}

Object::Ptr PrivacyJson(const ReleaseInfo& info) {
  Object::Ptr privacy = NewObject();
  privacy->set("definition",
               "person-level zero-concentrated differential privacy (rho-zCDP, Bun and Steinke "
               "2016); the privacy unit is a person (person token), a facility or a sanction "
               "subject, whose contributions are bounded per table");
  privacy->set("mechanism",
               "discrete Gaussian noise on every cell and every group total (Canonne, Kamath and "
               "Steinke 2020, exact integer sampler), drawn from a keyed stream under a secret "
               "held by the hub; then post-processing: inverse-variance combination of each "
               "group total with the sum of its cells, rounding to a non-negative integer, "
               "projection of the cells onto the non-negative values summing to that total and "
               "largest-remainder rounding");
  privacy->set("no_cell_suppressed", true);
  privacy->set("rho_release", RhoText(info.rho_micro));
  privacy->set("rho_series_budget", RhoText(info.slot.budget.budget_micro));
  privacy->set("rho_series_spent", RhoText(info.slot.budget.spent_micro));
  privacy->set("rho_series_remaining", RhoText(info.slot.budget.remaining_micro()));
  const double rho = static_cast<double>(info.rho_micro) / kRhoScale;
  privacy->set("delta", info.delta);
  privacy->set("epsilon_release_at_delta", Fixed(EpsilonFor(rho, info.delta), 3));
  const double spent = static_cast<double>(info.slot.budget.spent_micro) / kRhoScale;
  privacy->set("epsilon_series_spent_at_delta", Fixed(EpsilonFor(spent, info.delta), 3));
  return privacy;
}

Object::Ptr TableJson(const PublishedTable& table) {
  const TableSpec& spec = *table.input.spec;
  Object::Ptr t = NewObject();
  t->set("name", spec.name);
  t->set("files", Array::Ptr(new Array));
  t->getArray("files")->add(spec.name + ".csv");
  t->getArray("files")->add(spec.name + ".avro");
  t->set("title", spec.title);
  t->set("question", spec.question);
  t->set("unit", spec.unit);
  t->set("unit_meaning", spec.unit_meaning);
  t->set("rows", [&] {
    std::size_t rows = 0;
    for (const TableGroup& g : table.input.groups) rows += g.classes->size();
    return static_cast<std::uint64_t>(rows);
  }());
  t->set("max_contributions_per_unit", spec.max_contributions);
  t->set("one_contribution_per_group", spec.one_per_group);
  t->set("l2_sensitivity", Fixed(std::sqrt(static_cast<double>(spec.SquaredSensitivity())), 4));
  t->set("rho", RhoText(table.noise.rho_micro));
  t->set("sigma_cells", Fixed(table.noise.SigmaCells(), 4));
  t->set("sigma_group_totals", Fixed(table.noise.SigmaTotals(), 4));
  t->set("moe95_cells", Fixed(kZ95 * table.noise.SigmaCells(), 2));
  t->set("moe95_group_totals", Fixed(kZ95 * table.noise.SigmaTotals(), 2));
  Array::Ptr columns = new Array;
  for (const std::string& column : TableColumns(spec)) {
    Object::Ptr c = NewObject();
    c->set("name", column);
    c->set("type", column == "count" || column == "group_total" ? "integer"
                   : column == "period_complete"                ? "boolean"
                                                                : "string");
    c->set("meaning", ColumnMeaning(spec, column));
    const auto codes = CodesOf(spec, column);
    if (!codes.empty()) c->set("codes", CodeArray(codes));
    columns->add(c);
  }
  t->set("columns", columns);
  return t;
}

std::string CodebookJson(const std::vector<PublishedTable>& tables, const ReleaseInfo& info) {
  Object codebook(Poco::JSON_PRESERVE_KEY_ORDER);
  codebook.set("series", info.series);
  codebook.set("hub_region", info.hub_region);
  codebook.set("origin", info.origin ? Poco::Dynamic::Var(*info.origin) : Poco::Dynamic::Var());
  codebook.set("privacy", PrivacyJson(info));
  Array::Ptr table_list = new Array;
  for (const PublishedTable& table : tables) table_list->add(TableJson(table));
  codebook.set("tables", table_list);
  Object::Ptr regions = NewObject();
  regions->set("prefecture", CodeArray(RegionCodes(PrefectureDomain())));
  regions->set("province", CodeArray(RegionCodes(ProvinceDomain())));
  codebook.set("regions", regions);
  Array::Ptr crosswalk = new Array;
  for (const CrosswalkRow& row : Crosswalk()) {
    Object::Ptr entry = NewObject();
    entry->set("kind", row.kind);
    entry->set("profile", row.profile);
    entry->set("scale", row.scale);
    entry->set("scale_name", row.scale_name);
    entry->set("native_text", row.native);
    entry->set("code", row.code);
    entry->set("pivot_level", row.pivot);
    crosswalk->add(entry);
  }
  codebook.set("crosswalk", crosswalk);
  std::ostringstream text;
  codebook.stringify(text, 2);
  return text.str() + "\n";
}

std::string CodebookCsv(const std::vector<PublishedTable>& tables) {
  std::string csv;
  AppendCsvRow(csv, {"section", "table", "column", "code", "label_zh", "label_en", "meaning"});
  for (const PublishedTable& table : tables) {
    const TableSpec& spec = *table.input.spec;
    for (const std::string& column : TableColumns(spec)) {
      AppendCsvRow(csv, {"column", spec.name, column, "", "", "", ColumnMeaning(spec, column)});
      for (const CodeLabel& code : CodesOf(spec, column)) {
        AppendCsvRow(csv, {"code", spec.name, column, code.code, code.zh, code.en, ""});
      }
    }
  }
  for (const CrosswalkRow& row : Crosswalk()) {
    AppendCsvRow(csv, {"crosswalk", row.kind, row.scale, row.code, row.native,
                       row.pivot.empty() ? "no pivot level" : "pivot level " + row.pivot,
                       row.profile + ": " + row.scale_name});
  }
  return csv;
}

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void AppendCsvRow(std::string& out, const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    AppendCsvField(out, cells[i]);
  }
  out += "\r\n";
}

std::vector<std::string> TableColumns(const TableSpec& spec) {
  std::vector<std::string> columns = {spec.geo_column};
  if (spec.period != PeriodKind::kNone) columns.push_back(spec.period_column);
  columns.insert(columns.end(), spec.extra_columns.begin(), spec.extra_columns.end());
  columns.push_back(spec.class_column);
  columns.push_back("count");
  columns.push_back("group_total");
  if (spec.period != PeriodKind::kNone) columns.push_back("period_complete");
  return columns;
}

std::string ColumnMeaning(const TableSpec& spec, const std::string& column) {
  if (column == "prefecture") {
    return "prefecture-level GB/T 2260 code (see regions); a province code means a prefecture "
           "of that province not listed, 'other' a place outside the seven regions or unknown. "
           "Persons: residence, else the assessor's or employer's region, else the hub's";
  }
  if (column == "province") {
    return "province-level GB/T 2260 code (310000 ... 820000) or 'other'";
  }
  if (column == "quarter") return "calendar quarter YYYYQn of the assessment date";
  if (column == "year") return "calendar year of the record date (assessed on, decided on)";
  if (column == "quarter_end") return "last day of a quarter (YYYY-MM-DD); the stock on that day";
  if (column == "scale") {
    return "PIVOT_GBT42195: levels mapped to GB/T 42195-2022 through the crosswalk; otherwise "
           "the region's own scale with its own codes (only for prefectures of that region)";
  }
  if (column == "age_band") return "age in years at the record date (year minus birth year)";
  if (column == "sex") return "sex of the person";
  if (column == "level" && spec.name.starts_with("active_")) {
    return "national vocational skill level of the highest qualification valid that day";
  }
  if (column == "level") return "care-need level on the group's scale";
  if (column == "grade") return "grade of the facility's latest rating";
  if (column == "sanction_type") return "type of the notice";
  if (column == "subject") return "whether the notice is against a person or an organisation";
  if (column == "count") {
    return "number of " + spec.unit +
           " in the cell, with differentially private noise (see "
           "privacy); a non-negative integer; the cells of a group add up to group_total";
  }
  if (column == "group_total") {
    return "number of " + spec.unit + " in the group (all values of " + spec.class_column +
           "), measured with its own noise and made consistent with the cells";
  }
  if (column == "period_complete") {
    return "false when the period ends on or after the release's issue date: data still arriving";
  }
  return "";
}

std::string TableAvroSchema(const TableSpec& spec) {
  Object schema(Poco::JSON_PRESERVE_KEY_ORDER);
  schema.set("type", "record");
  schema.set("name", AvroName(spec.name));
  schema.set("namespace", "carehub.open.v2");
  schema.set("doc", spec.title + ". " + spec.question);
  Array::Ptr fields = new Array;
  for (const std::string& column : TableColumns(spec)) {
    Object::Ptr field = NewObject();
    field->set("name", column);
    field->set("type", column == "count" || column == "group_total" ? "long"
                       : column == "period_complete"                ? "boolean"
                                                                    : "string");
    field->set("doc", ColumnMeaning(spec, column));
    fields->add(field);
  }
  schema.set("fields", fields);
  std::ostringstream text;
  schema.stringify(text);
  return text.str();
}

void AddTableFiles(const std::vector<PublishedTable>& tables, ReleaseFileMap& files) {
  for (const PublishedTable& table : tables) {
    const TableSpec& spec = *table.input.spec;
    files[spec.name + ".csv"] = {TableCsv(table), spec.title + " (CSV)", "text/csv", "CSV"};
    files[spec.name + ".avro"] = {TableAvro(table), spec.title + " (Avro)", "application/avro",
                                  "Avro"};
  }
}

void AddCodebook(const std::vector<PublishedTable>& tables, const ReleaseInfo& info,
                 ReleaseFileMap& files) {
  files["codebook.json"] = {CodebookJson(tables, info),
                            "Codebook: columns, code lists, regions, crosswalk, privacy parameters",
                            "application/json", "JSON"};
  files["codebook.csv"] = {CodebookCsv(tables), "Codebook: columns, code lists, regions, crosswalk",
                           "text/csv", "CSV"};
}

void AddReadme(const std::vector<PublishedTable>& tables, const ReleaseInfo& info,
               ReleaseFileMap& files) {
  std::ostringstream out;
  out << "carehub open elderly-care statistics\n"
      << "Hub " << info.hub_region << (info.origin ? ", records of origin " + *info.origin : "")
      << ", series " << info.series << ", release " << info.slot.seq << " (issued "
      << FormatIsoDate(info.slot.issued) << ")\n\n"
      << "Tables (one CSV and one Avro file each; columns and codes in codebook.csv/.json):\n";
  for (const PublishedTable& table : tables) {
    const TableSpec& spec = *table.input.spec;
    out << "  " << spec.name << "\n    " << spec.question << "\n    counts " << spec.unit
        << "; 95% margin of error of a cell about +-" << Fixed(kZ95 * table.noise.SigmaCells(), 1)
        << ", of a group total about +-" << Fixed(kZ95 * table.noise.SigmaTotals(), 1) << "\n";
  }
  out << "\nPrivacy: every count carries random noise (discrete Gaussian mechanism) giving\n"
      << "person-level zero-concentrated differential privacy with rho = "
      << RhoText(info.rho_micro) << " for this release (series budget "
      << RhoText(info.slot.budget.budget_micro) << ", spent "
      << RhoText(info.slot.budget.spent_micro) << ", remaining "
      << RhoText(info.slot.budget.remaining_micro()) << ").\n"
      << "No cell is hidden. Counts are non-negative integers; the cells of a group add up to\n"
      << "its group_total. Sums over many cells add their noise: use group_total where it\n"
      << "answers the question. Rows exist for every combination of a fixed domain, so a zero\n"
      << "or small count is often noise around zero. Periods with period_complete = false are\n"
      << "still receiving data. No name, identifier, token, birth date or record is published.\n\n"
      << "Reading: CSV is UTF-8 with a header row (read region codes as text). The Avro files\n"
      << "are Object Container Files with the schema inside. docs/DATASETS.md of carehub has\n"
      << "pandas, DuckDB and Spark examples. Licence: " << info.licence << "\n";
  files["README.txt"] = {out.str(), "Read me: tables, privacy, how to read", "text/plain", "TXT"};
}

}  // namespace carehub
