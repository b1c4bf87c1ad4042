// Sanctions as conditions: an in-force notice from ANY region blocks a caregiver (by person
// token) or a facility (by USCC or local id) everywhere, and the decision names it; withdrawn,
// repaired, ended or not-yet-decided notices do not block.
#include <gtest/gtest.h>

#include "mapping/engine.h"
#include "tests/mapping/test_records.h"

namespace carehub::mapping {
namespace {

using testing::D;
using testing::MakeCaregiver;
using testing::MakeFacility;
using testing::MakeOrgSanction;
using testing::MakePersonSanction;
using testing::R;

constexpr const char* kUscc = "91350100M000100Y43";

const RuleBook& Book() {
  static const RuleBook book = RuleBook::Load();
  return book;
}

TEST(Sanctions, NoticeInOneRegionBlocksTheCaregiverInEveryOther) {
  SanctionIndex index;
  // Guangdong blacklists person 7; the caregiver is certified in Anhui.
  index.Add(MakePersonSanction("440000", "s-gd-1", 7, "2025-01-10", "2026-01-09"));
  auto caregiver = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2023-05-01", 7);
  for (const char* target : {"310000", "330000", "440400", "810000", "820000"}) {
    Decision d = Decide(caregiver, R(target), D("2025-06-01"), Book(), index);
    EXPECT_EQ(d.outcome, Outcome::kNotRecognised) << target;
    ASSERT_NE(d.sanction, nullptr) << target;
    EXPECT_EQ(d.sanction->record_id, "s-gd-1");
    EXPECT_EQ(d.sanction->issuing_region, "440000");
    auto texts = ReasonTexts(d, Book());
    bool named = false;
    for (const auto& text : texts) {
      named = named || (text.find("s-gd-1") != std::string::npos &&
                        text.find("440000") != std::string::npos &&
                        text.find("test basis art. 1") != std::string::npos);
    }
    EXPECT_TRUE(named) << target;
  }
  // Another person is not affected.
  auto other = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2023-05-01", 8);
  EXPECT_EQ(Decide(other, R("310000"), D("2025-06-01"), Book(), index).outcome,
            Outcome::kRecognised);
}

TEST(Sanctions, BlockLastsOnlyWhileTheNoticeIsInForce) {
  SanctionIndex index;
  index.Add(MakePersonSanction("320000", "s-js-1", 7, "2025-01-10", "2025-12-31"));
  auto caregiver = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2023-05-01", 7);
  auto decide = [&](const char* on) {
    return Decide(caregiver, R("310000"), D(on), Book(), index).outcome;
  };
  EXPECT_EQ(decide("2025-01-09"), Outcome::kRecognised);     // not yet decided
  EXPECT_EQ(decide("2025-01-10"), Outcome::kNotRecognised);  // decided_on <= date
  EXPECT_EQ(decide("2025-12-31"), Outcome::kNotRecognised);  // ends_on >= date
  EXPECT_EQ(decide("2026-01-01"), Outcome::kRecognised);     // ended
}

TEST(Sanctions, WithdrawnOrRepairedNoticesNoLongerBlock) {
  for (RecordStatus lifted :
       {RecordStatus::kWithdrawn, RecordStatus::kRepaired, RecordStatus::kRetracted}) {
    SanctionIndex index;
    index.Add(MakePersonSanction("320000", "s-js-2", 7, "2025-01-10", std::nullopt));
    auto caregiver = MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2023-05-01", 7);
    EXPECT_EQ(Decide(caregiver, R("310000"), D("2025-06-01"), Book(), index).outcome,
              Outcome::kNotRecognised);
    // The origin issues a new version of the notice: lifted (信用修复 / withdrawn).
    index.Add(MakePersonSanction("320000", "s-js-2", 7, "2025-01-10", std::nullopt, lifted));
    EXPECT_EQ(index.size(), 1u);
    Decision d = Decide(caregiver, R("310000"), D("2025-06-01"), Book(), index);
    EXPECT_EQ(d.outcome, Outcome::kRecognised) << StatusName(lifted);
    EXPECT_EQ(d.sanction, nullptr);
  }
}

TEST(Sanctions, FacilityBlockedByUsccOrLocalId) {
  SanctionIndex index;
  index.Add(MakeOrgSanction("310000", "s-sh-1", kUscc, "2025-02-01", std::nullopt));
  auto facility = MakeFacility("320000", "GBT37276", "4", "2024-06-01", kUscc);
  Decision d = Decide(facility, R("440300"), D("2025-06-01"), Book(), index);
  EXPECT_EQ(d.outcome, Outcome::kNotRecognised);
  ASSERT_NE(d.sanction, nullptr);
  EXPECT_EQ(d.sanction->record_id, "s-sh-1");
  // Hong Kong homes have a licence number (local id) instead of a USCC.
  auto notice = MakeOrgSanction("810000", "s-hk-1", "", "2025-02-01", std::nullopt);
  auto& org = *std::get<SanctionNotice>(notice.body).subject_org;
  org.uscc.reset();
  org.local_id = "RCHE-0042";
  index.Add(notice);
  auto home = MakeFacility("810000", "GBT37276", "3", "2024-06-01", "x");
  auto& facility_org = std::get<FacilityRating>(home.body).facility;
  facility_org.uscc.reset();
  facility_org.local_id = "RCHE-0042";
  Decision blocked = Decide(home, R("440400"), D("2025-06-01"), Book(), index);
  ASSERT_NE(blocked.sanction, nullptr);
  EXPECT_EQ(blocked.sanction->record_id, "s-hk-1");
  // A different org is not blocked.
  auto clean = MakeFacility("320000", "GBT37276", "4", "2024-06-01", "91110000MA00000000");
  EXPECT_EQ(Decide(clean, R("440300"), D("2025-06-01"), Book(), index).sanction, nullptr);
}

TEST(Sanctions, ChoiceAmongSeveralDoesNotDependOnInsertionOrder) {
  auto a = MakePersonSanction("320000", "s-b", 7, "2025-03-01", std::nullopt);
  auto b = MakePersonSanction("440000", "s-a", 7, "2025-02-01", std::nullopt);
  SanctionIndex one, two;
  one.Add(a);
  one.Add(b);
  two.Add(b);
  two.Add(a);
  PersonRef person = testing::Person(7);
  EXPECT_EQ(one.FindPerson(person, D("2025-06-01"))->record_id, "s-a");
  EXPECT_EQ(two.FindPerson(person, D("2025-06-01"))->record_id, "s-a");
  EXPECT_EQ(one.FindPerson(person, D("2025-02-15"))->record_id, "s-a");
}

TEST(Sanctions, ANoticeItselfIsRecognisedWhileInForce) {
  SanctionIndex index;
  auto notice = MakePersonSanction("320000", "s-js-3", 7, "2025-01-10", "2025-12-31");
  EXPECT_EQ(Decide(notice, R("310000"), D("2025-06-01"), Book(), index).outcome,
            Outcome::kRecognised);
  EXPECT_EQ(Decide(notice, R("310000"), D("2026-01-01"), Book(), index).outcome,
            Outcome::kNotRecognised);
  notice.status = RecordStatus::kWithdrawn;
  EXPECT_EQ(Decide(notice, R("310000"), D("2025-06-01"), Book(), index).outcome,
            Outcome::kNotRecognised);
}

}  // namespace
}  // namespace carehub::mapping
