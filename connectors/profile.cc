#include "connectors/profile.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "connectors/unicode_nfc.h"
#include "schemas/embedded.h"
#include "schemas/error.h"

namespace carehub::embedded_profiles {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_profiles

namespace carehub {
namespace {

constexpr std::string_view kFieldNames[kCanonicalFieldCount] = {
    "source_id",
    "status",
    "person_id",
    "person_alt_id",
    "person_name",
    "birth_date",
    "sex",
    "residence_region",
    "level",
    "total_score",
    "event_date",
    "valid_until",
    "certificate_no",
    "org_uscc",
    "org_local_id",
    "org_name",
    "org_region",
    "employer_uscc",
    "employer_local_id",
    "employer_name",
    "employer_region",
    "beds",
    "subject_kind",
    "legal_basis",
    "issuing_region",
};

using Poco::JSON::Array;
using Poco::JSON::Object;

[[noreturn]] void Fail(const std::string& profile, const std::string& what) {
  throw Error::InvalidInput("profile " + (profile.empty() ? std::string("?") : profile) + ": " +
                            what);
}

std::string GetString(const Object::Ptr& obj, const std::string& key, const std::string& profile,
                      bool required, const std::string& fallback = {}) {
  if (!obj->has(key) || obj->isNull(key)) {
    if (required) Fail(profile, "missing \"" + key + "\"");
    return fallback;
  }
  Poco::Dynamic::Var v = obj->get(key);
  if (!v.isString()) Fail(profile, "\"" + key + "\" must be a string");
  return v.extract<std::string>();
}

std::optional<std::int64_t> GetInt(const Object::Ptr& obj, const std::string& key,
                                   const std::string& profile) {
  if (!obj->has(key) || obj->isNull(key)) return std::nullopt;
  Poco::Dynamic::Var v = obj->get(key);
  if (!v.isInteger()) Fail(profile, "\"" + key + "\" must be an integer");
  return v.convert<std::int64_t>();
}

bool GetBool(const Object::Ptr& obj, const std::string& key, const std::string& profile,
             bool fallback) {
  if (!obj->has(key) || obj->isNull(key)) return fallback;
  Poco::Dynamic::Var v = obj->get(key);
  if (!v.isBoolean()) Fail(profile, "\"" + key + "\" must be true or false");
  return v.extract<bool>();
}

std::optional<IdScheme> ParseIdScheme(std::string_view text) {
  for (IdScheme s : {IdScheme::kPrcResidentId, IdScheme::kHkId, IdScheme::kMoId}) {
    if (IdSchemeName(s) == text) return s;
  }
  return std::nullopt;
}

template <typename T, typename ParseFn>
std::vector<CodeEntry<T>> ParseTable(const Object::Ptr& root, const std::string& key,
                                     const std::string& profile, ParseFn parse) {
  std::vector<CodeEntry<T>> out;
  if (!root->has(key)) return out;
  Object::Ptr table = root->getObject(key);
  if (!table) Fail(profile, "\"" + key + "\" must be an object of native text -> value");
  for (const auto& [native, value] : *table) {
    if (!value.isString()) Fail(profile, key + " entry \"" + native + "\" must be a string");
    std::optional<T> parsed = parse(value.toString());
    if (!parsed) Fail(profile, key + " entry \"" + native + "\": unknown value");
    out.push_back({native, *parsed});
  }
  return out;
}

void Check(const Profile& p) {
  std::set<std::string> names;
  std::set<CanonicalField> seen;
  for (const FieldSpec& f : p.fields) {
    if (f.name.empty()) Fail(p.name, "a field has an empty name");
    if (!names.insert(f.name).second) Fail(p.name, "field \"" + f.name + "\" appears twice");
    if (!seen.insert(f.field).second) {
      Fail(p.name, "canonical field " + std::string(CanonicalFieldName(f.field)) + " mapped twice");
    }
    if (f.xml_attribute && p.format != FileFormat::kXml) {
      Fail(p.name, "xml_attribute on a non-XML profile");
    }
  }
  if (!p.FindField(CanonicalField::kSourceId)) Fail(p.name, "no source_id field");
  if (!p.FindField(CanonicalField::kEventDate)) Fail(p.name, "no event_date field");
  if (!p.FindField(CanonicalField::kLevel)) Fail(p.name, "no level field");
  if (p.scale.code.empty() || p.scale.levels.empty()) Fail(p.name, "empty scale");
  std::set<std::string> natives;
  for (const LevelEntry& l : p.scale.levels) {
    if (!natives.insert(l.native).second) Fail(p.name, "scale entry \"" + l.native + "\" twice");
  }
  bool person_kind = p.kind == RecordKind::kAssessment || p.kind == RecordKind::kCaregiver;
  if (person_kind && !p.FindField(CanonicalField::kPersonId)) Fail(p.name, "no person_id field");
  if (p.FindField(CanonicalField::kPersonAltId) && !p.alt_id_scheme) {
    Fail(p.name, "person_alt_id without alt_id_scheme");
  }
  if (p.kind == RecordKind::kFacility && !p.FindField(CanonicalField::kOrgName)) {
    Fail(p.name, "no org_name field");
  }
  if (p.format == FileFormat::kXml && (p.xml_root.empty() || p.xml_record.empty())) {
    Fail(p.name, "XML profile without xml.root and xml.record");
  }
  if (p.format == FileFormat::kCsv &&
      (p.delimiter == '"' || p.delimiter == '\n' || p.delimiter == '\r')) {
    Fail(p.name, "bad CSV delimiter");
  }
  if (p.encoding != TextEncoding::kUtf8 && p.format != FileFormat::kCsv) {
    // JSON and XML carry their own encoding rules; carehub only reads them as UTF-8.
    Fail(p.name, "only CSV profiles may use a legacy encoding");
  }
  if (p.region.size() != 6) Fail(p.name, "region must be a 6-digit GB/T 2260 code");
}

}  // namespace

std::string_view CanonicalFieldName(CanonicalField field) {
  return kFieldNames[static_cast<int>(field)];
}

std::optional<CanonicalField> ParseCanonicalField(std::string_view name) {
  for (int i = 0; i < kCanonicalFieldCount; ++i) {
    if (kFieldNames[i] == name) return static_cast<CanonicalField>(i);
  }
  return std::nullopt;
}

std::string_view FileFormatName(FileFormat format) {
  constexpr std::string_view kNames[] = {"csv", "json", "ndjson", "xml"};
  return kNames[static_cast<int>(format)];
}

std::string_view TextEncodingName(TextEncoding encoding) {
  constexpr std::string_view kNames[] = {"utf-8", "gbk", "big5", "big5-hkscs"};
  return kNames[static_cast<int>(encoding)];
}

std::string_view SexName(Sex sex) {
  constexpr std::string_view kNames[] = {"U", "M", "F"};
  return kNames[static_cast<int>(sex)];
}

std::string_view SubjectKindName(SubjectKind kind) {
  return kind == SubjectKind::kOrganisation ? "organisation" : "person";
}

std::string_view SanctionTypeName(SanctionType type) {
  constexpr std::string_view kNames[] = {"penalty", "blacklist", "dishonesty"};
  return kNames[static_cast<int>(type)];
}

const FieldSpec* Profile::FindField(CanonicalField field) const {
  for (const FieldSpec& f : fields) {
    if (f.field == field) return &f;
  }
  return nullptr;
}

std::string_view Profile::RegionName() const {
  std::string_view n = name;
  return n.substr(0, n.find('/'));
}

namespace {

// Files are matched after Unicode NFC (connectors/unicode_nfc.h), so the profile's own texts
// must be in NFC too, whatever form its author's editor saved.
void NormaliseTexts(Profile& p) {
  for (FieldSpec& f : p.fields) f.name = ToNfc(f.name);
  for (LevelEntry& l : p.scale.levels) l.native = ToNfc(l.native);
  for (auto& e : p.statuses) e.native = ToNfc(e.native);
  for (auto& e : p.sexes) e.native = ToNfc(e.native);
  for (auto& e : p.subject_kinds) e.native = ToNfc(e.native);
  p.xml_root = ToNfc(p.xml_root);
  p.xml_record = ToNfc(p.xml_record);
}

}  // namespace

Profile LoadProfile(std::string_view json_text) {
  Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed = parser.parse(std::string(json_text));
    if (parsed.type() != typeid(Object::Ptr))
      throw Error::InvalidInput("profile is not a JSON object");
    root = parsed.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput("profile is not a JSON object: " + e.displayText());
  }
  Profile p;
  p.name = GetString(root, "name", "", true);
  if (p.name.find('/') == std::string::npos) Fail(p.name, "name must be \"region/kind\"");
  const std::string& n = p.name;
  p.version = static_cast<int>(GetInt(root, "version", n).value_or(1));
  p.description = GetString(root, "description", n, false);
  p.region = GetString(root, "region", n, true);
  std::optional<RecordKind> kind = ParseKind(GetString(root, "kind", n, true));
  if (!kind) Fail(n, "unknown kind");
  p.kind = *kind;
  if (p.name.substr(p.name.find('/') + 1) != KindName(p.kind)) {
    Fail(n, "name does not end in its kind");
  }
  std::string format = GetString(root, "format", n, true);
  if (format == "csv") {
    p.format = FileFormat::kCsv;
  } else if (format == "json") {
    p.format = FileFormat::kJson;
  } else if (format == "ndjson") {
    p.format = FileFormat::kNdjson;
  } else if (format == "xml") {
    p.format = FileFormat::kXml;
  } else {
    Fail(n, "unknown format \"" + format + "\"");
  }
  std::string encoding = GetString(root, "encoding", n, false, "utf-8");
  if (encoding == "utf-8") {
    p.encoding = TextEncoding::kUtf8;
  } else if (encoding == "gbk") {
    p.encoding = TextEncoding::kGbk;
  } else if (encoding == "big5") {
    p.encoding = TextEncoding::kBig5;
  } else if (encoding == "big5-hkscs") {
    p.encoding = TextEncoding::kBig5Hkscs;
  } else {
    Fail(n, "unknown encoding \"" + encoding + "\"");
  }
  if (root->has("csv")) {
    Object::Ptr csv = root->getObject("csv");
    if (!csv) Fail(n, "\"csv\" must be an object");
    std::string delim = GetString(csv, "delimiter", n, false, ",");
    if (delim == "\\t") delim = "\t";
    if (delim.size() != 1) Fail(n, "csv.delimiter must be one ASCII character");
    p.delimiter = delim[0];
    p.bom = GetBool(csv, "bom", n, false);
    p.crlf = GetBool(csv, "crlf", n, false);
  }
  if (root->has("xml")) {
    Object::Ptr xml = root->getObject("xml");
    if (!xml) Fail(n, "\"xml\" must be an object");
    p.xml_root = GetString(xml, "root", n, true);
    p.xml_namespace = GetString(xml, "namespace", n, false, "");
    p.xml_record = GetString(xml, "record", n, true);
  }
  p.date_format = GetString(root, "date_format", n, false, "YYYY-MM-DD");
  std::optional<IdScheme> scheme =
      ParseIdScheme(GetString(root, "id_scheme", n, false, "PRC_RESIDENT_ID"));
  if (!scheme) Fail(n, "unknown id_scheme");
  p.id_scheme = *scheme;
  if (root->has("alt_id_scheme")) {
    p.alt_id_scheme = ParseIdScheme(GetString(root, "alt_id_scheme", n, true));
    if (!p.alt_id_scheme) Fail(n, "unknown alt_id_scheme");
  }

