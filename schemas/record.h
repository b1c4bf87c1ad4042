// The canonical records of carehub in C++: one struct per Avro schema in schemas/*.avsc
// (namespace carehub.v1), field for field. Plain values, freely copied; no personal data in
// clear: people are known only by keyed tokens (PersonToken). Encoding lives in
// schemas/codec.h; this header only defines the shapes and a few pure helpers.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace carehub {

enum class RecordKind { kAssessment, kCaregiver, kFacility, kSanction };
inline constexpr RecordKind kAllKinds[] = {RecordKind::kAssessment, RecordKind::kCaregiver,
                                           RecordKind::kFacility, RecordKind::kSanction};
// "assessment", "caregiver", "facility", "sanction": the names used by the CLI and profiles.
std::string_view KindName(RecordKind kind);
std::optional<RecordKind> ParseKind(std::string_view name);

enum class RecordStatus { kActive, kExpired, kRevoked, kWithdrawn, kRepaired, kRetracted };
std::string_view StatusName(RecordStatus status);  // the Avro symbol, e.g. "ACTIVE"
std::optional<RecordStatus> ParseStatus(std::string_view symbol);

enum class IdScheme { kPrcResidentId, kHkId, kMoId };
std::string_view IdSchemeName(IdScheme scheme);  // "PRC_RESIDENT_ID", "HK_ID", "MO_ID"

enum class Sex { kUnknown, kMale, kFemale };
std::string_view SexSymbol(Sex sex);  // the Avro symbol: "MALE", "FEMALE", "UNKNOWN"
enum class SubjectKind { kOrganisation, kPerson };
enum class SanctionType { kPenalty, kBlacklist, kDishonesty };

using Date = std::chrono::sys_days;  // Avro logical type "date": days since 1970-01-01
using Hmac256 = std::array<std::uint8_t, 32>;

struct PersonToken {
  IdScheme scheme = IdScheme::kPrcResidentId;
  Hmac256 token{};
  bool operator==(const PersonToken&) const = default;
};

struct PersonRef {
  std::vector<PersonToken> tokens;
  std::optional<int> birth_year;
  Sex sex = Sex::kUnknown;
  std::optional<std::string> residence_region;
  bool operator==(const PersonRef&) const = default;
};

struct OrgRef {
  std::optional<std::string> uscc;
  std::optional<std::string> local_id;
  std::string name;
  std::string region;
  bool operator==(const OrgRef&) const = default;
};

struct NativeLevel {
  std::string scale;
  std::string code;
  std::string label;
  bool operator==(const NativeLevel&) const = default;
};

struct PivotLevel {
  int level = 0;
  std::optional<int> range_upper;
  std::optional<std::string> flag;
  bool documented = false;
  bool operator==(const PivotLevel&) const = default;
};

struct Provenance {
  std::string origin_region;
  std::string profile;
  int profile_version = 1;
  std::string source_file;
  std::int64_t source_row = 0;
  std::string source_record_id;
  std::int64_t ingested_at_ms = 0;  // timestamp-millis
  bool operator==(const Provenance&) const = default;
};

struct Assessment {
  PersonRef person;
  NativeLevel native;
  std::optional<PivotLevel> pivot;
  std::optional<int> total_score;
  Date assessed_on{};
  std::optional<Date> valid_until;
  std::optional<OrgRef> assessor;
  bool operator==(const Assessment&) const = default;
};

struct CaregiverQualification {
  PersonRef person;
  NativeLevel native;
  std::optional<PivotLevel> pivot;
  std::optional<Hmac256> certificate_token;
  Date issued_on{};
  std::optional<Date> valid_until;
  std::optional<OrgRef> issuer;
  std::optional<OrgRef> employer;
  bool operator==(const CaregiverQualification&) const = default;
};

struct FacilityRating {
  OrgRef facility;
  NativeLevel native;
  std::optional<PivotLevel> pivot;
  bool comparable = false;
  std::optional<int> beds;
  Date rated_on{};
  std::optional<Date> valid_until;
  bool operator==(const FacilityRating&) const = default;
};

struct SanctionNotice {
  SubjectKind subject_kind = SubjectKind::kOrganisation;
  std::optional<OrgRef> subject_org;
  std::optional<PersonRef> subject_person;
  SanctionType sanction_type = SanctionType::kPenalty;
  NativeLevel native;
  std::string legal_basis;
  Date decided_on{};
  std::optional<Date> ends_on;
  std::string issuing_region;
  bool operator==(const SanctionNotice&) const = default;
};

using RecordBody = std::variant<Assessment, CaregiverQualification, FacilityRating, SanctionNotice>;

struct CanonicalRecord {
  std::string record_id;
  int version = 1;
  RecordStatus status = RecordStatus::kActive;
  RecordBody body;
  Provenance provenance;

  RecordKind kind() const { return static_cast<RecordKind>(body.index()); }
  bool operator==(const CanonicalRecord&) const = default;
};

// Stable id of a record: lowercase hex of the first 16 bytes of
// SHA-256(origin_region + "|" + kind name + "|" + source_record_id).
std::string MakeRecordId(std::string_view origin_region, RecordKind kind,
                         std::string_view source_record_id);

// ISO 8601 "YYYY-MM-DD" <-> Date; ParseIsoDate returns nullopt for impossible calendar dates.
std::string FormatIsoDate(Date date);
std::optional<Date> ParseIsoDate(std::string_view text);

}  // namespace carehub
