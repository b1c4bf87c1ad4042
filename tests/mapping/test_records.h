// Builders of canonical records for the mapping tests: only the fields the engine reads.
// Header-only; every call returns a fresh value.
#pragma once

#include <string>

#include "mapping/region.h"
#include "schemas/record.h"

namespace carehub::mapping::testing {

inline Date D(const std::string& iso) { return *ParseIsoDate(iso); }

inline Hmac256 Token(int seed) {
  Hmac256 token{};
  for (std::size_t i = 0; i < token.size(); ++i)
    token[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return token;
}

inline PersonRef Person(int seed) {
  PersonRef person;
  person.tokens.push_back({IdScheme::kPrcResidentId, Token(seed)});
  return person;
}

inline CanonicalRecord Base(const std::string& origin, const std::string& id) {
  CanonicalRecord record;
  record.record_id = id;
  record.provenance.origin_region = origin;
  return record;
}

inline CanonicalRecord MakeAssessment(const std::string& origin, const std::string& scale,
                                      const std::string& code, const std::string& assessed_on,
                                      int person = 1) {
  CanonicalRecord record = Base(origin, "a-" + origin + "-" + scale + "-" + code);
  Assessment body;
  body.person = Person(person);
  body.native = {scale, code, code};
  body.assessed_on = D(assessed_on);
  record.body = body;
  return record;
}

inline CanonicalRecord MakeCaregiver(const std::string& origin, const std::string& scale,
                                     const std::string& code, const std::string& issued_on,
                                     int person = 2) {
  CanonicalRecord record = Base(origin, "c-" + origin + "-" + code);
  CaregiverQualification body;
  body.person = Person(person);
  body.native = {scale, code, code};
  body.issued_on = D(issued_on);
  record.body = body;
  return record;
}

inline OrgRef Org(const std::string& uscc, const std::string& region) {
  OrgRef org;
  org.uscc = uscc;
  org.name = "facility";
  org.region = region;
  return org;
}

inline CanonicalRecord MakeFacility(const std::string& origin, const std::string& scale,
                                    const std::string& code, const std::string& rated_on,
                                    const std::string& uscc) {
  CanonicalRecord record = Base(origin, "f-" + origin + "-" + uscc);
  FacilityRating body;
  body.facility = Org(uscc, origin);
  body.native = {scale, code, code};
  body.rated_on = D(rated_on);
  record.body = body;
  return record;
}

inline CanonicalRecord MakePersonSanction(const std::string& origin, const std::string& id,
                                          int person, const std::string& decided_on,
                                          std::optional<std::string> ends_on,
                                          RecordStatus status = RecordStatus::kActive) {
  CanonicalRecord record = Base(origin, id);
  record.status = status;
  SanctionNotice body;
  body.subject_kind = SubjectKind::kPerson;
  body.subject_person = Person(person);
  body.sanction_type = SanctionType::kBlacklist;
  body.native = {"SANCTION_TYPE", "blacklist", "黑名单"};
  body.legal_basis = "test basis art. 1";
  body.decided_on = D(decided_on);
  if (ends_on) body.ends_on = D(*ends_on);
  body.issuing_region = origin;
  record.body = body;
  return record;
}

inline CanonicalRecord MakeOrgSanction(const std::string& origin, const std::string& id,
                                       const std::string& uscc, const std::string& decided_on,
                                       std::optional<std::string> ends_on,
                                       RecordStatus status = RecordStatus::kActive) {
  CanonicalRecord record = Base(origin, id);
  record.status = status;
  SanctionNotice body;
  body.subject_kind = SubjectKind::kOrganisation;
  body.subject_org = Org(uscc, origin);
  body.sanction_type = SanctionType::kPenalty;
  body.native = {"SANCTION_TYPE", "penalty", "行政处罚"};
  body.legal_basis = "test basis art. 2";
  body.decided_on = D(decided_on);
  if (ends_on) body.ends_on = D(*ends_on);
  body.issuing_region = origin;
  record.body = body;
  return record;
}

inline RegionCode R(const std::string& text) { return *ParseRegion(text); }

}  // namespace carehub::mapping::testing
