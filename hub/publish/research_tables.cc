#include "hub/publish/research_tables.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "connectors/profile.h"
#include "hub/publish/regions.h"

namespace carehub {
namespace {

enum TableIndex { kLevelsByQuarter, kLevelsByAgeSex, kCaregiverStock, kFacilities, kSanctions };

constexpr const char* kPivotScale = "PIVOT_GBT42195";
constexpr int kStockQuarters = 8;  // quarter ends of the caregiver stock table
const std::vector<std::string> kAgeBands = {"0-59", "60-69", "70-79", "80-89", "90+", "unknown"};
const std::vector<std::string> kSexes = {"M", "F", "U"};
const std::vector<std::string> kAssessmentLevels = {"0", "1", "2", "3", "4", "unmapped"};
const std::vector<std::string> kSkillLevels = {"1", "2", "3", "4", "5", "unmapped"};
const std::vector<std::string> kGrades = {"1", "2", "3", "4", "5", "not_comparable", "ungraded"};
const std::vector<std::string> kSanctionTypes = {"PENALTY", "BLACKLIST", "DISHONESTY"};
const std::vector<std::string> kSubjects = {"person", "organisation"};

int YearOf(Date day) { return static_cast<int>(std::chrono::year_month_day(day).year()); }
int QuarterOrdinal(Date day) {
  const std::chrono::year_month_day ymd(day);
  return static_cast<int>(ymd.year()) * 4 + static_cast<int>((unsigned(ymd.month()) - 1) / 3);
}
Date QuarterEndDay(int ordinal) {
  const int year = ordinal / 4;
  const unsigned next_month = static_cast<unsigned>(ordinal % 4) * 3 + 4;  // month after the end
  const auto first_of_next = next_month > 12
                                 ? std::chrono::year_month_day(std::chrono::year(year + 1) / 1 / 1)
                                 : std::chrono::year_month_day(std::chrono::year(year) /
                                                               std::chrono::month(next_month) / 1);
  return std::chrono::sys_days(first_of_next) - std::chrono::days(1);
}
std::string QuarterText(int ordinal) {
  return std::to_string(ordinal / 4) + "Q" + std::to_string(ordinal % 4 + 1);
}

std::string AgeBand(const std::optional<int>& birth_year, Date on) {
  if (!birth_year) return "unknown";
  const int age = YearOf(on) - *birth_year;
  if (age < 0) return "unknown";
  if (age < 60) return "0-59";
  if (age >= 90) return "90+";
  const int low = age / 10 * 10;
  return std::to_string(low) + "-" + std::to_string(low + 9);
}

std::size_t IndexOf(const std::vector<std::string>& list, const std::string& value) {
  return static_cast<std::size_t>(std::find(list.begin(), list.end(), value) - list.begin());
}

// The privacy unit of a person: 8 bytes of the smallest of its keyed tokens (HMACs are
// uniform, so collisions are negligible); of an organisation: a hash of its identifier.
std::uint64_t PersonUnit(const PersonRef& person, const std::string& record_id) {
  if (person.tokens.empty()) return std::hash<std::string>{}("record:" + record_id);
  const auto smallest = std::min_element(
      person.tokens.begin(), person.tokens.end(),
      [](const PersonToken& a, const PersonToken& b) { return a.token < b.token; });
  std::uint64_t unit = 0;
  for (int i = 0; i < 8; ++i) unit = (unit << 8) | smallest->token[static_cast<std::size_t>(i)];
  return unit;
}
std::uint64_t OrgUnit(const std::optional<OrgRef>& org, const std::string& record_id) {
  if (org && org->uscc) return std::hash<std::string>{}("uscc:" + *org->uscc);
  if (org && org->local_id)
    return std::hash<std::string>{}("local:" + org->region + *org->local_id);
  return std::hash<std::string>{}("record:" + record_id);
}

const std::string& FirstRegion(const std::optional<std::string>& a, const std::string& fallback) {
  return a && a->size() == 6 ? *a : fallback;
}

// Native assessment scale of each province and its level codes, from the built-in profiles.
struct NativeScales {
  std::vector<std::string> scales;                        // extra values of table 1, pivot first
  std::map<std::string, std::string> scale_of_province;   // province -> scale
  std::map<std::string, std::vector<std::string>> codes;  // scale -> codes in profile order
};
const NativeScales& AssessmentScales() {
  static const NativeScales kScales = [] {
    NativeScales out;
    out.scales.push_back(kPivotScale);
    for (const Profile& profile : BuiltinProfiles()) {
      if (profile.kind != RecordKind::kAssessment) continue;
      out.scale_of_province[profile.region] = profile.scale.code;
      auto& codes = out.codes[profile.scale.code];
      for (const LevelEntry& level : profile.scale.levels) {
        if (IndexOf(codes, level.code) == codes.size()) codes.push_back(level.code);
      }
    }
    for (const auto& [scale, codes] : out.codes) out.scales.push_back(scale);
    return out;
  }();
  return kScales;
}

}  // namespace

const std::vector<TableSpec>& ResearchTableSpecs() {
  static const std::vector<TableSpec> kSpecs = {
      {"assessment_levels_by_prefecture_quarter",
       "Care-need levels by prefecture and quarter",
       "How many older people were assessed at each care-need level, per prefecture and quarter, "
       "on the national GB/T 42195 scale and on the region's own scale?",
       "persons",
       "distinct persons (person tokens) assessed in the quarter, each at the level of their "
       "latest assessment in that quarter",
       "prefecture",
       PeriodKind::kQuarter,
       "quarter",
       {"scale"},
       "level",
       6,
       true},
      {"assessment_levels_by_province_year_age_sex",
       "Care-need levels by province, year, age band and sex",
       "How do care-need levels differ by age and sex, per province and year?",
       "persons",
       "distinct persons assessed in the year, at the GB/T 42195 level of their latest assessment "
       "in that year",
       "province",
       PeriodKind::kYear,
       "year",
       {"age_band", "sex"},
       "level",
       3,
       true},
      {"active_caregivers_by_prefecture_quarter_end",
       "Active qualified caregivers by prefecture and skill level at quarter ends",
       "How many qualified caregivers are there, by skill level, per prefecture, at each of the "
       "last eight quarter ends?",
       "persons",
       "distinct persons holding a qualification valid on the quarter end (issued on or before "
       "it, not expired, not revoked or withdrawn), at their highest level",
       "prefecture",
       PeriodKind::kQuarterEnd,
       "quarter_end",
       {},
       "level",
       kStockQuarters,
       true},
      {"facilities_by_prefecture_grade",
       "Care facilities by prefecture and latest grade",
       "How many rated care facilities are there per prefecture, by grade?",
       "facilities",
       "distinct facilities (by USCC or local licence id), each at its latest rating that is not "
       "revoked or withdrawn",
       "prefecture",
       PeriodKind::kNone,
       "",
       {},
       "grade",
       1,
       true},
      {"sanctions_by_province_year_type",
       "Sanction notices by province, year and type",
       "How many penalty, blacklist and dishonesty notices were issued per province and year, "
       "against persons and against organisations?",
       "sanction notices",
       "notices (records) decided in the year; each subject (person or organisation) contributes "
       "at most its 2 latest notices",
       "province",
       PeriodKind::kYear,
       "year",
       {"sanction_type"},
       "subject",
       2,
       false},
  };
  return kSpecs;
}

std::vector<CodeLabel> ColumnCodes(const TableSpec& spec, const std::string& column) {
  if (column == "sex")
    return {{"M", "男", "male"}, {"F", "女", "female"}, {"U", "未知", "unknown"}};
  if (column == "age_band") {
    return {{"0-59", "59岁及以下", "59 or younger"}, {"60-69", "60-69岁", "60 to 69"},
            {"70-79", "70-79岁", "70 to 79"},        {"80-89", "80-89岁", "80 to 89"},
            {"90+", "90岁及以上", "90 or older"},    {"unknown", "未知", "birth year unknown"}};
  }
  if (column == "sanction_type") {
    return {{"PENALTY", "行政处罚", "administrative penalty"},
            {"BLACKLIST", "黑名单", "blacklist"},
            {"DISHONESTY", "失信", "dishonesty (credit) notice"}};
  }
  if (column == "subject")
    return {{"person", "个人", "person"}, {"organisation", "机构", "organisation"}};
  if (column == "scale") {
    std::vector<CodeLabel> out = {
        {kPivotScale, "国家老年人能力评估规范 GB/T 42195-2022（枢纽等级）",
         "national pivot: GB/T 42195-2022 ability levels (crosswalk in codebook)"}};
    for (const Profile& profile : BuiltinProfiles()) {
      if (profile.kind != RecordKind::kAssessment) continue;
      const std::string en = "native scale of " + std::string(profile.RegionName());
      if (std::none_of(out.begin(), out.end(),
                       [&](const CodeLabel& c) { return c.code == profile.scale.code; })) {
        out.push_back({profile.scale.code, profile.scale.name, en});
      }
    }
    return out;
  }
  if (column == "grade") {
    std::vector<CodeLabel> out;
    const char* zh[] = {"一级", "二级", "三级", "四级", "五级"};
    for (int g = 1; g <= 5; ++g) {
      out.push_back({std::to_string(g), zh[g - 1], "GB/T 37276-2018 grade " + std::to_string(g)});
    }
    out.push_back(
        {"not_comparable", "地方等级（不可比）", "local grade not comparable with GB/T 37276"});
    out.push_back({"ungraded", "未评级（持牌）", "licensed, ungraded (Hong Kong, Macao)"});
    return out;
  }
  if (column == "level" && spec.class_column == "level" && spec.name.starts_with("active_")) {
    return {{"1", "一级/高级技师", "level 1, senior technician"},
            {"2", "二级/技师", "level 2, technician"},
            {"3", "三级/高级工", "level 3, senior worker"},
            {"4", "四级/中级工", "level 4, intermediate worker"},
            {"5", "五级/初级工", "level 5, junior worker"},
            {"unmapped", "无国家等级", "no national skill level (e.g. Hong Kong, Macao staff)"}};
  }
  if (column == "level") {
    std::vector<CodeLabel> out = {{"0", "能力完好", "GB/T 42195 level 0, intact"},
                                  {"1", "轻度失能", "GB/T 42195 level 1, mild impairment"},
                                  {"2", "中度失能", "GB/T 42195 level 2, moderate impairment"},
                                  {"3", "重度失能", "GB/T 42195 level 3, severe impairment"},
                                  {"4", "完全失能", "GB/T 42195 level 4, complete loss"},
                                  {"unmapped", "无对应国家等级", "no GB/T 42195 level"}};
    if (spec.extra_columns == std::vector<std::string>{"scale"}) {
      for (auto& c : out) c.en += " (scale " + std::string(kPivotScale) + ")";
      out.push_back({"<native code>", "见 crosswalk", "a native level code: see the crosswalk"});
    }
    return out;
  }
  return {};
}

// Per table: raw contributions with period ordinals, resolved into groups by Finish().
struct RawContribution {
  std::uint64_t unit;
  std::uint16_t geo;
  std::uint16_t extra;
  std::uint16_t cls;
  std::int32_t period;  // quarter or year ordinal; 0 without period
  std::int32_t day;
};

struct CaregiverSpan {
  std::uint64_t unit;
  std::uint16_t geo;
  std::uint16_t cls;
  std::int32_t from;   // issued on
  std::int32_t until;  // valid until (inclusive); INT32_MAX when open
};

struct TableCollector::State {
  std::vector<RawContribution> raw[5];
  std::vector<CaregiverSpan> spans;
  std::unordered_map<std::string, std::uint16_t> prefecture_index, province_index;
  std::vector<std::vector<std::string>> extras[5];  // extra value tuples per table

