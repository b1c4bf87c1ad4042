// Table-driven checks of the shipped rules against the crosswalks documented in
// /work/shared/domain.md §2 (each case names its source). A record of the source scale is
// decided for a region that uses the pivot itself (Zhejiang 330000 for assessments, Shanghai
// 310000 for caregivers, Guangdong 440000 for facilities), so the target level IS the pivot.
#include <gtest/gtest.h>

#include "mapping/engine.h"
#include "tests/mapping/test_records.h"

namespace carehub::mapping {
namespace {

using testing::D;
using testing::R;

const RuleBook& Book() {
  static const RuleBook book = RuleBook::Load();
  return book;
}

struct ToPivotCase {
  const char* source;  // where the mapping is stated
  const char* origin;
  const char* scale;
  const char* code;
  const char* pivot;  // expected pivot code
  const char* upper;  // expected upper pivot code ("" none)
  Equivalence equivalence;
  bool flagged;  // "may be P4"
};

constexpr ToPivotCase kAssessmentCases[] = {
    {"domain.md §2.1 crosswalk row 'MZ/T 039' P0", "320000", "MZT039", "0", "0", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'MZ/T 039' P1", "320000", "MZT039", "1", "1", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'MZ/T 039' P2", "320000", "MZT039", "2", "2", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'MZ/T 039' P3 (flag may be P4)", "320000", "MZT039", "3", "3",
     "4", Equivalence::kSourceBroader, true},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P0", "340000", "NHSA_LTCI", "0", "0", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P1", "340000", "NHSA_LTCI", "1", "1", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P2", "340000", "NHSA_LTCI", "2", "2", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P3", "340000", "NHSA_LTCI", "3", "3", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P4 (4, 5)", "340000", "NHSA_LTCI", "4", "4", "",
     Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'NHSA LTCI' P4 (4, 5)", "340000", "NHSA_LTCI", "5", "4", "",
     Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P0 正常", "310000", "SH_CARE_NEEDS", "0", "0",
     "", Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P0 正常 (label)", "310000", "SH_CARE_NEEDS",
     "正常", "0", "", Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P1", "310000", "SH_CARE_NEEDS", "1", "1", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P2 (2-3)", "310000", "SH_CARE_NEEDS", "2", "2",
     "", Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P2 (2-3)", "310000", "SH_CARE_NEEDS", "3", "2",
     "", Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P3", "310000", "SH_CARE_NEEDS", "4", "3", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P4 (5-6)", "310000", "SH_CARE_NEEDS", "5", "4",
     "", Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'Shanghai 照护' P4 (5-6)", "310000", "SH_CARE_NEEDS", "6", "4",
     "", Equivalence::kSourceNarrower, false},
    {"domain.md §2.1 crosswalk row 'HK SCNAMES' P0", "810000", "HK_SCNAMES", "none", "0", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'HK SCNAMES' P1", "810000", "HK_SCNAMES", "mild", "1", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'HK SCNAMES' P2", "810000", "HK_SCNAMES", "moderate", "2", "",
     Equivalence::kEquivalent, false},
    {"domain.md §2.1 crosswalk row 'HK SCNAMES' P3 (flag may be P4)", "810000", "HK_SCNAMES",
     "severe", "3", "4", Equivalence::kSourceBroader, true},
    {"domain.md §2.1 crosswalk row 'GB/T 42195' documented identity", "440000", "GBT42195", "3",
     "3", "", Equivalence::kEquivalent, false},
};

class AssessmentToPivot : public ::testing::TestWithParam<ToPivotCase> {};

TEST_P(AssessmentToPivot, MatchesDomainCrosswalk) {
  const ToPivotCase& c = GetParam();
  SCOPED_TRACE(c.source);
  SanctionIndex none;
  auto record = testing::MakeAssessment(c.origin, c.scale, c.code, "2025-03-01");
  Decision d = Decide(record, R("330000"), D("2025-04-01"), Book(), none);
  ASSERT_EQ(Book().scale(d.target_scale).id, "GBT42195");
  EXPECT_EQ(TargetCode(d, Book()), c.pivot);
  const std::string upper =
      d.target_upper >= 0 ? Book().scale(d.target_scale).levels[d.target_upper].code : "";
  EXPECT_EQ(upper, c.upper);
  EXPECT_EQ(d.equivalence, c.equivalence);
  bool flagged = false;
  for (const auto& reason : d.reasons) flagged = flagged || reason.code == ReasonCode::kFlag;
  EXPECT_EQ(flagged, c.flagged);
  // A crosswalked level is advisory (domain.md §2.1): lossy or flagged -> with conditions.
  const bool clean = c.equivalence == Equivalence::kEquivalent && !c.flagged;
  EXPECT_EQ(d.outcome, clean ? Outcome::kRecognised : Outcome::kRecognisedWithConditions);
}

INSTANTIATE_TEST_SUITE_P(DomainMd, AssessmentToPivot, ::testing::ValuesIn(kAssessmentCases));

struct CaregiverCase {
  const char* source;
  const char* scale;
  const char* code;
  const char* national;  // "" when case by case
};

constexpr CaregiverCase kCaregiverCases[] = {
    {"domain.md §2.2 national levels (identity)", "CN_CAREGIVER_SKILL", "5", "5"},
    {"domain.md §2.2 national levels (identity)", "CN_CAREGIVER_SKILL", "1", "1"},
    {"domain.md §2.2 pre-2019 初级 -> 五级 (proposed one-to-one)", "CN_CAREGIVER_TITLE", "初级",
     "5"},
    {"domain.md §2.2 pre-2019 中级 -> 四级", "CN_CAREGIVER_TITLE", "中级", "4"},
    {"domain.md §2.2 pre-2019 高级 -> 三级", "CN_CAREGIVER_TITLE", "高级", "3"},
    {"domain.md §2.2 pre-2019 技师 -> 二级", "CN_CAREGIVER_TITLE", "技师", "2"},
    {"domain.md §2.2 pre-2019 高级技师 -> 一级", "CN_CAREGIVER_TITLE", "高级技师", "1"},
    {"domain.md §2.2 Hong Kong care worker: case by case", "HK_CARE_STAFF", "care_worker", ""},
    {"domain.md §2.2 Hong Kong health worker: case by case", "HK_CARE_STAFF", "health_worker", ""},
};

class CaregiverToPivot : public ::testing::TestWithParam<CaregiverCase> {};

TEST_P(CaregiverToPivot, MatchesDomainCrosswalk) {
  const CaregiverCase& c = GetParam();
  SCOPED_TRACE(c.source);
  SanctionIndex none;
  auto record = testing::MakeCaregiver("320000", c.scale, c.code, "2024-01-01");
  Decision d = Decide(record, R("310000"), D("2025-04-01"), Book(), none);
  EXPECT_EQ(TargetCode(d, Book()), c.national);
  if (std::string(c.national).empty()) {
    EXPECT_EQ(d.outcome, Outcome::kRecognisedWithConditions);
    EXPECT_EQ(d.equivalence, Equivalence::kRelatedTo);
  } else {
    EXPECT_EQ(d.outcome, Outcome::kRecognised);
    EXPECT_EQ(Book().scale(d.target_scale).id, "CN_CAREGIVER_SKILL");
  }
}

INSTANTIATE_TEST_SUITE_P(DomainMd, CaregiverToPivot, ::testing::ValuesIn(kCaregiverCases));

TEST(FacilityCrosswalk, GradesCarryOverAndHongKongLicenceIsUnmatched) {
  SanctionIndex none;
  // domain.md §2.3: GB/T 37276 grade N is grade N everywhere on the mainland.
  for (const char* grade : {"1", "2", "3", "4", "5"}) {
    auto record =
        testing::MakeFacility("320000", "GBT37276", grade, "2024-06-01", "91350100M000100Y43");
    Decision d = Decide(record, R("440000"), D("2025-04-01"), Book(), none);
    EXPECT_EQ(TargetCode(d, Book()), grade);
    EXPECT_EQ(d.outcome, Outcome::kRecognised);
  }
  // domain.md §2.3: a Hong Kong licence is "licensed, ungraded": nothing to carry.
  auto licence = testing::MakeFacility("810000", "HK_RCHE_LICENCE", "licensed", "2024-06-01",
                                       "91350100M000100Y43");
  Decision d = Decide(licence, R("440000"), D("2025-04-01"), Book(), none);
  EXPECT_EQ(d.outcome, Outcome::kNotRecognised);
  EXPECT_EQ(d.equivalence, Equivalence::kNotRelatedTo);
  EXPECT_EQ(d.target_level, -1);
}

struct FromPivotCase {
  const char* source;
  const char* target_region;
  const char* pivot;
  const char* code;
  const char* upper;
};

constexpr FromPivotCase kFromPivotCases[] = {
    {"domain.md §2.1 'Shanghai 照护' P2 = 2-3: lower, range_upper", "310000", "2", "2", "3"},
    {"domain.md §2.1 'Shanghai 照护' P3 = 4", "310000", "3", "4", ""},
    {"domain.md §2.1 'Shanghai 照护' P4 = 5-6: lower, range_upper", "310000", "4", "5", "6"},
    {"domain.md §2.1 'MZ/T 039' P4 has no level: 3", "320000", "4", "3", ""},
    {"domain.md §2.1 'NHSA LTCI' P4 = 4, 5: lower, range_upper", "340000", "4", "4", "5"},
    {"domain.md §2.1 'HK SCNAMES' P3 = severe", "810000", "3", "severe", ""},
    {"domain.md §2.1 'HK SCNAMES' P4 -> severe", "810000", "4", "severe", ""},
};

class AssessmentFromPivot : public ::testing::TestWithParam<FromPivotCase> {};

TEST_P(AssessmentFromPivot, MatchesDomainCrosswalk) {
  const FromPivotCase& c = GetParam();
  SCOPED_TRACE(c.source);
  SanctionIndex none;
  auto record = testing::MakeAssessment("330000", "GBT42195", c.pivot, "2025-03-01");
  Decision d = Decide(record, R(c.target_region), D("2025-04-01"), Book(), none);
  EXPECT_EQ(TargetCode(d, Book()), c.code);
  const std::string upper =
      d.target_upper >= 0 ? Book().scale(d.target_scale).levels[d.target_upper].code : "";
  EXPECT_EQ(upper, c.upper);
}

INSTANTIATE_TEST_SUITE_P(DomainMd, AssessmentFromPivot, ::testing::ValuesIn(kFromPivotCases));

}  // namespace
}  // namespace carehub::mapping