  Array::Ptr fields = root->getArray("fields");
  if (!fields || fields->size() == 0) Fail(n, "missing \"fields\" array");
  for (std::size_t i = 0; i < fields->size(); ++i) {
    Object::Ptr f = fields->getObject(static_cast<unsigned>(i));
    if (!f) Fail(n, "fields[" + std::to_string(i) + "] must be an object");
    FieldSpec spec;
    spec.name = GetString(f, "name", n, true);
    std::string canonical = GetString(f, "field", n, true);
    std::optional<CanonicalField> cf = ParseCanonicalField(canonical);
    if (!cf) Fail(n, "field \"" + spec.name + "\": unknown canonical field \"" + canonical + "\"");
    spec.field = *cf;
    spec.required = GetBool(f, "required", n, spec.field == CanonicalField::kSourceId);
    spec.date_format = GetString(f, "date_format", n, false);
    spec.min = GetInt(f, "min", n);
    spec.max = GetInt(f, "max", n);
    spec.xml_attribute = GetBool(f, "xml_attribute", n, false);
    spec.json_number = GetBool(f, "json_number", n, false);
    p.fields.push_back(std::move(spec));
  }

  Object::Ptr scale = root->getObject("scale");
  if (!scale) Fail(n, "missing \"scale\" object");
  p.scale.code = GetString(scale, "code", n, true);
  p.scale.name = GetString(scale, "name", n, false);
  Array::Ptr levels = scale->getArray("levels");
  if (!levels) Fail(n, "missing scale.levels array");
  for (std::size_t i = 0; i < levels->size(); ++i) {
    Object::Ptr l = levels->getObject(static_cast<unsigned>(i));
    if (!l) Fail(n, "scale.levels[" + std::to_string(i) + "] must be an object");
    LevelEntry e;
    e.native = GetString(l, "native", n, true);
    e.code = GetString(l, "code", n, false, e.native);
    e.scale = GetString(l, "scale", n, false);
    if (auto v = GetInt(l, "pivot", n)) e.pivot = static_cast<int>(*v);
    if (auto v = GetInt(l, "range_upper", n)) e.range_upper = static_cast<int>(*v);
    if (l->has("flag") && !l->isNull("flag")) e.flag = GetString(l, "flag", n, true);
    e.documented = GetBool(l, "documented", n, false);
    e.comparable = GetBool(l, "comparable", n, e.pivot.has_value());
    std::string type = GetString(l, "sanction_type", n, false, "penalty");
    if (type == "penalty") {
      e.sanction_type = SanctionType::kPenalty;
    } else if (type == "blacklist") {
      e.sanction_type = SanctionType::kBlacklist;
    } else if (type == "dishonesty") {
      e.sanction_type = SanctionType::kDishonesty;
    } else {
      Fail(n, "unknown sanction_type \"" + type + "\"");
    }
    e.weight = static_cast<int>(GetInt(l, "weight", n).value_or(1));
    if (e.range_upper && !e.pivot) Fail(n, "range_upper without pivot for " + e.native);
    p.scale.levels.push_back(std::move(e));
  }