  std::uint16_t Prefecture(const std::string& code) {
    return prefecture_index.at(PrefectureRow(code));
  }
  std::uint16_t Province(const std::string& code) { return province_index.at(ProvinceRow(code)); }
  void AddAssessment(const CanonicalRecord& record, const Assessment& a, const std::string& origin);
  void AddCaregiver(const CanonicalRecord& record, const CaregiverQualification& c,
                    const std::string& origin);
  void AddFacility(const CanonicalRecord& record, const FacilityRating& f);
  void AddSanction(const CanonicalRecord& record, const SanctionNotice& s,
                   const std::string& origin);
  // The classes of (geo, extra) of `table`; nullptr when that group is not in the domain.
  const std::vector<std::string>* Classes(int table, std::size_t geo, std::size_t extra) const;
  TableInput Resolve(int table, const std::vector<int>& periods) const;
};

TableCollector::TableCollector() : state_(new State) {
  const auto& prefectures = PrefectureDomain();
  for (std::size_t i = 0; i < prefectures.size(); ++i) {
    state_->prefecture_index[prefectures[i].code] = static_cast<std::uint16_t>(i);
  }
  const auto& provinces = ProvinceDomain();
  for (std::size_t i = 0; i < provinces.size(); ++i) {
    state_->province_index[provinces[i].code] = static_cast<std::uint16_t>(i);
  }
  for (const std::string& scale : AssessmentScales().scales) {
    state_->extras[kLevelsByQuarter].push_back({scale});
  }
  for (const std::string& age : kAgeBands) {
    for (const std::string& sex : kSexes) state_->extras[kLevelsByAgeSex].push_back({age, sex});
  }
  state_->extras[kCaregiverStock].push_back({});
  state_->extras[kFacilities].push_back({});
  for (const std::string& type : kSanctionTypes) state_->extras[kSanctions].push_back({type});
}

TableCollector::~TableCollector() { delete state_; }

void TableCollector::Add(const CanonicalRecord& record, const std::string& origin) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          state_->AddAssessment(record, body, origin);
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          state_->AddCaregiver(record, body, origin);
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          state_->AddFacility(record, body);
        } else {
          state_->AddSanction(record, body, origin);
        }
      },
      record.body);
}

