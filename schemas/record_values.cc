// Avro C value accessors for canonical records (see schemas/codec_internal.h). Fields are
// addressed by position; CheckLayout proves once per schema that the positions match the .avsc.
#include <cstring>
#include <map>
#include <vector>

#include "schemas/avro_handle.h"
#include "schemas/codec_internal.h"
#include "schemas/error.h"

namespace carehub::avro {
namespace {

// ---- field setters --------------------------------------------------------------------------

avro_value_t Child(avro_value_t* parent, std::size_t index) {
  avro_value_t child;
  Check(avro_value_get_by_index(parent, index, &child, nullptr), "avro field");
  return child;
}

void SetString(avro_value_t* value, const std::string& text) {
  Check(avro_value_set_string_len(value, text.c_str(), text.size() + 1), "avro string");
}

// Sets a ["null", T] union: returns the T branch to fill, or nullptr after setting null.
avro_value_t* SetOptional(avro_value_t* value, bool present, avro_value_t* branch) {
  Check(avro_value_set_branch(value, present ? 1 : 0, branch), "avro union");
  if (!present) {
    Check(avro_value_set_null(branch), "avro null");
    return nullptr;
  }
  return branch;
}

void SetOptionalInt(avro_value_t* value, const std::optional<int>& number) {
  avro_value_t branch;
  if (SetOptional(value, number.has_value(), &branch)) avro_value_set_int(&branch, *number);
}

void SetOptionalString(avro_value_t* value, const std::optional<std::string>& text) {
  avro_value_t branch;
  if (SetOptional(value, text.has_value(), &branch)) SetString(&branch, *text);
}

void SetDate(avro_value_t* value, Date date) {
  avro_value_set_int(value, static_cast<int32_t>(date.time_since_epoch().count()));
}

void SetOptionalDate(avro_value_t* value, const std::optional<Date>& date) {
  avro_value_t branch;
  if (SetOptional(value, date.has_value(), &branch)) SetDate(&branch, *date);
}

void SetFixed(avro_value_t* value, const Hmac256& bytes) {
  Check(avro_value_set_fixed(value, const_cast<std::uint8_t*>(bytes.data()), bytes.size()),
        "avro fixed");
}

void SetPerson(avro_value_t* value, const PersonRef& person) {
  avro_value_t tokens = Child(value, 0);
  avro_value_reset(&tokens);
  for (const PersonToken& token : person.tokens) {
    avro_value_t element;
    Check(avro_value_append(&tokens, &element, nullptr), "avro array");
    avro_value_t scheme = Child(&element, 0);
    avro_value_set_enum(&scheme, static_cast<int>(token.scheme));
    avro_value_t bytes = Child(&element, 1);
    SetFixed(&bytes, token.token);
  }
  avro_value_t birth_year = Child(value, 1);
  SetOptionalInt(&birth_year, person.birth_year);
  avro_value_t sex = Child(value, 2);
  avro_value_set_enum(&sex, static_cast<int>(person.sex));
  avro_value_t residence = Child(value, 3);
  SetOptionalString(&residence, person.residence_region);
}

void SetOrg(avro_value_t* value, const OrgRef& org) {
  avro_value_t field = Child(value, 0);
  SetOptionalString(&field, org.uscc);
  field = Child(value, 1);
  SetOptionalString(&field, org.local_id);
  field = Child(value, 2);
  SetString(&field, org.name);
  field = Child(value, 3);
  SetString(&field, org.region);
}

void SetOptionalOrg(avro_value_t* value, const std::optional<OrgRef>& org) {
  avro_value_t branch;
  if (SetOptional(value, org.has_value(), &branch)) SetOrg(&branch, *org);
}

void SetNative(avro_value_t* value, const NativeLevel& native) {
  avro_value_t field = Child(value, 0);
  SetString(&field, native.scale);
  field = Child(value, 1);
  SetString(&field, native.code);
  field = Child(value, 2);
  SetString(&field, native.label);
}

void SetOptionalPivot(avro_value_t* value, const std::optional<PivotLevel>& pivot) {
  avro_value_t branch;
  if (!SetOptional(value, pivot.has_value(), &branch)) return;
  avro_value_t field = Child(&branch, 0);
  avro_value_set_int(&field, pivot->level);
  field = Child(&branch, 1);
  SetOptionalInt(&field, pivot->range_upper);
  field = Child(&branch, 2);
  SetOptionalString(&field, pivot->flag);
  field = Child(&branch, 3);
  avro_value_set_boolean(&field, pivot->documented ? 1 : 0);
}

void SetProvenance(avro_value_t* value, const Provenance& p) {
  avro_value_t field = Child(value, 0);
  SetString(&field, p.origin_region);
  field = Child(value, 1);
  SetString(&field, p.profile);
  field = Child(value, 2);
  avro_value_set_int(&field, p.profile_version);
  field = Child(value, 3);
  SetString(&field, p.source_file);
  field = Child(value, 4);
  avro_value_set_long(&field, p.source_row);
  field = Child(value, 5);
  SetString(&field, p.source_record_id);
  field = Child(value, 6);
  avro_value_set_long(&field, p.ingested_at_ms);
}

// Fills the kind-specific fields starting at index 3; returns the provenance index.
std::size_t SetBody(avro_value_t* rec, const RecordBody& body) {
  avro_value_t f;
  if (const auto* a = std::get_if<Assessment>(&body)) {
    f = Child(rec, 3), SetPerson(&f, a->person);
    f = Child(rec, 4), SetNative(&f, a->native);
    f = Child(rec, 5), SetOptionalPivot(&f, a->pivot);
    f = Child(rec, 6), SetOptionalInt(&f, a->total_score);
    f = Child(rec, 7), SetDate(&f, a->assessed_on);
    f = Child(rec, 8), SetOptionalDate(&f, a->valid_until);
    f = Child(rec, 9), SetOptionalOrg(&f, a->assessor);
    return 10;
  }
  if (const auto* c = std::get_if<CaregiverQualification>(&body)) {
    f = Child(rec, 3), SetPerson(&f, c->person);
    f = Child(rec, 4), SetNative(&f, c->native);
    f = Child(rec, 5), SetOptionalPivot(&f, c->pivot);
    f = Child(rec, 6);
    avro_value_t branch;
    if (SetOptional(&f, c->certificate_token.has_value(), &branch)) {
      SetFixed(&branch, *c->certificate_token);
    }
    f = Child(rec, 7), SetDate(&f, c->issued_on);
    f = Child(rec, 8), SetOptionalDate(&f, c->valid_until);
    f = Child(rec, 9), SetOptionalOrg(&f, c->issuer);
    f = Child(rec, 10), SetOptionalOrg(&f, c->employer);
    return 11;
  }
  if (const auto* r = std::get_if<FacilityRating>(&body)) {
    f = Child(rec, 3), SetOrg(&f, r->facility);
    f = Child(rec, 4), SetNative(&f, r->native);
    f = Child(rec, 5), SetOptionalPivot(&f, r->pivot);
    f = Child(rec, 6), avro_value_set_boolean(&f, r->comparable ? 1 : 0);
    f = Child(rec, 7), SetOptionalInt(&f, r->beds);
    f = Child(rec, 8), SetDate(&f, r->rated_on);
    f = Child(rec, 9), SetOptionalDate(&f, r->valid_until);
    return 10;
  }
  const auto& s = std::get<SanctionNotice>(body);
  f = Child(rec, 3), avro_value_set_enum(&f, static_cast<int>(s.subject_kind));
  f = Child(rec, 4), SetOptionalOrg(&f, s.subject_org);
  f = Child(rec, 5);
  avro_value_t branch;
  if (SetOptional(&f, s.subject_person.has_value(), &branch)) SetPerson(&branch, *s.subject_person);
  f = Child(rec, 6), avro_value_set_enum(&f, static_cast<int>(s.sanction_type));
  f = Child(rec, 7), SetNative(&f, s.native);
  f = Child(rec, 8), SetString(&f, s.legal_basis);
  f = Child(rec, 9), SetDate(&f, s.decided_on);
  f = Child(rec, 10), SetOptionalDate(&f, s.ends_on);
  f = Child(rec, 11), SetString(&f, s.issuing_region);
  return 12;
}

// ---- field getters --------------------------------------------------------------------------

std::string GetString(avro_value_t* value) {
  const char* text = nullptr;
  size_t size = 0;
  Check(avro_value_get_string(value, &text, &size), "avro string");
  return std::string(text, size > 0 ? size - 1 : 0);
}

int GetInt(avro_value_t* value) {
  int32_t number = 0;
  Check(avro_value_get_int(value, &number), "avro int");
  return number;
}

std::int64_t GetLong(avro_value_t* value) {
  int64_t number = 0;
  Check(avro_value_get_long(value, &number), "avro long");
  return number;
}

// Returns the symbol index, checked against the number of symbols the C++ enum knows.
int GetEnum(avro_value_t* value, int symbol_count) {
  int symbol = 0;
  Check(avro_value_get_enum(value, &symbol), "avro enum");
  if (symbol < 0 || symbol >= symbol_count) throw Error::Corruption("avro enum out of range");
  return symbol;
}

bool GetBool(avro_value_t* value) {
  int flag = 0;
  Check(avro_value_get_boolean(value, &flag), "avro boolean");
  return flag != 0;
}

Date GetDate(avro_value_t* value) { return Date(std::chrono::days(GetInt(value))); }

// Returns true and the T branch when a ["null", T] union holds T.
bool GetOptional(avro_value_t* value, avro_value_t* branch) {
  int discriminant = 0;
  Check(avro_value_get_discriminant(value, &discriminant), "avro union");
  Check(avro_value_get_current_branch(value, branch), "avro union");
  return discriminant == 1;
}

template <typename T, typename Getter>
std::optional<T> GetOptionalWith(avro_value_t* value, Getter getter) {
  avro_value_t branch;
  if (!GetOptional(value, &branch)) return std::nullopt;
  return getter(&branch);
}

Hmac256 GetFixed(avro_value_t* value) {
  const void* bytes = nullptr;
  size_t size = 0;
  Check(avro_value_get_fixed(value, &bytes, &size), "avro fixed");
  if (size != 32) throw Error::Corruption("avro fixed of unexpected size");
  Hmac256 out;
  std::memcpy(out.data(), bytes, out.size());
  return out;
}

PersonRef GetPerson(avro_value_t* value) {
  PersonRef person;
  avro_value_t tokens = Child(value, 0);
  size_t count = 0;
  Check(avro_value_get_size(&tokens, &count), "avro array");
  for (size_t i = 0; i < count; ++i) {
    avro_value_t element = Child(&tokens, i);
    avro_value_t scheme = Child(&element, 0);
    avro_value_t bytes = Child(&element, 1);
    person.tokens.push_back({static_cast<IdScheme>(GetEnum(&scheme, 3)), GetFixed(&bytes)});
  }
  avro_value_t field = Child(value, 1);
  person.birth_year = GetOptionalWith<int>(&field, GetInt);
  field = Child(value, 2);
  person.sex = static_cast<Sex>(GetEnum(&field, 3));
  field = Child(value, 3);
  person.residence_region = GetOptionalWith<std::string>(&field, GetString);
  return person;
}

OrgRef GetOrg(avro_value_t* value) {
  OrgRef org;
  avro_value_t field = Child(value, 0);
  org.uscc = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 1);
  org.local_id = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 2);
  org.name = GetString(&field);
  field = Child(value, 3);
  org.region = GetString(&field);
  return org;
}

