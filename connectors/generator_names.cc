// Synthetic names. Mainland residents get Chinese names (GBK); Hong Kong and Macau residents
// get the romanised or Portuguese forms their identity cards carry, which every encoding holds.
#include "connectors/generator_internal.h"

namespace carehub {
namespace {

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                     "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"};
constexpr const char* kGivenMale[] = {"建国", "志强", "国华", "德明",
                                      "永福", "文斌", "海涛", "春生"};
constexpr const char* kGivenFemale[] = {"秀英", "桂兰", "玉珍", "凤英",
                                        "丽华", "淑珍", "美玲", "素芬"};
constexpr const char* kHkSurnames[] = {"CHAN", "WONG", "LEUNG", "CHEUNG",
                                       "LAU",  "LEE",  "HO",    "TSANG"};
constexpr const char* kHkGiven[] = {"Tai Man", "Siu Ming", "Ka Yan",
                                    "Wai Kit", "Mei Ling", "Yuk Lan"};
constexpr const char* kMoGiven[] = {"Maria", "Jose", "Ana", "Antonio", "Rosa", "Manuel"};
constexpr const char* kMoSurnames[] = {"da Silva", "Leong", "Lei", "Sousa", "Chan", "Pereira"};
constexpr const char* kHomeWords[] = {"颐养院", "敬老院", "福利院", "康养中心", "护理院"};
constexpr const char* kHkHomeWords[] = {"Care Home", "Elderly Home", "Nursing Home"};
constexpr const char* kHkHomeNames[] = {"Evergreen", "Golden Age", "Harbour View", "Kowloon Bay"};

template <std::size_t N>
const char* Pick(const char* const (&list)[N], Rng& rng) {
  return list[rng.Below(N)];
}

}  // namespace

std::string SyntheticName(const std::string& home_region, Sex sex, Rng& rng) {
  if (home_region == "810000")
    return std::string(Pick(kHkSurnames, rng)) + " " + Pick(kHkGiven, rng);
  if (home_region == "820000")
    return std::string(Pick(kMoGiven, rng)) + " " + Pick(kMoSurnames, rng);
  return std::string(Pick(kSurnames, rng)) +
         (sex == Sex::kMale ? Pick(kGivenMale, rng) : Pick(kGivenFemale, rng));
}

std::string SyntheticOrgName(const std::string& home_region, RecordKind kind, std::int64_t number,
                             Rng& rng) {
  const bool overseas = home_region[0] == '8';
  if (kind == RecordKind::kAssessment) {
    return overseas ? "Elderly Assessment Office " + std::to_string(number % 100)
                    : "第" + std::to_string(number % 100) + "老年照护评估中心";
  }
  if (kind == RecordKind::kCaregiver && number >= 2'000'000 && number < 3'000'000) {
    return overseas ? "Care Worker Training Centre " + std::to_string(number % 100)
                    : "第" + std::to_string(number % 100) + "养老护理职业技能培训学校";
  }
  if (overseas) {
    return std::string(Pick(kHkHomeNames, rng)) + " " + Pick(kHkHomeWords, rng) + " " +
           std::to_string(number + 1);
  }
  return "第" + std::to_string(number + 1) + Pick(kHomeWords, rng);
}

}  // namespace carehub
