// Canonical records for the schemas tests: for every kind one with every optional field set and
// one with every optional field unset, and a deterministic generator for larger files.
#pragma once

#include <string>
#include <vector>

#include "schemas/record.h"

namespace carehub::testing {

inline Date Day(const char* iso) { return *ParseIsoDate(iso); }

inline PersonRef SamplePerson(std::uint8_t seed) {
  PersonRef person;
  Hmac256 token{};
  token.fill(seed);
  person.tokens.push_back({IdScheme::kPrcResidentId, token});
  token.fill(static_cast<std::uint8_t>(seed + 1));
  person.tokens.push_back({IdScheme::kHkId, token});
  person.birth_year = 1948;
  person.sex = Sex::kFemale;
  person.residence_region = "310115";
  return person;
}

inline OrgRef SampleOrg(const char* name) {
  return {std::string("91350100M000100Y43"), std::string("RCHE-0042"), name, "310115"};
}

inline Provenance SampleProvenance(const char* profile, std::int64_t row) {
  return {"310000", profile, 3, "export.csv", row, "SRC-" + std::to_string(row), 1764000000000};
}

// Record `i` of `kind`; `full` sets every optional field, otherwise every optional is unset.
inline CanonicalRecord SampleRecord(RecordKind kind, int i, bool full) {
  const auto seed = static_cast<std::uint8_t>(i);
  const PivotLevel pivot{2 + i % 3, 3 + i % 3, std::string("may_be_P4"), i % 2 == 0};
  CanonicalRecord record;
  record.record_id = MakeRecordId("310000", kind, "SRC-" + std::to_string(i));
  record.version = 1 + i % 4;
  record.status = static_cast<RecordStatus>(i % 6);
  record.provenance = SampleProvenance("shanghai/assessment", i);
  switch (kind) {
    case RecordKind::kAssessment: {
      Assessment a;
      a.native = {"SH_CARE_NEEDS", std::to_string(i % 6), "照护三级"};
      a.assessed_on = Day("2024-02-29") + std::chrono::days(i % 300);
      if (full) {
        a.person = SamplePerson(seed);
        a.pivot = pivot;
        a.total_score = 40 + i % 60;
        a.valid_until = a.assessed_on + std::chrono::days(365);
        a.assessor = SampleOrg("评估中心");
      }
      record.body = a;
      break;
    }
    case RecordKind::kCaregiver: {
      CaregiverQualification c;
      c.native = {"NATIONAL_SKILL", std::to_string(1 + i % 5), "四级/中级工"};
      c.issued_on = Day("2021-06-30") + std::chrono::days(i % 500);
      if (full) {
        c.person = SamplePerson(seed);
        c.pivot = pivot;
        Hmac256 certificate{};
        certificate.fill(0xAB);
        certificate[0] = seed;
        c.certificate_token = certificate;
        c.valid_until = c.issued_on + std::chrono::days(1095);
        c.issuer = SampleOrg("人社局");
        c.employer = SampleOrg("Happy Home");
      }
      record.body = c;
      break;
    }
    case RecordKind::kFacility: {
      FacilityRating r;
      r.facility = {std::nullopt, std::nullopt, "浦东颐养院 " + std::to_string(i), "310115"};
      r.native = {"GBT37276", std::to_string(1 + i % 5), "四级"};
      r.comparable = i % 2 == 1;
      r.rated_on = Day("2023-11-11") + std::chrono::days(i % 90);
      if (full) {
        r.facility = SampleOrg("浦东颐养院");
        r.pivot = pivot;
        r.beds = 100 + i;
        r.valid_until = r.rated_on + std::chrono::days(1460);
      }
      record.body = r;
      break;
    }
    case RecordKind::kSanction: {
      SanctionNotice s;
      s.subject_kind = full ? SubjectKind::kPerson : SubjectKind::kOrganisation;
      s.sanction_type = static_cast<SanctionType>(i % 3);
      s.native = {"AH_CREDIT", "blacklist", "黑名单"};
      s.legal_basis = "沪府规〔2019〕26号 第十五条";
      s.decided_on = Day("2025-01-15") - std::chrono::days(i % 700);
      s.issuing_region = "340100";
      if (full) {
        s.subject_org = SampleOrg("某养老院");
        s.subject_person = SamplePerson(seed);
        s.ends_on = s.decided_on + std::chrono::days(1095);
      }
      record.body = s;
      break;
    }
  }
  return record;
}

// Every kind with every optional set, then with every optional unset (8 records).
inline std::vector<CanonicalRecord> SampleRecords() {
  std::vector<CanonicalRecord> records;
  int i = 0;
  for (RecordKind kind : kAllKinds) {
    records.push_back(SampleRecord(kind, ++i, true));
    records.push_back(SampleRecord(kind, ++i, false));
  }
  return records;
}

}  // namespace carehub::testing