void TableCollector::State::AddAssessment(const CanonicalRecord& record, const Assessment& a,
                                          const std::string& origin) {
  const std::string& region =
      FirstRegion(a.person.residence_region, a.assessor ? a.assessor->region : origin);
  const std::uint64_t unit = PersonUnit(a.person, record.record_id);
  const auto day = static_cast<std::int32_t>(a.assessed_on.time_since_epoch().count());
  const std::string pivot = a.pivot ? std::to_string(a.pivot->level) : "unmapped";
  const auto pivot_cls = static_cast<std::uint16_t>(IndexOf(kAssessmentLevels, pivot));
  if (pivot_cls >= kAssessmentLevels.size()) return;  // a pivot outside 0..4: not in the domain
  const std::uint16_t geo = Prefecture(region);
  const int quarter = QuarterOrdinal(a.assessed_on);
  raw[kLevelsByQuarter].push_back({unit, geo, 0, pivot_cls, quarter, day});
  const auto& scales = AssessmentScales();
  const auto native = scales.scale_of_province.find(ProvinceRow(region));
  if (native != scales.scale_of_province.end() && native->second == a.native.scale) {
    const auto& codes = scales.codes.at(a.native.scale);
    const std::size_t cls = IndexOf(codes, a.native.code);
    const std::size_t extra = IndexOf(scales.scales, a.native.scale);
    if (cls < codes.size()) {
      raw[kLevelsByQuarter].push_back({unit, geo, static_cast<std::uint16_t>(extra),
                                       static_cast<std::uint16_t>(cls), quarter, day});
    }
  }
  const std::size_t extra =
      IndexOf(kAgeBands, AgeBand(a.person.birth_year, a.assessed_on)) * kSexes.size() +
      IndexOf(kSexes, std::string(SexName(a.person.sex)));
  raw[kLevelsByAgeSex].push_back({unit, Province(region), static_cast<std::uint16_t>(extra),
                                  pivot_cls, YearOf(a.assessed_on), day});
}

