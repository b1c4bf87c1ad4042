// Decisions of the engine on the shipped rules: outcomes, levels, reasons, fallback, validity.
#include "mapping/engine.h"

#include <gtest/gtest.h>

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
}

}  // namespace
}  // namespace carehub::mapping
