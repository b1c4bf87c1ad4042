#include "hub/publish/research_tables.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include "connectors/profile.h"
#include "hub/publish/record_facts.h"
#include "hub/publish/regions.h"
#include "schemas/codec.h"

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

std::string_view AgeBand(const std::optional<int>& birth_year, Date on) {
  static const char* const kBands[] = {"0-59", "60-69", "70-79", "80-89", "90+"};
  if (!birth_year) return "unknown";
  const int age = YearOf(on) - *birth_year;
  if (age < 0) return "unknown";
  return kBands[std::clamp(age / 10 - 5, 0, 4)];
}

std::size_t IndexOf(const std::vector<std::string>& list, std::string_view value) {
  return static_cast<std::size_t>(std::find(list.begin(), list.end(), value) - list.begin());
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

// Per table: contributions with the geography in `group` and period ordinals, resolved into
// groups by Finish().
using RawContribution = Contribution;

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

  RecordFactsReader reader;

  std::uint16_t Prefecture(std::string_view code) {
    return prefecture_index.at(PrefectureRow(code));
  }
  std::uint16_t Province(std::string_view code) { return province_index.at(ProvinceRow(code)); }
  void AddAssessment(const RecordFacts& r);
  void AddCaregiver(const RecordFacts& r);
  void AddFacility(const RecordFacts& r);
  void AddSanction(const RecordFacts& r);
  // The classes of (geo, extra) of `table`; nullptr when that group is not in the domain.
  const std::vector<std::string>* Classes(int table, std::size_t geo, std::size_t extra) const;
  TableInput Resolve(int table, const std::vector<int>& periods);
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
  AddEncoded(EncodeSingleObject(record), origin);
}

void TableCollector::AddEncoded(std::string_view single_object, std::string_view origin) {
  const RecordFacts& facts = state_->reader.Read(single_object, origin);
  switch (facts.kind) {
    case RecordKind::kAssessment:
      return state_->AddAssessment(facts);
    case RecordKind::kCaregiver:
      return state_->AddCaregiver(facts);
    case RecordKind::kFacility:
      return state_->AddFacility(facts);
    case RecordKind::kSanction:
      return state_->AddSanction(facts);
  }
}

void TableCollector::State::AddAssessment(const RecordFacts& r) {
  const std::string pivot = r.pivot_level ? std::to_string(*r.pivot_level) : "unmapped";
  const auto pivot_cls = static_cast<std::uint16_t>(IndexOf(kAssessmentLevels, pivot));
  if (pivot_cls >= kAssessmentLevels.size()) return;  // a pivot outside 0..4: not in the domain
  const Date assessed_on{std::chrono::days(r.day)};
  const std::uint16_t geo = Prefecture(r.region);
  const int quarter = QuarterOrdinal(assessed_on);
  raw[kLevelsByQuarter].push_back({r.unit, geo, 0, pivot_cls, quarter, r.day});
  const auto& scales = AssessmentScales();
  const auto native = scales.scale_of_province.find(ProvinceRow(r.region));
  if (native != scales.scale_of_province.end() && native->second == r.native_scale) {
    const auto& codes = scales.codes.at(native->second);
    const std::size_t cls = IndexOf(codes, r.native_code);
    const std::size_t extra = IndexOf(scales.scales, r.native_scale);
    if (cls < codes.size()) {
      raw[kLevelsByQuarter].push_back({r.unit, geo, static_cast<std::uint16_t>(extra),
                                       static_cast<std::uint16_t>(cls), quarter, r.day});
    }
  }
  const std::size_t extra = IndexOf(kAgeBands, AgeBand(r.birth_year, assessed_on)) * kSexes.size() +
                            IndexOf(kSexes, r.sex);
  raw[kLevelsByAgeSex].push_back({r.unit, Province(r.region), static_cast<std::uint16_t>(extra),
                                  pivot_cls, YearOf(assessed_on), r.day});
}

void TableCollector::State::AddCaregiver(const RecordFacts& r) {
  if (r.status == "REVOKED" || r.status == "WITHDRAWN") return;
  if (r.status == "EXPIRED" && !r.valid_until) return;  // ended, date unknown
  const std::string level = r.pivot_level ? std::to_string(*r.pivot_level) : "unmapped";
  const std::size_t cls = IndexOf(kSkillLevels, level);
  if (cls >= kSkillLevels.size()) return;
  spans.push_back({r.unit, Prefecture(r.region), static_cast<std::uint16_t>(cls), r.day,
                   r.valid_until.value_or(INT32_MAX)});
}

void TableCollector::State::AddFacility(const RecordFacts& r) {
  if (r.status == "REVOKED" || r.status == "WITHDRAWN") return;
  std::string grade = "ungraded";
  if (r.pivot_level) grade = r.comparable ? std::to_string(*r.pivot_level) : "not_comparable";
  const std::size_t cls = IndexOf(kGrades, grade);
  if (cls >= kGrades.size()) return;
  raw[kFacilities].push_back(
      {r.unit, Prefecture(r.region), 0, static_cast<std::uint16_t>(cls), 0, r.day});
}

void TableCollector::State::AddSanction(const RecordFacts& r) {
  const std::size_t type = IndexOf(kSanctionTypes, r.sanction_type);
  if (type >= kSanctionTypes.size()) return;
  raw[kSanctions].push_back({r.unit, Province(r.region), static_cast<std::uint16_t>(type),
                             static_cast<std::uint16_t>(r.subject_is_person ? 0 : 1),
                             YearOf(Date(std::chrono::days(r.day))), r.day});
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

TableInput TableCollector::State::Resolve(int table, const std::vector<int>& periods) {
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
  // In place: the collected vector becomes the table's contributions.
  std::vector<Contribution>& list = raw[table];
  std::size_t kept = 0;
  for (const Contribution& c : list) {
    const std::size_t p = static_cast<std::size_t>(c.period - first);
    const std::int32_t group =
        index[(c.group * periods.size() + p) * extras[table].size() + c.extra];
    if (group < 0) continue;
    list[kept] = c;
    list[kept++].group = static_cast<std::uint32_t>(group);
  }
  list.resize(kept);
  out.contributions = std::move(list);
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