void TableCollector::State::AddCaregiver(const CanonicalRecord& record,
                                         const CaregiverQualification& c,
                                         const std::string& origin) {
  if (record.status == RecordStatus::kRevoked || record.status == RecordStatus::kWithdrawn) return;
  if (record.status == RecordStatus::kExpired && !c.valid_until) return;  // ended, date unknown
  const std::string& region =
      c.employer ? c.employer->region : FirstRegion(c.person.residence_region, origin);
  const std::string level = c.pivot ? std::to_string(c.pivot->level) : "unmapped";
  const std::size_t cls = IndexOf(kSkillLevels, level);
  if (cls >= kSkillLevels.size()) return;
  spans.push_back(
      {PersonUnit(c.person, record.record_id), Prefecture(region), static_cast<std::uint16_t>(cls),
       static_cast<std::int32_t>(c.issued_on.time_since_epoch().count()),
       c.valid_until ? static_cast<std::int32_t>(c.valid_until->time_since_epoch().count())
                     : INT32_MAX});
}

void TableCollector::State::AddFacility(const CanonicalRecord& record, const FacilityRating& f) {
  if (record.status == RecordStatus::kRevoked || record.status == RecordStatus::kWithdrawn) return;
  std::string grade = "ungraded";
  if (f.pivot) grade = f.comparable ? std::to_string(f.pivot->level) : "not_comparable";
  const std::size_t cls = IndexOf(kGrades, grade);
  if (cls >= kGrades.size()) return;
  raw[kFacilities].push_back({OrgUnit(f.facility, record.record_id), Prefecture(f.facility.region),
                              0, static_cast<std::uint16_t>(cls), 0,
                              static_cast<std::int32_t>(f.rated_on.time_since_epoch().count())});
}

