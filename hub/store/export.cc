#include "hub/store/export.h"

#include <Poco/UTF8String.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "connectors/csv_reader.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "schemas/ocf.h"

namespace carehub {
namespace fs = std::filesystem;
namespace {

// One cell of the flat table: absent (empty CSV cell / JSON null), text or a number.
struct Cell {
  std::string name;
  std::optional<std::string> value;
  bool number = false;
};

class FlatRow {
 public:
  void Text(const std::string& name, const std::optional<std::string>& value) {
    cells_.push_back({name, value, false});
  }
  void Number(const std::string& name, std::optional<std::int64_t> value) {
    cells_.push_back(
        {name, value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt, true});
  }
  void Bool(const std::string& name, std::optional<bool> value) {
    cells_.push_back(
        {name, value ? std::optional<std::string>(*value ? "true" : "false") : std::nullopt, true});
  }
  void Day(const std::string& name, const std::optional<Date>& date) {
    Text(name, date ? std::optional<std::string>(FormatIsoDate(*date)) : std::nullopt);
  }
  const std::vector<Cell>& cells() const { return cells_; }

 private:
  std::vector<Cell> cells_;
};

std::optional<std::int64_t> OptInt(const std::optional<int>& v) {
  return v ? std::optional<std::int64_t>(*v) : std::nullopt;
}

void AddOrg(FlatRow& row, const std::string& prefix, const std::optional<OrgRef>& org) {
  row.Text(prefix + "_id", org ? (org->uscc ? org->uscc : org->local_id) : std::nullopt);
  row.Text(prefix + "_name", org ? std::optional<std::string>(org->name) : std::nullopt);
  row.Text(prefix + "_region", org ? std::optional<std::string>(org->region) : std::nullopt);
}

// Quasi-identifiers only: tokens and birth year are "pii" and never leave as flat data.
void AddPerson(FlatRow& row, const std::string& prefix, const std::optional<PersonRef>& person) {
  row.Text(prefix + "sex",
           person ? std::optional<std::string>(SexSymbol(person->sex)) : std::nullopt);
  row.Text(prefix + "residence_region", person ? person->residence_region : std::nullopt);
}

void AddLevels(FlatRow& row, const NativeLevel& native, const std::optional<PivotLevel>& pivot) {
  row.Text("native_scale", native.scale);
  row.Text("native_code", native.code);
  row.Text("native_label", native.label);
  row.Number("pivot_level", pivot ? std::optional<std::int64_t>(pivot->level) : std::nullopt);
  row.Number("pivot_range_upper", pivot ? OptInt(pivot->range_upper) : std::nullopt);
  row.Text("pivot_flag", pivot ? pivot->flag : std::nullopt);
  row.Bool("pivot_documented", pivot ? std::optional<bool>(pivot->documented) : std::nullopt);
}

std::string IsoMillis(std::int64_t ms) {
  const std::chrono::sys_time<std::chrono::milliseconds> t{std::chrono::milliseconds{ms}};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:%02d.%03dZ", static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return FormatIsoDate(day) + buf;
}

FlatRow Flatten(const CanonicalRecord& r) {
  FlatRow row;
  row.Text("record_id", r.record_id);
  row.Text("kind", std::string(KindName(r.kind())));
  row.Text("origin", r.provenance.origin_region);
  row.Number("version", r.version);
  row.Text("status", std::string(StatusName(r.status)));
  switch (r.kind()) {
    case RecordKind::kAssessment: {
      const auto& a = std::get<Assessment>(r.body);
      AddLevels(row, a.native, a.pivot);
      row.Number("total_score", OptInt(a.total_score));
      AddPerson(row, "", a.person);
      row.Day("assessed_on", a.assessed_on);
      row.Day("valid_until", a.valid_until);
      AddOrg(row, "assessor", a.assessor);
      break;
    }
    case RecordKind::kCaregiver: {
      const auto& q = std::get<CaregiverQualification>(r.body);
      AddLevels(row, q.native, q.pivot);
      AddPerson(row, "", q.person);
      row.Day("issued_on", q.issued_on);
      row.Day("valid_until", q.valid_until);
      AddOrg(row, "issuer", q.issuer);
      AddOrg(row, "employer", q.employer);
      break;
    }
    case RecordKind::kFacility: {
      const auto& f = std::get<FacilityRating>(r.body);
      AddLevels(row, f.native, f.pivot);
      AddOrg(row, "facility", f.facility);
      row.Bool("comparable", f.comparable);
      row.Number("beds", OptInt(f.beds));
      row.Day("rated_on", f.rated_on);
      row.Day("valid_until", f.valid_until);
      break;
    }
    case RecordKind::kSanction: {
      const auto& s = std::get<SanctionNotice>(r.body);
      static constexpr const char* kSubjectKinds[] = {"ORGANISATION", "PERSON"};
      static constexpr const char* kTypes[] = {"PENALTY", "BLACKLIST", "DISHONESTY"};
      row.Text("native_scale", s.native.scale);
      row.Text("native_code", s.native.code);
      row.Text("native_label", s.native.label);
      row.Text("subject_kind", kSubjectKinds[static_cast<int>(s.subject_kind)]);
      AddOrg(row, "subject_org", s.subject_org);
      AddPerson(row, "subject_", s.subject_person);
      row.Text("sanction_type", kTypes[static_cast<int>(s.sanction_type)]);
      row.Text("legal_basis", s.legal_basis);
      row.Day("decided_on", s.decided_on);
      row.Day("ends_on", s.ends_on);
      row.Text("issuing_region", s.issuing_region);
      break;
    }
  }
  row.Text("profile", r.provenance.profile);
  row.Number("profile_version", r.provenance.profile_version);
  row.Text("source_record_id", r.provenance.source_record_id);
  row.Text("ingested_at", IsoMillis(r.provenance.ingested_at_ms));
  return row;
}

CanonicalRecord EmptyRecord(RecordKind kind) {
  CanonicalRecord r;
  switch (kind) {
    case RecordKind::kAssessment:
      r.body = Assessment{};
      break;
    case RecordKind::kCaregiver:
      r.body = CaregiverQualification{};
      break;
    case RecordKind::kFacility:
      r.body = FacilityRating{};
      break;
    case RecordKind::kSanction:
      r.body = SanctionNotice{};
      break;
  }
  return r;
}

class FlatWriter {
 public:
  FlatWriter(std::ostream& out, ExportFormat format, RecordKind kind) : out_(out), format_(format) {
    if (format_ != ExportFormat::kCsv) return;
    std::string line;
    for (const auto& name : FlatColumns(kind)) {
      if (!line.empty()) line += ',';
      AppendCsvField(line, name);
    }
    out_ << line << "\r\n";
  }

