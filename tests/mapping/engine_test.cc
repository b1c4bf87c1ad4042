// Decisions of the engine on the shipped rules: routes (identity, pivot, bilateral), city and
// province fallback, conditions (status, validity windows), and the reasons it gives.
#include "mapping/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/mapping/test_records.h"

namespace carehub::mapping {
namespace {

using testing::D;
using testing::MakeAssessment;
using testing::MakeCaregiver;
using testing::MakeFacility;
using testing::R;

class EngineTest : public ::testing::Test {
 protected:
  static const RuleBook& Book() {
    static const RuleBook book = RuleBook::Load();
    return book;
  }
  Decision Run(const CanonicalRecord& record, const std::string& target, const std::string& on) {
    return Decide(record, R(target), D(on), Book(), sanctions_);
  }
  std::string Dump(const Decision& d) {
    std::string text;
    for (const auto& line : ReasonTexts(d, Book())) text += "  " + line + "\n";
    return text;
  }
  bool HasReason(const Decision& d, ReasonCode code) {
    for (const auto& reason : d.reasons) {
      if (reason.code == code) return true;
    }
    return false;
  }
  SanctionIndex sanctions_;
};

TEST_F(EngineTest, ShanghaiToZhuhaiGoesThroughThePivot) {
  auto record = MakeAssessment("310000", "SH_CARE_NEEDS", "4", "2025-03-01");
  Decision d = Run(record, "440400", "2025-05-01");
  EXPECT_EQ(d.outcome, Outcome::kRecognised) << Dump(d);
  EXPECT_EQ(TargetCode(d, Book()), "3");
  EXPECT_EQ(Book().scale(d.target_scale).id, "GBT42195");
  EXPECT_EQ(d.RuleText(), "sh-care-needs.to-pivot@1");
  EXPECT_EQ(d.PolicyText(), "region-440400@1");
  EXPECT_EQ(d.legal_basis->document, "国办发〔2019〕5号");
  EXPECT_FALSE(d.documented);  // the crosswalk is proposed
  EXPECT_TRUE(HasReason(d, ReasonCode::kWithinWindow));
}

TEST_F(EngineTest, TwoStepCompositionIsReportedLossy) {
  auto record = MakeAssessment("310000", "SH_CARE_NEEDS", "5", "2025-03-01");
  Decision d = Run(record, "js", "2025-05-01");
  EXPECT_EQ(d.RuleText(), "sh-care-needs.to-pivot@1 -> mzt039.from-pivot@1");
  EXPECT_EQ(TargetCode(d, Book()), "3");
  EXPECT_TRUE(d.lossy());
  EXPECT_EQ(d.outcome, Outcome::kRecognisedWithConditions) << Dump(d);
  EXPECT_TRUE(HasReason(d, ReasonCode::kLossy));
  // Within the YRD the agreement of 沪府规〔2019〕26号 item 26 is the legal basis.
  EXPECT_EQ(d.legal_basis->document, "沪府规〔2019〕26号");
  EXPECT_EQ(d.legal_basis->article, "item 26");
}

TEST_F(EngineTest, SameScaleIsIdentity) {
  auto record = MakeAssessment("330000", "GBT42195", "2", "2025-03-01");
  Decision d = Run(record, "440000", "2025-05-01");
  EXPECT_EQ(d.RuleText(), "identity");
  EXPECT_EQ(d.outcome, Outcome::kRecognised);
  EXPECT_TRUE(d.documented);
  EXPECT_EQ(d.equivalence, Equivalence::kEquivalent);
}

TEST_F(EngineTest, CityRulesApplyElseProvince) {
  auto record = MakeAssessment("310000", "SH_CARE_NEEDS", "1", "2025-03-01");
  EXPECT_EQ(Run(record, "440400", "2025-05-01").PolicyText(), "region-440400@1");  // Zhuhai
  EXPECT_EQ(Run(record, "440402", "2025-05-01").PolicyText(), "region-440400@1");  // a district
  EXPECT_EQ(Run(record, "440300", "2025-05-01").PolicyText(), "region-440000@1");  // Shenzhen
  EXPECT_EQ(Run(record, "gd", "2025-05-01").PolicyText(), "region-440000@1");
  // Zhuhai has no facility rules of its own: Guangdong's apply, and the reason says so.
  auto facility = MakeFacility("320000", "GBT37276", "3", "2025-01-01", "91350100M000100Y43");
  Decision d = Run(facility, "440400", "2025-05-01");
  EXPECT_EQ(d.PolicyText(), "region-440000@1");
  EXPECT_NE(ReasonTexts(d, Book())[0].find("no facility rules of its own"), std::string::npos)
      << Dump(d);
  // No rules anywhere up the chain (Beijing).
  Decision none = Run(record, "110000", "2025-05-01");
  EXPECT_EQ(none.outcome, Outcome::kNotRecognised);
  EXPECT_TRUE(HasReason(none, ReasonCode::kNoTargetRules));
}

TEST_F(EngineTest, BilateralRuleTakesPrecedenceForItsTargetOnly) {
  auto record = MakeAssessment("810000", "HK_SCNAMES", "moderate", "2025-03-01");
  Decision zhuhai = Run(record, "440400", "2025-05-01");
  EXPECT_EQ(zhuhai.RuleText(), "hk-scnames.zhuhai@1");
  EXPECT_EQ(zhuhai.legal_basis->document, "珠府办函〔2019〕158号");
  EXPECT_EQ(zhuhai.legal_basis->article, "(九)");
  EXPECT_EQ(TargetCode(zhuhai, Book()), "2");
  Decision shenzhen = Run(record, "440300", "2025-05-01");
  EXPECT_EQ(shenzhen.RuleText(), "hk-scnames.to-pivot@1");
  EXPECT_EQ(shenzhen.legal_basis->document, "国办发〔2019〕5号");
  // A Shanghai record is not covered by the Hong Kong bilateral rule.
  auto sh = MakeAssessment("310000", "SH_CARE_NEEDS", "2", "2025-03-01");
  EXPECT_EQ(Run(sh, "440400", "2025-05-01").RuleText(), "sh-care-needs.to-pivot@1");
}

TEST_F(EngineTest, OldAssessmentNeedsReassessment) {
  // Six months per MZ/T 039's cycle: 2025-01-15 is valid through 2025-07-15.
  auto record = MakeAssessment("310000", "SH_CARE_NEEDS", "4", "2025-01-15");
  EXPECT_EQ(Run(record, "440400", "2025-07-15").outcome, Outcome::kRecognised);
  Decision late = Run(record, "440400", "2025-07-16");
  EXPECT_EQ(late.outcome, Outcome::kReassessmentRequired) << Dump(late);
  EXPECT_TRUE(HasReason(late, ReasonCode::kWindowExpired));
  EXPECT_EQ(TargetCode(late, Book()), "3");  // the level is still shown, for information
  // Month ends clamp: 2024-08-31 + 6 months = 2025-02-28.
  auto august = MakeAssessment("310000", "SH_CARE_NEEDS", "1", "2024-08-31");
  EXPECT_EQ(Run(august, "zj", "2025-02-28").outcome, Outcome::kRecognised);
  EXPECT_EQ(Run(august, "zj", "2025-03-01").outcome, Outcome::kReassessmentRequired);
}

TEST_F(EngineTest, ValidUntilPassedFollowsTheTargetsExpiryRule) {
  auto assessment = MakeAssessment("310000", "SH_CARE_NEEDS", "1", "2025-03-01");
  std::get<Assessment>(assessment.body).valid_until = D("2025-04-01");
  Decision a = Run(assessment, "zj", "2025-04-02");
  EXPECT_EQ(a.outcome, Outcome::kReassessmentRequired);
  EXPECT_TRUE(HasReason(a, ReasonCode::kValidUntilPassed));
  auto certificate = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2020-03-01");
  std::get<CaregiverQualification>(certificate.body).valid_until = D("2025-04-01");
  EXPECT_EQ(Run(certificate, "sh", "2025-04-01").outcome, Outcome::kRecognised);
  EXPECT_EQ(Run(certificate, "sh", "2025-04-02").outcome, Outcome::kNotRecognised);
}

TEST_F(EngineTest, RevokedExpiredAndRetractedAreNotRecognised) {
  for (RecordStatus status :
       {RecordStatus::kRevoked, RecordStatus::kExpired, RecordStatus::kRetracted}) {
    auto record = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2024-03-01");
    record.status = status;
    Decision d = Run(record, "sh", "2025-04-01");
    EXPECT_EQ(d.outcome, Outcome::kNotRecognised) << StatusName(status);
    EXPECT_TRUE(HasReason(d, ReasonCode::kStatusNotRecognised));
    EXPECT_NE(ReasonTexts(d, Book())[1].find(std::string(StatusName(status))), std::string::npos);
  }
}

TEST_F(EngineTest, UnknownScaleOrCodeAndFutureRecordsAreNotRecognised) {
  Decision scale = Run(MakeAssessment("310000", "NO_SUCH", "1", "2025-03-01"), "zj", "2025-04-01");
  EXPECT_EQ(scale.outcome, Outcome::kNotRecognised);
  EXPECT_TRUE(HasReason(scale, ReasonCode::kUnknownScale));
  Decision code =
      Run(MakeAssessment("310000", "SH_CARE_NEEDS", "9", "2025-03-01"), "zj", "2025-04-01");
  EXPECT_TRUE(HasReason(code, ReasonCode::kUnknownCode));
  Decision future =
      Run(MakeAssessment("310000", "SH_CARE_NEEDS", "1", "2025-05-01"), "zj", "2025-04-01");
  EXPECT_EQ(future.outcome, Outcome::kNotRecognised);
  EXPECT_TRUE(HasReason(future, ReasonCode::kDatedAfter));
}

TEST_F(EngineTest, MacauDecidesInThePivotAndIsAdvisory) {
  Decision d =
      Run(MakeAssessment("310000", "SH_CARE_NEEDS", "4", "2025-03-01"), "mo", "2025-04-01");
  EXPECT_EQ(Book().scale(d.target_scale).id, "GBT42195");
  EXPECT_EQ(TargetCode(d, Book()), "3");
  EXPECT_EQ(d.outcome, Outcome::kRecognisedWithConditions) << Dump(d);
  EXPECT_TRUE(HasReason(d, ReasonCode::kAdvisoryOnly));
  EXPECT_TRUE(HasReason(d, ReasonCode::kProposedScaleChoice));
}

TEST_F(EngineTest, HongKongCaregiverIsCaseByCase) {
  Decision d = Run(MakeCaregiver("810000", "HK_CARE_STAFF", "care_worker", "2024-01-01"), "440400",
                   "2025-04-01");
  EXPECT_EQ(d.outcome, Outcome::kRecognisedWithConditions);
  EXPECT_EQ(d.target_level, -1);
  EXPECT_TRUE(HasReason(d, ReasonCode::kCaseByCase));
  // Zhuhai's agreement with Hong Kong and Macau is the legal basis.
  EXPECT_EQ(d.legal_basis->document, "珠府办函〔2019〕158号");
}

TEST_F(EngineTest, DecisionsAreDeterministicAndJsonCarriesEverything) {
  auto record = MakeAssessment("310000", "SH_CARE_NEEDS", "2", "2025-03-01");
  Decision a = Run(record, "440400", "2025-04-01");
  Decision b = Run(record, "440400", "2025-04-01");
  EXPECT_EQ(ReasonTexts(a, Book()), ReasonTexts(b, Book()));
  auto json = DecisionJson(a, Book());
  EXPECT_EQ(json->getValue<std::string>("outcome"), "recognised_with_conditions");
  EXPECT_EQ(json->getValue<std::string>("rule"), "sh-care-needs.to-pivot@1");
  EXPECT_EQ(json->getValue<std::string>("equivalence"), "source-is-narrower-than-target");
  EXPECT_EQ(json->getObject("target")->getValue<std::string>("code"), "2");
  EXPECT_EQ(json->getObject("legal_basis")->getValue<std::string>("document"), "国办发〔2019〕5号");
  EXPECT_EQ(json->getArray("reasons")->size(), static_cast<std::size_t>(a.reasons.size()));
  // Issue 15: the same reasons as codes with parameters, for the pages to word in Chinese.
  const auto details = json->getArray("reason_details");
  ASSERT_EQ(details->size(), static_cast<std::size_t>(a.reasons.size()));
  for (int i = 0; i < a.reasons.size(); ++i) {
    const auto detail = details->getObject(static_cast<unsigned>(i));
    EXPECT_EQ(detail->getValue<std::string>("code"), ReasonCodeName(a.reasons[i].code));
    EXPECT_EQ(detail->getValue<std::string>("text"), ReasonText(a.reasons[i], a, Book()));
    EXPECT_TRUE(detail->getObject("params"));
  }
  const auto window = std::find_if(a.reasons.begin(), a.reasons.end(), [](const Reason& r) {
    return r.code == ReasonCode::kWithinWindow || r.code == ReasonCode::kWindowExpired;
  });
  ASSERT_NE(window, a.reasons.end());
  const auto params =
      details->getObject(static_cast<unsigned>(window - a.reasons.begin()))->getObject("params");
  EXPECT_EQ(params->getValue<std::string>("date"), "2025-03-01");
  EXPECT_GT(params->getValue<int>("months"), 0);
}

// Reason codes are a stable interface of the web pages (web/js/reasons.js): one name each.
TEST(ReasonCodes, EveryCodeHasItsOwnName) {
  std::set<std::string_view> names;
  for (int code = 0; code <= static_cast<int>(ReasonCode::kAdvisoryOnly); ++code) {
    const std::string_view name = ReasonCodeName(static_cast<ReasonCode>(code));
    EXPECT_NE(name, "unknown") << code;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
}

}  // namespace
}  // namespace carehub::mapping