void TableCollector::State::AddSanction(const CanonicalRecord& record, const SanctionNotice& s,
                                        const std::string& origin) {
  const std::string& issuer = s.issuing_region.empty() ? origin : s.issuing_region;
  std::uint64_t unit = 0;
  std::string region = issuer;
  if (s.subject_person) {
    unit = PersonUnit(*s.subject_person, record.record_id);
    region = FirstRegion(s.subject_person->residence_region, issuer);
  } else {
    unit = OrgUnit(s.subject_org, record.record_id);
    if (s.subject_org && s.subject_org->region.size() == 6) region = s.subject_org->region;
  }
  const std::size_t type = static_cast<std::size_t>(s.sanction_type);  // PENALTY, BLACKLIST, ...
  raw[kSanctions].push_back({unit, Province(region), static_cast<std::uint16_t>(type),
                             static_cast<std::uint16_t>(s.subject_person ? 0 : 1),
                             YearOf(s.decided_on),
                             static_cast<std::int32_t>(s.decided_on.time_since_epoch().count())});
}

const std::vector<std::string>* TableCollector::State::Classes(int table, std::size_t geo,
                                                               std::size_t extra) const {
  switch (table) {
    case kLevelsByQuarter: {
      if (extra == 0) return &kAssessmentLevels;
      const auto& scales = AssessmentScales();
      const std::string province = ProvinceRow(PrefectureDomain()[geo].code);
      const auto native = scales.scale_of_province.find(province);
      if (native == scales.scale_of_province.end() || native->second != scales.scales[extra]) {
        return nullptr;
      }
      return &scales.codes.at(native->second);
    }
    case kLevelsByAgeSex:
      return &kAssessmentLevels;
    case kCaregiverStock:
      return &kSkillLevels;
    case kFacilities:
      return &kGrades;
    default:
      return &kSubjects;
  }
}

namespace {

// The periods of a table: every ordinal from the first to the last one seen.
std::vector<int> PeriodRange(const std::vector<RawContribution>& raw, PeriodKind kind) {
  if (kind == PeriodKind::kNone) return {0};
  if (raw.empty()) return {};
  const auto [low, high] = std::minmax_element(
      raw.begin(), raw.end(),
      [](const RawContribution& a, const RawContribution& b) { return a.period < b.period; });
  std::vector<int> out;
  for (int p = low->period; p <= high->period; ++p) out.push_back(p);
  return out;
}

std::string PeriodText(PeriodKind kind, int ordinal) {
  switch (kind) {
    case PeriodKind::kQuarter:
      return QuarterText(ordinal);
    case PeriodKind::kYear:
      return std::to_string(ordinal);
    case PeriodKind::kQuarterEnd:
      return FormatIsoDate(QuarterEndDay(ordinal));
    default:
      return "";
  }
}

Date PeriodLastDay(PeriodKind kind, int ordinal) {
  if (kind == PeriodKind::kNone) return Date{};
  if (kind == PeriodKind::kYear) return QuarterEndDay(ordinal * 4 + 3);
  return QuarterEndDay(ordinal);
}

Date PeriodFirstDay(PeriodKind kind, int ordinal) {
  switch (kind) {
    case PeriodKind::kQuarter:
      return QuarterEndDay(ordinal - 1) + std::chrono::days(1);
    case PeriodKind::kYear:
      return QuarterEndDay(ordinal * 4 - 1) + std::chrono::days(1);
    case PeriodKind::kQuarterEnd:
      return QuarterEndDay(ordinal);
    default:
      return Date{};
  }
}

}  // namespace