  void Write(const CanonicalRecord& record) {
    const FlatRow row = Flatten(record);
    line_.clear();
    if (format_ == ExportFormat::kCsv) {
      bool first = true;
      for (const Cell& cell : row.cells()) {
        if (!first) line_ += ',';
        first = false;
        if (cell.value) AppendCsvField(line_, *cell.value);
      }
      line_ += "\r\n";
    } else {
      line_ += '{';
      bool first = true;
      for (const Cell& cell : row.cells()) {
        if (!first) line_ += ',';
        first = false;
        line_ += '"' + cell.name + "\":";
        if (!cell.value) {
          line_ += "null";
        } else if (cell.number) {
          line_ += *cell.value;
        } else {
          line_ += '"' + Poco::UTF8::escape(*cell.value) + '"';
        }
      }
      line_ += "}\n";
    }
    out_ << line_;
  }

 private:
  std::ostream& out_;
  ExportFormat format_;
  std::string line_;
};

}  // namespace

std::optional<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "avro") return ExportFormat::kAvro;
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "ndjson") return ExportFormat::kNdjson;
  return std::nullopt;
}

std::vector<std::string> FlatColumns(RecordKind kind) {
  std::vector<std::string> names;
  const FlatRow row = Flatten(EmptyRecord(kind));
  for (const Cell& cell : row.cells()) names.push_back(cell.name);
  return names;
}