NativeLevel GetNative(avro_value_t* value) {
  NativeLevel native;
  avro_value_t field = Child(value, 0);
  native.scale = GetString(&field);
  field = Child(value, 1);
  native.code = GetString(&field);
  field = Child(value, 2);
  native.label = GetString(&field);
  return native;
}

PivotLevel GetPivot(avro_value_t* value) {
  PivotLevel pivot;
  avro_value_t field = Child(value, 0);
  pivot.level = GetInt(&field);
  field = Child(value, 1);
  pivot.range_upper = GetOptionalWith<int>(&field, GetInt);
  field = Child(value, 2);
  pivot.flag = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 3);
  pivot.documented = GetBool(&field);
  return pivot;
}

Provenance GetProvenance(avro_value_t* value) {
  Provenance p;
  avro_value_t field = Child(value, 0);
  p.origin_region = GetString(&field);
  field = Child(value, 1);
  p.profile = GetString(&field);
  field = Child(value, 2);
  p.profile_version = GetInt(&field);
  field = Child(value, 3);
  p.source_file = GetString(&field);
  field = Child(value, 4);
  p.source_row = GetLong(&field);
  field = Child(value, 5);
  p.source_record_id = GetString(&field);
  field = Child(value, 6);
  p.ingested_at_ms = GetLong(&field);
  return p;
}

}  // namespace

