// The Avro binary encoding of canonical records written directly from the C++ structs, field by
// field in the order of schemas/*.avsc (the order record_values.cc addresses and CheckLayout
// pins): zig-zag varints for int, long and enum, a varint length and the bytes for string, the
// branch index then the value for a ["null", T] union, one block of items then 0 for an array,
// the raw bytes for fixed, one byte for boolean. Byte for byte what Avro C's avro_value_write
// produces for the same record (tests/schemas/binary_encode_test.cc compares the two), without
// building a generic value first.
#include <cstdint>
#include <string>
#include <variant>

#include "schemas/codec_internal.h"

namespace carehub::avro {
namespace {

void Long(std::string& out, std::int64_t value) {
  auto n = (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  char bytes[10];
  int i = 0;
  while (n >= 0x80) {
    bytes[i++] = static_cast<char>((n & 0x7F) | 0x80);
    n >>= 7;
  }
  bytes[i++] = static_cast<char>(n);
  out.append(bytes, static_cast<std::size_t>(i));
}

void String(std::string& out, const std::string& text) {
  Long(out, static_cast<std::int64_t>(text.size()));
  out.append(text);
}

void Date(std::string& out, carehub::Date date) {
  Long(out, static_cast<std::int32_t>(date.time_since_epoch().count()));
}

// The branch index of a ["null", T] union; true when T follows.
bool Present(std::string& out, bool present) {
  out.push_back(present ? '\x02' : '\x00');  // zig-zag of 1 and 0
  return present;
}

void OptionalInt(std::string& out, const std::optional<int>& number) {
  if (Present(out, number.has_value())) Long(out, *number);
}

void OptionalString(std::string& out, const std::optional<std::string>& text) {
  if (Present(out, text.has_value())) String(out, *text);
}

void OptionalDate(std::string& out, const std::optional<carehub::Date>& date) {
  if (Present(out, date.has_value())) Date(out, *date);
}

void Fixed(std::string& out, const Hmac256& bytes) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void Person(std::string& out, const PersonRef& person) {
  if (!person.tokens.empty()) {
    Long(out, static_cast<std::int64_t>(person.tokens.size()));
    for (const PersonToken& token : person.tokens) {
      Long(out, static_cast<int>(token.scheme));
      Fixed(out, token.token);
    }
  }
  Long(out, 0);  // end of the array
  OptionalInt(out, person.birth_year);
  Long(out, static_cast<int>(person.sex));
  OptionalString(out, person.residence_region);
}

void Org(std::string& out, const OrgRef& org) {
  OptionalString(out, org.uscc);
  OptionalString(out, org.local_id);
  String(out, org.name);
  String(out, org.region);
}

void OptionalOrg(std::string& out, const std::optional<OrgRef>& org) {
  if (Present(out, org.has_value())) Org(out, *org);
}

void Native(std::string& out, const NativeLevel& native) {
  String(out, native.scale);
  String(out, native.code);
  String(out, native.label);
}

void OptionalPivot(std::string& out, const std::optional<PivotLevel>& pivot) {
  if (!Present(out, pivot.has_value())) return;
  Long(out, pivot->level);
  OptionalInt(out, pivot->range_upper);
  OptionalString(out, pivot->flag);
  out.push_back(pivot->documented ? '\x01' : '\x00');
}

void Body(std::string& out, const RecordBody& body) {
  if (const auto* a = std::get_if<Assessment>(&body)) {
    Person(out, a->person), Native(out, a->native), OptionalPivot(out, a->pivot);
    OptionalInt(out, a->total_score), Date(out, a->assessed_on);
    OptionalDate(out, a->valid_until), OptionalOrg(out, a->assessor);
    return;
  }
  if (const auto* c = std::get_if<CaregiverQualification>(&body)) {
    Person(out, c->person), Native(out, c->native), OptionalPivot(out, c->pivot);
    if (Present(out, c->certificate_token.has_value())) Fixed(out, *c->certificate_token);
    Date(out, c->issued_on), OptionalDate(out, c->valid_until);
    OptionalOrg(out, c->issuer), OptionalOrg(out, c->employer);
    return;
  }
  if (const auto* r = std::get_if<FacilityRating>(&body)) {
    Org(out, r->facility), Native(out, r->native), OptionalPivot(out, r->pivot);
    out.push_back(r->comparable ? '\x01' : '\x00');
    OptionalInt(out, r->beds), Date(out, r->rated_on), OptionalDate(out, r->valid_until);
    return;
  }
  const auto& s = std::get<SanctionNotice>(body);
  Long(out, static_cast<int>(s.subject_kind)), OptionalOrg(out, s.subject_org);
  if (Present(out, s.subject_person.has_value())) Person(out, *s.subject_person);
  Long(out, static_cast<int>(s.sanction_type)), Native(out, s.native);
  String(out, s.legal_basis), Date(out, s.decided_on), OptionalDate(out, s.ends_on);
  String(out, s.issuing_region);
}

// The provenance; `bare` writes source_file "", source_row 0 and ingested_at 0 (content bytes).
void Provenance(std::string& out, const carehub::Provenance& p, bool bare) {
  String(out, p.origin_region);
  String(out, p.profile);
  Long(out, p.profile_version);
  if (bare) {
    out.append(2, '\x00');  // "" and 0
  } else {
    String(out, p.source_file);
    Long(out, p.source_row);
  }
  String(out, p.source_record_id);
  Long(out, bare ? 0 : p.ingested_at_ms);
}

}  // namespace

void AppendBinary(const CanonicalRecord& record, std::string& out) {
  String(out, record.record_id);
  Long(out, record.version);
  Long(out, static_cast<int>(record.status));
  Body(out, record.body);
  Provenance(out, record.provenance, false);
}

void AppendBinaryAndContent(const CanonicalRecord& record, std::string& out, std::string& content) {
  content.clear();
  String(content, record.record_id);
  out.append(content);
  Long(out, record.version);
  content.push_back('\x00');  // version 0
  const std::size_t middle = out.size();
  Long(out, static_cast<int>(record.status));
  Body(out, record.body);
  content.append(out, middle, out.size() - middle);
  Provenance(out, record.provenance, false);
  Provenance(content, record.provenance, true);
}

}  // namespace carehub::avro