namespace {

void CheckCodec(const ExportOptions& options) {
  if (!ParseOcfCodec(options.codec)) {
    throw Error::InvalidInput("unknown Avro codec '" + options.codec +
                              "' (use null, deflate or snappy)");
  }
}

// Only regular files are replaced; a symbolic link only when asked (and then the link itself).
void CheckReplaceable(const std::string& out_path, bool replace_symlink) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(out_path, ec);
  if (ec || !fs::exists(status)) return;
  if (fs::is_symlink(status)) {
    if (replace_symlink) return;
    throw Error::InvalidInput(out_path +
                              " is a symbolic link: export would replace the link itself, not "
                              "write through it; give --force to do that, or --out - to stream");
  }
  if (!fs::is_regular_file(status)) {
    throw Error::InvalidInput(out_path +
                              " exists and is not a regular file (a device, pipe, socket or "
                              "directory): export only replaces regular files (--out - streams "
                              "to standard output)");
  }
}

// A new, empty file beside `near` (mkstemp: created exclusively, so never through a link).
std::string NewTemporaryFile(const std::string& near) {
  std::string name = near + ".XXXXXX";
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw Error::IoError("cannot create a temporary file beside " + near);
  ::close(fd);
  return name;
}

// Writes the export into the (existing, empty) file `path`; returns the record count.
std::int64_t WriteExport(Store& store, const ExportOptions& options, const std::string& path) {
  std::int64_t records = 0;
  const RecordFilter filter{options.kind, options.origin};
  if (options.format == ExportFormat::kAvro) {
    OcfWriter writer(path, options.kind, options.codec);
    store.ForEachRecord(filter, [&](const StoredRecord& stored) {
      writer.AppendSingleObject(stored.body);
      ++records;
      return true;
    });
    writer.Close();
    return records;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error::IoError("cannot create " + path);
  FlatWriter writer(out, options.format, options.kind);
  store.ForEachRecord(filter, [&](const StoredRecord& stored) {
    writer.Write(DecodeSingleObject(stored.body));
    ++records;
    return true;
  });
  out.flush();
  if (!out) throw Error::IoError("cannot write " + path);
  return records;
}

}  // namespace

ExportSummary ExportRecords(Store& store, const ExportOptions& options,
                            const std::string& out_path) {
  CheckCodec(options);
  CheckReplaceable(out_path, options.replace_symlink);
  const std::string tmp_path = NewTemporaryFile(out_path);
  ExportSummary summary;
  try {
    summary.records = WriteExport(store, options, tmp_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp_path, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp_path, out_path, ec);
  if (ec) {
    fs::remove(tmp_path, ec);
    throw Error::IoError("cannot rename " + tmp_path + " to " + out_path);
  }
  summary.bytes = fs::file_size(out_path, ec);
  return summary;
}

ExportSummary ExportRecordsToStream(Store& store, const ExportOptions& options, std::ostream& out) {
  CheckCodec(options);
  ExportSummary summary;
  if (options.format != ExportFormat::kAvro) {
    const std::streampos start = out.tellp();
    FlatWriter writer(out, options.format, options.kind);
    store.ForEachRecord(RecordFilter{options.kind, options.origin},
                        [&](const StoredRecord& stored) {
                          writer.Write(DecodeSingleObject(stored.body));
                          ++summary.records;
                          return true;
                        });
    out.flush();
    if (!out) throw Error::IoError("cannot write the export to the output stream");
    if (start >= 0 && out.tellp() >= start) {
      summary.bytes = static_cast<std::uint64_t>(out.tellp() - start);
    }
    return summary;
  }
  const std::string tmp_path =
      NewTemporaryFile((fs::temp_directory_path() / "carehub-export").string());
  try {
    summary.records = WriteExport(store, options, tmp_path);
    std::ifstream in(tmp_path, std::ios::binary);
    out << in.rdbuf();
    out.flush();
    if (!out) throw Error::IoError("cannot write the export to the output stream");
    summary.bytes = fs::file_size(tmp_path);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp_path, ignored);
    throw;
  }
  fs::remove(tmp_path);
  return summary;
}

}  // namespace carehub