CanonicalRecord ReadRecord(avro_value_t* rec, RecordKind kind) {
  CanonicalRecord record;
  avro_value_t f = Child(rec, 0);
  record.record_id = GetString(&f);
  f = Child(rec, 1);
  record.version = GetInt(&f);
  f = Child(rec, 2);
  record.status = static_cast<RecordStatus>(GetEnum(&f, 6));
  std::size_t provenance_index = 0;
  switch (kind) {
    case RecordKind::kAssessment: {
      Assessment a;
      f = Child(rec, 3), a.person = GetPerson(&f);
      f = Child(rec, 4), a.native = GetNative(&f);
      f = Child(rec, 5), a.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), a.total_score = GetOptionalWith<int>(&f, GetInt);
      f = Child(rec, 7), a.assessed_on = GetDate(&f);
      f = Child(rec, 8), a.valid_until = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 9), a.assessor = GetOptionalWith<OrgRef>(&f, GetOrg);
      record.body = std::move(a);
      provenance_index = 10;
      break;
    }
    case RecordKind::kCaregiver: {
      CaregiverQualification c;
      f = Child(rec, 3), c.person = GetPerson(&f);
      f = Child(rec, 4), c.native = GetNative(&f);
      f = Child(rec, 5), c.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), c.certificate_token = GetOptionalWith<Hmac256>(&f, GetFixed);
      f = Child(rec, 7), c.issued_on = GetDate(&f);
      f = Child(rec, 8), c.valid_until = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 9), c.issuer = GetOptionalWith<OrgRef>(&f, GetOrg);
      f = Child(rec, 10), c.employer = GetOptionalWith<OrgRef>(&f, GetOrg);
      record.body = std::move(c);
      provenance_index = 11;
      break;
    }
    case RecordKind::kFacility: {
      FacilityRating r;
      f = Child(rec, 3), r.facility = GetOrg(&f);
      f = Child(rec, 4), r.native = GetNative(&f);
      f = Child(rec, 5), r.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), r.comparable = GetBool(&f);
      f = Child(rec, 7), r.beds = GetOptionalWith<int>(&f, GetInt);
      f = Child(rec, 8), r.rated_on = GetDate(&f);
      f = Child(rec, 9), r.valid_until = GetOptionalWith<Date>(&f, GetDate);
      record.body = std::move(r);
      provenance_index = 10;
      break;
    }
    case RecordKind::kSanction: {
      SanctionNotice s;
      f = Child(rec, 3), s.subject_kind = static_cast<SubjectKind>(GetEnum(&f, 2));
      f = Child(rec, 4), s.subject_org = GetOptionalWith<OrgRef>(&f, GetOrg);
      f = Child(rec, 5), s.subject_person = GetOptionalWith<PersonRef>(&f, GetPerson);
      f = Child(rec, 6), s.sanction_type = static_cast<SanctionType>(GetEnum(&f, 3));
      f = Child(rec, 7), s.native = GetNative(&f);
      f = Child(rec, 8), s.legal_basis = GetString(&f);
      f = Child(rec, 9), s.decided_on = GetDate(&f);
      f = Child(rec, 10), s.ends_on = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 11), s.issuing_region = GetString(&f);
      record.body = std::move(s);
      provenance_index = 12;
      break;
    }
  }
  f = Child(rec, provenance_index);
  record.provenance = GetProvenance(&f);
  return record;
}

