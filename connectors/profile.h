// Region profiles: one JSON data file per region x kind (connectors/profiles/<region>/<kind>.json)
// that declares a native export format completely enough to read it (the connector engine) and to
// write it (`carehub gen`): file format, encoding, fields in column order, date formats, identifier
// scheme and code tables. Profiles are plain immutable values once loaded; the built-in ones are
// compiled into the binary and shared read-only (thread-safe). See docs/connectors.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

enum class FileFormat { kCsv, kJson, kNdjson, kXml };
enum class TextEncoding { kUtf8, kGbk, kBig5, kBig5Hkscs };

// The canonical meaning of a native field. The "org" fields name the kind's main organisation:
// the assessor (assessment), the issuing body (caregiver), the facility itself (facility) or the
// sanctioned organisation (sanction). The "employer" fields are only used by caregivers.
enum class CanonicalField {
  kSourceId,         // the source record id (required by every profile)
  kStatus,           // through Profile::statuses
  kPersonId,         // identifier in Profile::id_scheme
  kPersonAltId,      // second identifier in Profile::alt_id_scheme (e.g. a residence permit)
  kPersonName,       // checked for presence only; never stored
  kBirthDate,        // else derived from a PRC resident id
  kSex,              // through Profile::sexes; else derived from a PRC resident id
  kResidenceRegion,  // GB/T 2260
  kLevel,            // through Profile::scale (level, grade, role, licence or sanction category)
  kTotalScore,       // number
  kEventDate,        // assessed_on / issued_on / rated_on / decided_on
  kValidUntil,       // valid_until / ends_on
  kCertificateNo,    // caregiver certificate number: stored only as a keyed token
  kOrgUscc,
  kOrgLocalId,  // licence or registration number where there is no USCC (HK, Macau)
  kOrgName,
  kOrgRegion,  // GB/T 2260
  kEmployerUscc,
  kEmployerLocalId,
  kEmployerName,
  kEmployerRegion,
  kBeds,         // number
  kSubjectKind,  // sanction: through Profile::subject_kinds
  kLegalBasis,
  kIssuingRegion,  // GB/T 2260; defaults to Profile::region
};
inline constexpr int kCanonicalFieldCount = static_cast<int>(CanonicalField::kIssuingRegion) + 1;

// "source_id", "person_id", "event_date", ... (the names used in profile files).
std::string_view CanonicalFieldName(CanonicalField field);
std::optional<CanonicalField> ParseCanonicalField(std::string_view name);

// One native field, in file order (CSV column order, JSON key order, XML child order).
struct FieldSpec {
  std::string name;  // native name: CSV header, JSON key, XML element or attribute name
  CanonicalField field = CanonicalField::kSourceId;
  bool required = false;
  // Date fields: pattern of YYYY, MM, DD (exactly 2 digits), M, D (1-2 digits) and literal
  // characters, e.g. "YYYY-MM-DD", "YYYYMMDD", "DD/MM/YYYY", "YYYY年M月D日". Empty = the
  // profile's date_format.
  std::string date_format;
  std::optional<std::int64_t> min;  // number fields: accepted range (inclusive)
  std::optional<std::int64_t> max;
  bool xml_attribute = false;  // XML: an attribute of the record element, not a child element
  bool json_number = false;    // JSON writers: emit as a number (readers accept either)
};

// One entry of the native scale: the native text as found -> stored code and pivot.
struct LevelEntry {
  std::string native;        // the text in the file (matched exactly after trimming)
  std::string code;          // NativeLevel::code
  std::string scale;         // NativeLevel::scale override (e.g. pre-2019 titles); "" = scale
  std::optional<int> pivot;  // national pivot level; none = no pivot (e.g. HK roles/licences)
  std::optional<int> range_upper;
  std::optional<std::string> flag;
  bool documented = false;  // the crosswalk is documented (only the GB/T 42195 identity)
  bool comparable = true;   // facility: grade comparable with GB/T 37276
  SanctionType sanction_type = SanctionType::kPenalty;  // sanction categories only
  int weight = 1;                                       // generator: relative frequency
};

struct Scale {
  std::string code;  // NativeLevel::scale, e.g. "SH_CARE_NEEDS" (ids shared with mapping/rules)
  std::string name;
  std::vector<LevelEntry> levels;
};

template <typename T>
struct CodeEntry {
  std::string native;
  T value{};
};

struct Profile {
  std::string name;  // "shanghai/assessment"
  int version = 1;
  std::string description;
  std::string region;  // province-level GB/T 2260 code of the exporting region, "310000"
  RecordKind kind = RecordKind::kAssessment;
  FileFormat format = FileFormat::kCsv;
  TextEncoding encoding = TextEncoding::kUtf8;
  char delimiter = ',';    // CSV
  bool bom = false;        // CSV: starts with a UTF-8 BOM (readers accept one either way)
  bool crlf = false;       // CSV: CRLF line ends (readers accept both)
  std::string xml_root;    // XML: root element, e.g. "评估记录集"
  std::string xml_record;  // XML: the repeated record element
  // XML: namespace URI the root and record elements must be in (any prefix, or the default
  // namespace); "" = matched by local name in any namespace.
  std::string xml_namespace;
  std::string date_format = "YYYY-MM-DD";
  IdScheme id_scheme = IdScheme::kPrcResidentId;
  std::optional<IdScheme> alt_id_scheme;
  std::vector<FieldSpec> fields;
  Scale scale;
  std::vector<CodeEntry<RecordStatus>> statuses;  // empty or no column: ACTIVE
  std::vector<CodeEntry<Sex>> sexes;
  std::vector<CodeEntry<SubjectKind>> subject_kinds;
  // Generator hints: GB/T 2260 codes to draw org/residence regions from (first = default).
  std::vector<std::string> region_codes;
  // Generator hint for organisation local ids (HK/Macau), e.g. "RCHE-{n}" ("{n}" = a number).
  std::string local_id_pattern;

  const FieldSpec* FindField(CanonicalField field) const;  // nullptr when the profile lacks it
  std::string_view RegionName() const;                     // "shanghai" from the name
};

// Parses and checks one profile (Poco::JSON). Throws Error::InvalidInput naming the problem.
Profile LoadProfile(std::string_view json_text);

// The profiles compiled into the binary from connectors/profiles, sorted by name.
const std::vector<Profile>& BuiltinProfiles();
// nullptr when there is no built-in profile of that name.
const Profile* FindBuiltinProfile(std::string_view name);
// Every <region>/<kind>.json under `dir`, sorted by name. Throws Error::IoError/InvalidInput.
std::vector<Profile> LoadProfilesFromDir(const std::string& dir);

std::string_view FileFormatName(FileFormat format);  // "csv", "json", "ndjson", "xml"
// "utf-8", "gbk", "big5", "big5-hkscs"
std::string_view TextEncodingName(TextEncoding encoding);
std::string_view SexName(Sex sex);                     // "M", "F", "U"
std::string_view SubjectKindName(SubjectKind kind);    // "organisation", "person"
std::string_view SanctionTypeName(SanctionType type);  // "penalty", "blacklist", "dishonesty"

}  // namespace carehub
