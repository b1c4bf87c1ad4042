#include "hub/publish/record_facts.h"

#include <cstring>
#include <functional>

namespace carehub {
namespace {

// The fields read, in this order (paths of schemas/*.avsc; unions and arrays are transparent).
enum Path : std::size_t {
  kRecordId,
  kStatus,
  kPersonTokens,
  kBirthYear,
  kSex,
  kResidence,
  kAssessorRegion,
  kAssessedOn,
  kNativeScale,
  kNativeCode,
  kPivotLevel,
  kEmployerRegion,
  kIssuedOn,
  kValidUntil,
  kFacilityUscc,
  kFacilityLocalId,
  kFacilityRegion,
  kComparable,
  kRatedOn,
  kIssuingRegion,
  kSubjectTokens,
  kSubjectSex,  // present exactly when the notice has a subject person (sex is not optional)
  kSubjectResidence,
  kSubjectOrgUscc,
  kSubjectOrgLocalId,
  kSubjectOrgRegion,
  kSanctionType,
  kDecidedOn,
};

std::vector<std::string> Paths() {
  return {"record_id",
          "status",
          "person.tokens.token",
          "person.birth_year",
          "person.sex",
          "person.residence_region",
          "assessor.region",
          "assessed_on",
          "native.scale",
          "native.code",
          "pivot.level",
          "employer.region",
          "issued_on",
          "valid_until",
          "facility.uscc",
          "facility.local_id",
          "facility.region",
          "comparable",
          "rated_on",
          "issuing_region",
          "subject_person.tokens.token",
          "subject_person.sex",
          "subject_person.residence_region",
          "subject_org.uscc",
          "subject_org.local_id",
          "subject_org.region",
          "sanction_type",
          "decided_on"};
}

std::string_view FirstRegion(std::string_view region, std::string_view fallback) {
  return region.size() == 6 ? region : fallback;
}

std::string_view SexLetter(std::string_view symbol) {
  if (symbol == "MALE") return "M";
  if (symbol == "FEMALE") return "F";
  return "U";
}

}  // namespace

RecordFactsReader::RecordFactsReader() : reader_(Paths()) {}

std::string_view RecordFactsReader::Text(std::size_t path) const {
  const ProjectedValue* value = reader_.First(path);
  return value ? value->text : std::string_view();
}

std::optional<std::int64_t> RecordFactsReader::Number(std::size_t path) const {
  const ProjectedValue* value = reader_.First(path);
  return value ? std::optional<std::int64_t>(value->number) : std::nullopt;
}

std::uint64_t RecordFactsReader::PersonUnit(std::size_t tokens_path) {
  const auto tokens = reader_.Values(tokens_path);
  if (tokens.empty()) {
    scratch_.assign("record:").append(Text(kRecordId));
    return std::hash<std::string>{}(scratch_);
  }
  std::string_view smallest = tokens[0].text;
  for (const ProjectedValue& token : tokens) {
    if (token.text < smallest) smallest = token.text;
  }
  std::uint64_t unit = 0;
  for (std::size_t i = 0; i < 8 && i < smallest.size(); ++i) {
    unit = (unit << 8) | static_cast<std::uint8_t>(smallest[i]);
  }
  return unit;
}

std::uint64_t RecordFactsReader::OrgUnit(std::size_t uscc_path, std::size_t local_path,
                                         std::size_t region_path) {
  if (reader_.First(uscc_path)) {
    scratch_.assign("uscc:").append(Text(uscc_path));
  } else if (reader_.First(local_path)) {
    scratch_.assign("local:").append(Text(region_path)).append(Text(local_path));
  } else {
    scratch_.assign("record:").append(Text(kRecordId));
  }
  return std::hash<std::string>{}(scratch_);
}

void RecordFactsReader::ReadAssessment(std::string_view origin) {
  facts_.unit = PersonUnit(kPersonTokens);
  const ProjectedValue* assessor = reader_.First(kAssessorRegion);
  facts_.region = FirstRegion(Text(kResidence), assessor ? assessor->text : origin);
  facts_.day = static_cast<std::int32_t>(Number(kAssessedOn).value_or(0));
  const auto birth_year = Number(kBirthYear);
  facts_.birth_year = birth_year ? std::optional<int>(static_cast<int>(*birth_year)) : std::nullopt;
  facts_.sex = SexLetter(Text(kSex));
  facts_.native_scale = Text(kNativeScale);
  facts_.native_code = Text(kNativeCode);
}

void RecordFactsReader::ReadCaregiver(std::string_view origin) {
  facts_.unit = PersonUnit(kPersonTokens);
  const ProjectedValue* employer = reader_.First(kEmployerRegion);
  facts_.region = employer ? employer->text : FirstRegion(Text(kResidence), origin);
  facts_.day = static_cast<std::int32_t>(Number(kIssuedOn).value_or(0));
  const auto until = Number(kValidUntil);
  facts_.valid_until =
      until ? std::optional<std::int32_t>(static_cast<std::int32_t>(*until)) : std::nullopt;
}

void RecordFactsReader::ReadFacility() {
  facts_.unit = OrgUnit(kFacilityUscc, kFacilityLocalId, kFacilityRegion);
  facts_.region = Text(kFacilityRegion);
  facts_.day = static_cast<std::int32_t>(Number(kRatedOn).value_or(0));
  facts_.comparable = Number(kComparable).value_or(0) != 0;
}

void RecordFactsReader::ReadSanction(std::string_view origin) {
  const std::string_view issuer = Text(kIssuingRegion).empty() ? origin : Text(kIssuingRegion);
  facts_.subject_is_person = reader_.First(kSubjectSex) != nullptr;
  if (facts_.subject_is_person) {
    facts_.unit = PersonUnit(kSubjectTokens);
    facts_.region = FirstRegion(Text(kSubjectResidence), issuer);
  } else {
    facts_.unit = OrgUnit(kSubjectOrgUscc, kSubjectOrgLocalId, kSubjectOrgRegion);
    facts_.region = FirstRegion(Text(kSubjectOrgRegion), issuer);
  }
  facts_.sanction_type = Text(kSanctionType);
  facts_.day = static_cast<std::int32_t>(Number(kDecidedOn).value_or(0));
}

const RecordFacts& RecordFactsReader::Read(std::string_view single_object,
                                           std::string_view origin) {
  reader_.Read(single_object);
  facts_ = RecordFacts{};
  facts_.kind = reader_.kind();
  facts_.status = Text(kStatus);
  const auto pivot = Number(kPivotLevel);
  facts_.pivot_level = pivot ? std::optional<int>(static_cast<int>(*pivot)) : std::nullopt;
  switch (facts_.kind) {
    case RecordKind::kAssessment:
      ReadAssessment(origin);
      break;
    case RecordKind::kCaregiver:
      ReadCaregiver(origin);
      break;
    case RecordKind::kFacility:
      ReadFacility();
      break;
    case RecordKind::kSanction:
      ReadSanction(origin);
      break;
  }
  return facts_;
}

}  // namespace carehub