void WriteRecord(avro_value_t* rec, const CanonicalRecord& record) {
  avro_value_reset(rec);
  avro_value_t f = Child(rec, 0);
  SetString(&f, record.record_id);
  f = Child(rec, 1), avro_value_set_int(&f, record.version);
  f = Child(rec, 2), avro_value_set_enum(&f, static_cast<int>(record.status));
  const std::size_t provenance_index = SetBody(rec, record.body);
  f = Child(rec, provenance_index), SetProvenance(&f, record.provenance);
}

namespace {

// Field names in the order the accessors above address them, per named record type.
const std::map<std::string, std::vector<std::string>>& ExpectedLayouts() {
  static const std::map<std::string, std::vector<std::string>> kLayouts = {
      {"Assessment",
       {"record_id", "version", "status", "person", "native", "pivot", "total_score", "assessed_on",
        "valid_until", "assessor", "provenance"}},
      {"CaregiverQualification",
       {"record_id", "version", "status", "person", "native", "pivot", "certificate_token",
        "issued_on", "valid_until", "issuer", "employer", "provenance"}},
      {"FacilityRating",
       {"record_id", "version", "status", "facility", "native", "pivot", "comparable", "beds",
        "rated_on", "valid_until", "provenance"}},
      {"SanctionNotice",
       {"record_id", "version", "status", "subject_kind", "subject_org", "subject_person",
        "sanction_type", "native", "legal_basis", "decided_on", "ends_on", "issuing_region",
        "provenance"}},
      {"PersonRef", {"tokens", "birth_year", "sex", "residence_region"}},
      {"PersonToken", {"scheme", "token"}},
      {"OrgRef", {"uscc", "local_id", "name", "region"}},
      {"NativeLevel", {"scale", "code", "label"}},
      {"PivotLevel", {"level", "range_upper", "flag", "documented"}},
      {"Provenance",
       {"origin_region", "profile", "profile_version", "source_file", "source_row",
        "source_record_id", "ingested_at"}},
  };
  return kLayouts;
}

void CheckSchema(avro_schema_t schema) {
  if (is_avro_union(schema)) {
    for (size_t i = 0; i < avro_schema_union_size(schema); ++i) {
      CheckSchema(avro_schema_union_branch(schema, static_cast<int>(i)));
    }
  } else if (is_avro_array(schema)) {
    CheckSchema(avro_schema_array_items(schema));
  } else if (is_avro_record(schema)) {
    const std::string name = avro_schema_name(schema);
    auto it = ExpectedLayouts().find(name);
    if (it == ExpectedLayouts().end()) throw Error::Corruption("unexpected record type " + name);
    const std::vector<std::string>& expected = it->second;
    if (avro_schema_record_size(schema) != expected.size()) {
      throw Error::Corruption("schema " + name + " does not have the fields of schemas/record.h");
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      if (expected[i] != avro_schema_record_field_name(schema, static_cast<int>(i))) {
        throw Error::Corruption("schema " + name + " field " + std::to_string(i) + " is " +
                                avro_schema_record_field_name(schema, static_cast<int>(i)) +
                                ", schemas/record.h expects " + expected[i]);
      }
      CheckSchema(avro_schema_record_field_get_by_index(schema, static_cast<int>(i)));
    }
  }
}

}  // namespace

void CheckLayout(avro_schema_t schema) { CheckSchema(schema); }

}  // namespace carehub::avro
