#include "hub/http/json.h"

#include <Poco/JSON/Array.h>
#include <sodium.h>

#include "mapping/engine.h"

namespace carehub::http {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

template <typename T>
Var Opt(const std::optional<T>& value) {
  return value ? Var(*value) : Var();
}

Var OptDate(const std::optional<Date>& date) { return date ? Var(FormatIsoDate(*date)) : Var(); }

std::string_view SanctionTypeName(SanctionType type) {
  switch (type) {
    case SanctionType::kPenalty:
      return "PENALTY";
    case SanctionType::kBlacklist:
      return "BLACKLIST";
    case SanctionType::kDishonesty:
      return "DISHONESTY";
  }
  return "PENALTY";
}

Object::Ptr PersonJson(const PersonRef& person) {
  Object::Ptr json = NewObject();
  Array::Ptr tokens = new Array;
  for (const PersonToken& t : person.tokens) {
    Object::Ptr token = NewObject();
    token->set("scheme", std::string(IdSchemeName(t.scheme)));
    token->set("token", HexOf(t.token));
    tokens->add(token);
  }
  json->set("tokens", tokens);
  json->set("birth_year", Opt(person.birth_year));
  json->set("sex", std::string(SexSymbol(person.sex)));
  json->set("residence_region", Opt(person.residence_region));
  return json;
}

Var OrgJson(const std::optional<OrgRef>& org) {
  if (!org) return Var();
  Object::Ptr json = NewObject();
  json->set("uscc", Opt(org->uscc));
  json->set("local_id", Opt(org->local_id));
  json->set("name", org->name);
  json->set("region", org->region);
  return json;
}

Object::Ptr NativeJson(const NativeLevel& native) {
  Object::Ptr json = NewObject();
  json->set("scale", native.scale);
  json->set("code", native.code);
  json->set("label", native.label);
  return json;
}

Var PivotJson(const std::optional<PivotLevel>& pivot) {
  if (!pivot) return Var();
  Object::Ptr json = NewObject();
  json->set("level", pivot->level);
  json->set("range_upper", Opt(pivot->range_upper));
  json->set("flag", Opt(pivot->flag));
  json->set("documented", pivot->documented);
  return json;
}

Object::Ptr BodyJson(const CanonicalRecord& record) {
  Object::Ptr json = NewObject();
  std::visit(
      [&json](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          json->set("person", PersonJson(body.person));
          json->set("native", NativeJson(body.native));
          json->set("pivot", PivotJson(body.pivot));
          json->set("total_score", Opt(body.total_score));
          json->set("assessed_on", FormatIsoDate(body.assessed_on));
          json->set("valid_until", OptDate(body.valid_until));
          json->set("assessor", OrgJson(body.assessor));
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          json->set("person", PersonJson(body.person));
          json->set("native", NativeJson(body.native));
          json->set("pivot", PivotJson(body.pivot));
          json->set("certificate_token",
                    body.certificate_token ? Var(HexOf(*body.certificate_token)) : Var());
          json->set("issued_on", FormatIsoDate(body.issued_on));
          json->set("valid_until", OptDate(body.valid_until));
          json->set("issuer", OrgJson(body.issuer));
          json->set("employer", OrgJson(body.employer));
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          json->set("facility", OrgJson(body.facility));
          json->set("native", NativeJson(body.native));
          json->set("pivot", PivotJson(body.pivot));
          json->set("comparable", body.comparable);
          json->set("beds", Opt(body.beds));
          json->set("rated_on", FormatIsoDate(body.rated_on));
          json->set("valid_until", OptDate(body.valid_until));
        } else {
          json->set(
              "subject_kind",
              std::string(body.subject_kind == SubjectKind::kPerson ? "PERSON" : "ORGANISATION"));
          json->set("subject_org", OrgJson(body.subject_org));
          json->set("subject_person",
                    body.subject_person ? Var(PersonJson(*body.subject_person)) : Var());
          json->set("sanction_type", std::string(SanctionTypeName(body.sanction_type)));
          json->set("native", NativeJson(body.native));
          json->set("legal_basis", body.legal_basis);
          json->set("decided_on", FormatIsoDate(body.decided_on));
          json->set("ends_on", OptDate(body.ends_on));
          json->set("issuing_region", body.issuing_region);
        }
      },
      record.body);
  return json;
}

}  // namespace

std::string HexOf(const Hmac256& bytes) {
  char hex[2 * 32 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes.data(), bytes.size());
  return std::string(hex, 64);
}

Object::Ptr RecordJson(const StoredRecord& stored, const CanonicalRecord& record) {
  Object::Ptr json = NewObject();
  json->set("record_id", stored.record_id);
  json->set("kind", std::string(KindName(stored.kind)));
  json->set("origin", stored.origin);
  json->set("version", stored.version);
  json->set("status", std::string(StatusName(stored.status)));
  json->set("seq", stored.seq);
  json->set("body", BodyJson(record));
  Object::Ptr provenance = NewObject();
  provenance->set("origin_region", record.provenance.origin_region);
  provenance->set("profile", record.provenance.profile);
  provenance->set("profile_version", record.provenance.profile_version);
  provenance->set("source_record_id", record.provenance.source_record_id);
  provenance->set("ingested_at_ms", record.provenance.ingested_at_ms);
  json->set("provenance", provenance);
  return json;
}

}  // namespace carehub::http
