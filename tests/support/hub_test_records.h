// Canonical records and rejections built directly in tests of the store (no connector needed).
#pragma once

#include <string>

#include "connectors/connector.h"
#include "schemas/record.h"

namespace carehub::testing {

inline Hmac256 TestToken(int person) {
  Hmac256 token{};
  for (std::size_t i = 0; i < token.size(); ++i) {
    token[i] = static_cast<std::uint8_t>((person * 131 + static_cast<int>(i) * 7) & 0xFF);
  }
  token[0] = static_cast<std::uint8_t>(person & 0xFF);
  token[1] = static_cast<std::uint8_t>((person >> 8) & 0xFF);
  token[2] = static_cast<std::uint8_t>((person >> 16) & 0xFF);
  return token;
}

// Assessment number `i` of origin `region`, ingested from `file` at row `row`.
inline CanonicalRecord TestAssessment(int i, const std::string& region = "310000",
                                      const std::string& file = "a.csv", std::int64_t row = 0,
                                      std::int64_t ingested_at_ms = 1'700'000'000'000) {
  CanonicalRecord r;
  const std::string source_id = "SH-A-" + std::to_string(i);
  r.record_id = MakeRecordId(region, RecordKind::kAssessment, source_id);
  Assessment a;
  a.person.tokens.push_back({IdScheme::kPrcResidentId, TestToken(i)});
  a.person.birth_year = 1930 + i % 30;
  a.person.sex = i % 2 ? Sex::kFemale : Sex::kMale;
  a.person.residence_region = "310115";
  a.native = {"SH_CARE_NEEDS", std::to_string(1 + i % 6),
              "照护" + std::to_string(1 + i % 6) + "级"};
  a.pivot = PivotLevel{i % 5, std::nullopt, std::nullopt, true};
  a.total_score = 40 + i % 50;
  a.assessed_on = Date{std::chrono::days{19000 + i % 700}};
  a.valid_until = Date{std::chrono::days{19730 + i % 700}};
  a.assessor = OrgRef{"91310115MA1H7GXX0X", std::nullopt, "浦东评估所", "310115"};
  r.body = a;
  r.provenance = {region, "shanghai/assessment", 1, file, row ? row : i, source_id, ingested_at_ms};
  return r;
}

inline CanonicalRecord TestFacility(int i, const std::string& uscc,
                                    const std::string& region = "310000") {
  CanonicalRecord r;
  const std::string source_id = "SH-F-" + std::to_string(i);
  r.record_id = MakeRecordId(region, RecordKind::kFacility, source_id);
  FacilityRating f;
  f.facility = OrgRef{uscc, std::nullopt, "养老院" + std::to_string(i), "310115"};
  f.native = {"SH_FACILITY_STARS", std::to_string(1 + i % 5), "星级"};
  f.comparable = true;
  f.beds = 100 + i;
  f.rated_on = Date{std::chrono::days{19500}};
  r.body = f;
  r.provenance = {region, "shanghai/facility", 1, "f.csv", i, source_id, 1'700'000'000'000};
  return r;
}

inline Rejection TestRejection(std::int64_t row, const std::string& file = "a.csv") {
  return {file, row, "身份证号", "bad_check_digit: 身份证号 check character is wrong",
          "张三,310115193001011234,...", ""};
}

}  // namespace carehub::testing
