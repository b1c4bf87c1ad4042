// RowPlan: fills one row of a profile with valid values, then injects at most one defect whose
// reason code is exactly the first check the connector engine fails (/work/notes order, see
// docs/connectors.md "Validation").
#include <algorithm>

#include "connectors/generator_internal.h"
#include "connectors/identifiers.h"

namespace carehub {
namespace {

using CF = CanonicalField;

constexpr std::int64_t kCaregiverBlock = 10'000'000;
constexpr std::int64_t kAssessorBlock = 1'000'000;
constexpr std::int64_t kIssuerBlock = 2'000'000;
constexpr double kOverlap = 0.08;
constexpr const char* kHomes[] = {"310000", "320000", "330000", "340000",
                                  "440000", "810000", "820000"};
constexpr std::string_view kUsccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
// Legal bases as the exporting region cites them (mainland in simplified Chinese, which Big5
// cannot encode, so Hong Kong and Macau get their own).
constexpr const char* kMainlandLegalBases[] = {
    "《养老机构管理办法》第四十六条", "《中华人民共和国老年人权益保障法》第七十八条",
    "《养老机构服务安全基本规范》GB 38600-2019", "《民办非企业单位登记管理暂行条例》第二十五条",
    "国办发〔2019〕5号 (一)"};
constexpr const char* kHongKongLegalBases[] = {
    "Residential Care Homes (Elderly Persons) Ordinance (Cap. 459) s. 18",
    "Residential Care Homes (Elderly Persons) Ordinance (Cap. 459) s. 20",
    "Residential Care Homes (Elderly Persons) Regulation (Cap. 459A) reg. 12"};
constexpr const char* kMacauLegalBases[] = {"第12/2018號法律 第二十一條",
                                            "第90/88/M號法令 第十四條"};

const char* LegalBasis(const std::string& region, Rng& rng) {
  if (region == "810000") return kHongKongLegalBases[rng.Below(std::size(kHongKongLegalBases))];
  if (region == "820000") return kMacauLegalBases[rng.Below(std::size(kMacauLegalBases))];
  return kMainlandLegalBases[rng.Below(std::size(kMainlandLegalBases))];
}

// GB 11714 organisation code (8 characters + check), the body of a USCC: older ones all digits,
// newer ones "MA" + letters and digits. The hub checks only the USCC check character.
std::string OrganisationCode(Rng& rng) {
  std::string code = rng.Below(2) == 0 ? "MA" : "";
  while (code.size() < 8) {
    code.push_back(code.empty() || code[0] != 'M' ? static_cast<char>('0' + rng.Below(10))
                                                  : kUsccCharset[rng.Below(kUsccCharset.size())]);
  }
  constexpr int kWeights[] = {3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = code[i];
    sum += kWeights[i] * (c <= '9' ? c - '0' : c - 'A' + 10);
  }
  const int check = 11 - sum % 11;
  code.push_back(check == 10 ? 'X' : check == 11 ? '0' : static_cast<char>('0' + check));
  return code;
}

// GB 32100: registration authority and type (52 = social service organisation registered with
// civil affairs, as most care homes are; 91 = company), region, organisation code, check.
std::string Uscc(const std::string& region_code, Rng& rng) {
  std::string code = (rng.Below(10) < 7 ? "52" : "91") + region_code + OrganisationCode(rng);
  code.push_back(UsccCheckCharacter(code));
  return code;
}

// The district codes organisations of `home` are drawn from: that region's profile hint, so
// that an organisation is the same (same USCC) in every file that names it.
const std::vector<std::string>& OrgRegionCodes(const Profile& profile, const std::string& home) {
  if (home == profile.region && !profile.region_codes.empty()) return profile.region_codes;
  for (const Profile& other : BuiltinProfiles()) {
    if (other.region == home && !other.region_codes.empty()) return other.region_codes;
  }
  static const std::vector<std::string> kNone;
  return kNone;
}

bool IsMainland(const std::string& home) { return home[0] != '8'; }

}  // namespace

void RowPlan::Set(GeneratedRow& row, CF field, std::string value) const {
  for (std::size_t i = 0; i < profile_.fields.size(); ++i) {
    if (profile_.fields[i].field == field) row.values[i] = value;
  }
}

std::string RowPlan::Get(const GeneratedRow& row, CF field) const {
  for (std::size_t i = 0; i < profile_.fields.size(); ++i) {
    if (profile_.fields[i].field == field) return row.values[i];
  }
  return "";
}

std::string RowPlan::FormatDate(CF field, int year, unsigned month, unsigned day) const {
  const FieldSpec* spec = profile_.FindField(field);
  const std::string& pattern =
      spec != nullptr && !spec->date_format.empty() ? spec->date_format : profile_.date_format;
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    if (pattern.compare(i, 4, "YYYY") == 0) {
      out += Pad(year, 4), i += 4;
    } else if (pattern.compare(i, 2, "MM") == 0) {
      out += Pad(month, 2), i += 2;
    } else if (pattern.compare(i, 2, "DD") == 0) {
      out += Pad(day, 2), i += 2;
    } else if (pattern[i] == 'M') {
      out += std::to_string(month), ++i;
    } else if (pattern[i] == 'D') {
      out += std::to_string(day), ++i;
    } else {
      out.push_back(pattern[i++]);
    }
  }
  return out;
}