TableInput TableCollector::State::Resolve(int table, const std::vector<int>& periods) const {
  TableInput out;
  out.spec = &ResearchTableSpecs()[static_cast<std::size_t>(table)];
  const PeriodKind kind = out.spec->period;
  const auto& geos = out.spec->geo_column == "prefecture" ? PrefectureDomain() : ProvinceDomain();
  // group index of (geo, period position, extra); -1 outside the domain
  std::vector<std::int32_t> index(geos.size() * periods.size() * extras[table].size(), -1);
  for (std::size_t g = 0; g < geos.size(); ++g) {
    for (std::size_t p = 0; p < periods.size(); ++p) {
      for (std::size_t e = 0; e < extras[table].size(); ++e) {
        const auto* classes = Classes(table, g, e);
        if (!classes) continue;
        index[(g * periods.size() + p) * extras[table].size() + e] =
            static_cast<std::int32_t>(out.groups.size());
        out.groups.push_back({geos[g].code, PeriodText(kind, periods[p]), extras[table][e], classes,
                              PeriodFirstDay(kind, periods[p]), PeriodLastDay(kind, periods[p])});
      }
    }
  }
  const int first = periods.empty() ? 0 : periods.front();
  for (const RawContribution& c : raw[table]) {
    const std::size_t p = static_cast<std::size_t>(c.period - first);
    const std::int32_t group = index[(c.geo * periods.size() + p) * extras[table].size() + c.extra];
    if (group < 0) continue;
    out.contributions.push_back({c.unit, static_cast<std::uint32_t>(group), c.cls, c.day});
  }
  return out;
}

std::vector<TableInput> TableCollector::Finish() {
  // Caregiver stock: the last kStockQuarters quarter ends up to the latest issue date.
  if (!state_->spans.empty()) {
    std::int32_t latest = 0;
    for (const CaregiverSpan& s : state_->spans) latest = std::max(latest, s.from);
    const int last = QuarterOrdinal(Date(std::chrono::days(latest)));
    for (int q = last - kStockQuarters + 1; q <= last; ++q) {
      const auto end = static_cast<std::int32_t>(QuarterEndDay(q).time_since_epoch().count());
      for (const CaregiverSpan& s : state_->spans) {
        if (s.from <= end && end <= s.until) {
          // Highest level first: a lower class index is a higher level, so it sorts first.
          state_->raw[kCaregiverStock].push_back(
              {s.unit, s.geo, 0, s.cls, q, static_cast<std::int32_t>(-s.cls)});
        }
      }
    }
  }
  std::vector<TableInput> tables;
  for (int t = 0; t < 5; ++t) {
    const TableSpec& spec = ResearchTableSpecs()[static_cast<std::size_t>(t)];
    std::vector<int> periods = PeriodRange(state_->raw[t], spec.period);
    if (spec.period == PeriodKind::kQuarterEnd && !periods.empty()) {
      const int last = periods.back();
      periods.clear();
      for (int q = last - kStockQuarters + 1; q <= last; ++q) periods.push_back(q);
    }
    tables.push_back(state_->Resolve(t, periods));
    state_->raw[t] = {};
  }
  return tables;
}

TrueCounts BoundContributions(TableInput& table) {
  TrueCounts out;
  out.totals.assign(table.groups.size(), 0);
  for (const TableGroup& group : table.groups) out.cells.emplace_back(group.classes->size(), 0);
  auto& list = table.contributions;
  std::sort(list.begin(), list.end(), [](const Contribution& a, const Contribution& b) {
    if (a.unit != b.unit) return a.unit < b.unit;
    if (a.day != b.day) return a.day > b.day;  // latest first
    if (a.group != b.group) return a.group < b.group;
    return a.cls < b.cls;
  });
  const TableSpec& spec = *table.spec;
  std::vector<std::uint32_t> groups_taken;
  int kept = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i == 0 || list[i].unit != list[i - 1].unit) {
      groups_taken.clear();
      kept = 0;
    }
    const Contribution& c = list[i];
    if (spec.one_per_group &&
        std::find(groups_taken.begin(), groups_taken.end(), c.group) != groups_taken.end()) {
      continue;  // an earlier (later-dated) contribution of this unit to this group was kept
    }
    if (kept == spec.max_contributions) {
      ++out.contributions_dropped;
      continue;
    }
    groups_taken.push_back(c.group);
    ++kept;
    ++out.totals[c.group];
    ++out.cells[c.group][c.cls];
  }
  return out;
}

void MarkIncompletePeriods(std::vector<TableInput>& tables, Date as_of) {
  for (TableInput& table : tables) {
    if (table.spec->period == PeriodKind::kNone) continue;
    for (TableGroup& group : table.groups) group.complete = group.last_day < as_of;
  }
}

}  // namespace carehub