  p.statuses = ParseTable<RecordStatus>(root, "statuses", n,
                                        [](const std::string& v) { return ParseStatus(v); });
  p.sexes = ParseTable<Sex>(root, "sexes", n, [](const std::string& v) -> std::optional<Sex> {
    if (v == "M") return Sex::kMale;
    if (v == "F") return Sex::kFemale;
    if (v == "U") return Sex::kUnknown;
    return std::nullopt;
  });
  p.subject_kinds = ParseTable<SubjectKind>(root, "subject_kinds", n,
                                            [](const std::string& v) -> std::optional<SubjectKind> {
                                              if (v == "organisation")
                                                return SubjectKind::kOrganisation;
                                              if (v == "person") return SubjectKind::kPerson;
                                              return std::nullopt;
                                            });
  if (Array::Ptr regions = root->getArray("region_codes")) {
    for (std::size_t i = 0; i < regions->size(); ++i) {
      p.region_codes.push_back(regions->getElement<std::string>(static_cast<unsigned>(i)));
    }
  }
  if (p.region_codes.empty()) p.region_codes.push_back(p.region);
  p.local_id_pattern = GetString(root, "local_id_pattern", n, false);
  NormaliseTexts(p);
  Check(p);
  return p;
}

const std::vector<Profile>& BuiltinProfiles() {
  static const std::vector<Profile> profiles = [] {
    std::vector<Profile> out;
    for (std::size_t i = 0; i < embedded_profiles::kFileCount; ++i) {
      const EmbeddedFile& file = embedded_profiles::kFiles[i];
      Profile p = LoadProfile(file.content);
      std::string expected(file.path.substr(0, file.path.size() - 5));  // minus ".json"
      if (p.name != expected) {
        throw Error::Corruption("built-in profile " + std::string(file.path) + " is named " +
                                p.name);
      }
      out.push_back(std::move(p));
    }
    std::sort(out.begin(), out.end(),
              [](const Profile& a, const Profile& b) { return a.name < b.name; });
    return out;
  }();
  return profiles;
}

const Profile* FindBuiltinProfile(std::string_view name) {
  for (const Profile& p : BuiltinProfiles()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<Profile> LoadProfilesFromDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<Profile> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error::IoError("profiles dir not found: " + dir);
  for (const fs::directory_entry& region : fs::directory_iterator(dir)) {
    if (!region.is_directory()) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(region.path())) {
      if (file.path().extension() != ".json") continue;
      std::ifstream in(file.path(), std::ios::binary);
      if (!in) throw Error::IoError("cannot read profile " + file.path().string());
      std::stringstream text;
      text << in.rdbuf();
      Profile p = LoadProfile(text.str());
      std::string expected = region.path().filename().string() + "/" + file.path().stem().string();
      if (p.name != expected) {
        throw Error::InvalidInput("profile " + file.path().string() + " is named " + p.name);
      }
      out.push_back(std::move(p));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Profile& a, const Profile& b) { return a.name < b.name; });
  return out;
}

}  // namespace carehub