std::string RowPlan::FormatDate(CF field, Date date) const {
  std::chrono::year_month_day ymd{date};
  return FormatDate(field, static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                    static_cast<unsigned>(ymd.day()));
}

SyntheticPerson RowPlan::PickPerson(std::int64_t block_offset, bool any_home) {
  std::vector<std::string> compatible;
  for (const char* home : kHomes) {
    const bool fits = profile_.id_scheme == IdScheme::kPrcResidentId ||
                      (profile_.id_scheme == IdScheme::kHkId && std::string(home) == "810000") ||
                      (profile_.id_scheme == IdScheme::kMoId && std::string(home) == "820000");
    if (fits) compatible.emplace_back(home);
  }
  const std::uint64_t rows = static_cast<std::uint64_t>(std::max<std::int64_t>(options_.rows, 1));
  const std::string own =
      std::find(compatible.begin(), compatible.end(), profile_.region) != compatible.end()
          ? profile_.region
          : compatible.front();
  // A PRC-id profile can only carry Hong Kong and Macau residents who hold a permit.
  auto usable = [this](const SyntheticPerson& person) {
    return profile_.id_scheme != IdScheme::kPrcResidentId || !person.prc_id.empty();
  };
  if (any_home) {
    SyntheticPerson person =
        MakeSyntheticPerson(options_.seed, compatible[rng_.Below(compatible.size())],
                            block_offset + static_cast<std::int64_t>(rng_.Below(rows)));
    if (usable(person)) return person;
  } else if (compatible.size() > 1 && rng_.Uniform() < kOverlap) {
    std::string other = own;
    while (other == own) other = compatible[rng_.Below(compatible.size())];
    SyntheticPerson person = MakeSyntheticPerson(
        options_.seed, other, block_offset + static_cast<std::int64_t>(rng_.Below(rows)));
    if (usable(person)) return person;
  }
  return MakeSyntheticPerson(options_.seed, own, block_offset + index_);
}

// An organisation is a function of (seed, its region, its number): the facility a Shanghai
// sanction names is the one the Shanghai facility file rates.
void RowPlan::FillOrg(GeneratedRow& row, bool employer, const std::string& home,
                      std::int64_t number) {
  Rng org(Mix(Mix(options_.seed ^ 0x0A6ull, Hash(home)), static_cast<std::uint64_t>(number)));
  const std::vector<std::string>& codes = OrgRegionCodes(profile_, home);
  std::string region_code = home;
  if (!codes.empty()) region_code = codes[org.Below(codes.size())];
  const std::string name = SyntheticOrgName(home, profile_.kind, number, org);
  std::string local_id;
  if (!profile_.local_id_pattern.empty()) {
    local_id = profile_.local_id_pattern;
    auto pos = local_id.find("{n}");
    if (pos != std::string::npos) local_id.replace(pos, 3, Pad(number % 100000 + 1, 5));
  }
  const std::string uscc = IsMainland(home) ? Uscc(region_code, org) : "";
  Set(row, employer ? CF::kEmployerUscc : CF::kOrgUscc, uscc);
  Set(row, employer ? CF::kEmployerLocalId : CF::kOrgLocalId, local_id);
  Set(row, employer ? CF::kEmployerName : CF::kOrgName, name);
  Set(row, employer ? CF::kEmployerRegion : CF::kOrgRegion, region_code);
}

void RowPlan::FillValid(GeneratedRow& row) {
  const std::uint64_t rows = static_cast<std::uint64_t>(std::max<std::int64_t>(options_.rows, 1));
  Set(row, CF::kSourceId, SourceId(index_));
  // Dates: skewed towards the recent past (the minimum of two uniform draws), never today.
  const auto days_back = 1 + std::min(rng_.Below(3 * 365), rng_.Below(3 * 365));
  event_ = options_.as_of - std::chrono::days(days_back);

  bool has_person =
      profile_.kind == RecordKind::kAssessment || profile_.kind == RecordKind::kCaregiver;
  bool has_org = profile_.kind != RecordKind::kCaregiver || rng_.Below(2) == 0;
  if (profile_.kind == RecordKind::kSanction) {
    has_person = HasPersonField() && rng_.Uniform() < 0.35;
    has_org = !has_person;
    const SubjectKind subject = has_person ? SubjectKind::kPerson : SubjectKind::kOrganisation;
    for (const auto& entry : profile_.subject_kinds) {
      if (entry.value == subject) Set(row, CF::kSubjectKind, entry.native);
    }
    Set(row, CF::kLegalBasis, LegalBasis(profile_.region, rng_));
  }
  if (has_person) {
    const std::int64_t block = profile_.kind == RecordKind::kAssessment ? 0 : kCaregiverBlock;
    SyntheticPerson person = PickPerson(block, profile_.kind == RecordKind::kSanction);
    auto id_for = [&person](IdScheme scheme) -> std::string {
      switch (scheme) {
        case IdScheme::kPrcResidentId:
          return person.prc_id;
        case IdScheme::kHkId:
          return person.hk_id.value_or("");
        case IdScheme::kMoId:
          return person.macau_id.value_or("");
      }
      return "";
    };
    Set(row, CF::kPersonId, id_for(profile_.id_scheme));
    if (profile_.alt_id_scheme && rng_.Below(5) < 3) {
      Set(row, CF::kPersonAltId, id_for(*profile_.alt_id_scheme));
    }
    Set(row, CF::kPersonName, person.name);
    Set(row, CF::kBirthDate, FormatDate(CF::kBirthDate, person.birth));
    for (const auto& entry : profile_.sexes) {
      if (entry.value == person.sex) Set(row, CF::kSex, entry.native);
    }
    row.person = std::move(person);
  }
  if (!profile_.region_codes.empty()) {
    Set(row, CF::kResidenceRegion, profile_.region_codes[rng_.Below(profile_.region_codes.size())]);
    Set(row, CF::kIssuingRegion, profile_.region_codes[rng_.Below(profile_.region_codes.size())]);
  } else {
    Set(row, CF::kResidenceRegion, profile_.region);
    Set(row, CF::kIssuingRegion, profile_.region);
  }
  // The level, weighted as the profile says levels occur in life.
  int total_weight = 0;
  for (const auto& level : profile_.scale.levels) total_weight += std::max(level.weight, 0);
  int pick = static_cast<int>(rng_.Below(static_cast<std::uint64_t>(std::max(total_weight, 1))));
  std::size_t level_index = 0;
  for (; level_index < profile_.scale.levels.size(); ++level_index) {
    pick -= std::max(profile_.scale.levels[level_index].weight, 0);
    if (pick < 0) {
      Set(row, CF::kLevel, profile_.scale.levels[level_index].native);
      break;
    }
  }
  // Numbers follow the level. Profiles list assessment levels from the least impaired, so the
  // ability score falls along the list; facility grades rise along it, and so do beds.
  const double position =
      (static_cast<double>(level_index) + rng_.Uniform()) /
      static_cast<double>(std::max<std::size_t>(profile_.scale.levels.size(), 1));
  if (const FieldSpec* spec = profile_.FindField(CF::kTotalScore)) {
    const std::int64_t lo = spec->min.value_or(0);
    const std::int64_t hi = spec->max.value_or(100);
    const auto score = hi - static_cast<std::int64_t>(position * static_cast<double>(hi - lo));
    Set(row, CF::kTotalScore, std::to_string(std::clamp(score, lo, hi)));
  }
  if (const FieldSpec* spec = profile_.FindField(CF::kBeds)) {
    const auto beds = static_cast<std::int64_t>(30 + position * 400 + rng_.Below(60));
    Set(row, CF::kBeds,
        std::to_string(
            std::clamp<std::int64_t>(beds, spec->min.value_or(0), spec->max.value_or(1000000))));
  }
  Set(row, CF::kEventDate, FormatDate(CF::kEventDate, event_));
  row.event_date = event_;
  int valid_days = 0;
  switch (profile_.kind) {
    case RecordKind::kAssessment:
      valid_days = 182;
      break;
    case RecordKind::kCaregiver:
      valid_days = 5 * 365;
      break;
    case RecordKind::kFacility:
      valid_days = 3 * 365;
      break;
    case RecordKind::kSanction:
      valid_days = rng_.Below(5) < 3 ? 365 + static_cast<int>(rng_.Below(3 * 365)) : 0;
      break;
  }
  if (valid_days > 0) {
    Set(row, CF::kValidUntil, FormatDate(CF::kValidUntil, event_ + std::chrono::days(valid_days)));
  }
  if (!profile_.statuses.empty()) {
    const auto& statuses = profile_.statuses;
    std::string status = statuses.front().native;
    for (const auto& entry : statuses) {
      if (entry.value == RecordStatus::kActive) status = entry.native;
    }
    // A lapsed record is mostly marked expired where the region has that status; a few are
    // revoked, withdrawn or repaired (sanctions after credit repair).
    if (valid_days > 0 && event_ + std::chrono::days(valid_days) < options_.as_of &&
        rng_.Below(5) != 0) {
      for (const auto& entry : statuses) {
        if (entry.value == RecordStatus::kExpired) status = entry.native;
      }
    }
    if (rng_.Uniform() < 0.08) status = statuses[rng_.Below(statuses.size())].native;
    Set(row, CF::kStatus, status);
  }
  Set(row, CF::kCertificateNo,
      "CN" + Pad(static_cast<std::int64_t>(rng_.Below(10'000'000'000ULL)), 10));
  if (has_org) {
    std::string home = profile_.region;
    std::int64_t number = 0;
    switch (profile_.kind) {
      case RecordKind::kAssessment:
        number = kAssessorBlock + static_cast<std::int64_t>(rng_.Below(40));
        break;
      case RecordKind::kCaregiver:
        number = kIssuerBlock + static_cast<std::int64_t>(rng_.Below(10));
        break;
      case RecordKind::kFacility:
        number = index_;
        break;
      case RecordKind::kSanction:  // a rated facility, sometimes of another mainland region
        number = static_cast<std::int64_t>(rng_.Below(rows));
        if (HasUsccField() && rng_.Uniform() < 0.2) home = kHomes[rng_.Below(5)];
        break;
    }
    FillOrg(row, false, home, number);
  }
  if (profile_.kind == RecordKind::kCaregiver && rng_.Below(4) != 0) {
    FillOrg(row, true, profile_.region, static_cast<std::int64_t>(rng_.Below(rows)));
  }
}

bool RowPlan::HasPersonField() const { return profile_.FindField(CF::kPersonId) != nullptr; }
bool RowPlan::HasUsccField() const { return profile_.FindField(CF::kOrgUscc) != nullptr; }

bool RowPlan::ApplyDefect(const std::string& defect, const std::vector<std::string>& kinds,
                          GeneratedRow& row) {
  const std::string person_id = Get(row, CF::kPersonId);
  if (defect == "missing_field") {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < profile_.fields.size(); ++i) {
      if (profile_.fields[i].required && !row.values[i].empty()) candidates.push_back(i);
    }
    if (candidates.empty()) return false;
    row.values[candidates[rng_.Below(candidates.size())]].clear();
    return true;
  }
  if (defect == "duplicate_row") {
    for (std::int64_t j = index_ - 1; j >= 0 && j >= index_ - 64; --j) {
      const std::string earlier = DefectOf(profile_, options_, kinds, j);
      if (earlier == "missing_field" || earlier == "malformed_row" || earlier == "duplicate_row") {
        continue;
      }
      // The earlier row's id reached the engine's duplicate set unless it ended up missing a field.
      if (!earlier.empty() &&
          RowPlan(profile_, options_, j).Build(kinds).defect == "missing_field") {
        continue;
      }
      Set(row, CF::kSourceId, SourceId(j));
      return true;
    }
    return false;
  }
  if (defect == "bad_id_format") {
    if (person_id.empty()) return false;
    switch (profile_.id_scheme) {
      case IdScheme::kPrcResidentId:
        Set(row, CF::kPersonId, person_id.substr(0, 16));
        break;
      case IdScheme::kHkId:
        Set(row, CF::kPersonId, "Z12(3)");
        break;
      case IdScheme::kMoId:
        Set(row, CF::kPersonId, "9" + person_id.substr(1));
        break;
    }
    return true;
  }
  if (defect == "bad_check_digit") {
    if (person_id.empty() || profile_.id_scheme == IdScheme::kMoId) return false;
    std::string wrong = person_id;
    const std::size_t at =
        profile_.id_scheme == IdScheme::kHkId ? wrong.size() - 2 : wrong.size() - 1;
    wrong[at] = wrong[at] == '1' ? '2' : '1';
    Set(row, CF::kPersonId, wrong);
    return true;
  }
  if (defect == "bad_uscc") {
    std::string uscc = Get(row, CF::kOrgUscc);
    if (uscc.empty()) return false;
    uscc.back() = uscc.back() == '1' ? '2' : '1';
    Set(row, CF::kOrgUscc, uscc);
    return true;
  }
  if (defect == "bad_region_code") {
    for (CF field : {CF::kResidenceRegion, CF::kOrgRegion, CF::kIssuingRegion}) {
      if (!Get(row, field).empty()) {
        Set(row, field, "990000");
        return true;
      }
    }
    return false;
  }
  if (defect == "bad_date") {
    std::chrono::year_month_day ymd{event_};
    Set(row, CF::kEventDate, FormatDate(CF::kEventDate, static_cast<int>(ymd.year()), 2, 30));
    return true;
  }
  if (defect == "future_date") {
    Set(row, CF::kEventDate,
        FormatDate(CF::kEventDate, options_.as_of + std::chrono::days(30 * 365)));
    return true;
  }
  if (defect == "before_birth") {
    if (!row.person || person_id.empty()) return false;
    const bool birth_known =
        profile_.FindField(CF::kBirthDate) != nullptr ||
        profile_.id_scheme == IdScheme::kPrcResidentId ||
        (profile_.alt_id_scheme == IdScheme::kPrcResidentId && !Get(row, CF::kPersonAltId).empty());
    if (!birth_known) return false;
    Set(row, CF::kEventDate, FormatDate(CF::kEventDate, row.person->birth - std::chrono::days(30)));
    return true;
  }
  if (defect == "unknown_level") {
    Set(row, CF::kLevel, "UNKNOWN-LEVEL-9");
    return true;
  }
  if (defect == "bad_number") {
    for (CF field : {CF::kTotalScore, CF::kBeds}) {
      if (const FieldSpec* spec = profile_.FindField(field)) {
        Set(row, field, std::to_string(spec->max.value_or(1000000) + 1));
        return true;
      }
    }
    return false;
  }
  if (defect == "malformed_row") {
    // A leading non-object line would not be recognised as NDJSON at all. XML records give a
    // field element twice (well-formed XML, so the document goes on).
    if (index_ == 0) return false;
    row.malformed = true;
    row.undecodable = profile_.format == FileFormat::kCsv && rng_.Below(2) == 0;
    return true;
  }
  return false;
}

}  // namespace carehub
