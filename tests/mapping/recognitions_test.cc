// The store side of recognition (hub/store/recognitions.h) and `carehub recognize`: a Guangdong hub
// holding records relayed from Shanghai, Anhui and Jiangsu decides them for Zhuhai; --all writes
// the recognitions table in one transaction and a new rule version re-decides; the CLI never
// prints the identifier it was given.
#include "hub/store/recognitions.h"

#include <gtest/gtest.h>

#include <fstream>

#include "connectors/person_token.h"
#include "schemas/codec.h"
#include "tests/mapping/test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using mapping::testing::D;
using mapping::testing::R;

constexpr const char* kId = "11010519491231002X";  // domain.md §3 worked example
constexpr const char* kUscc = "91350100M000100Y43";

class RecognitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(Store::Init(dir_.path() / "hub", InitOptions{"440000", std::nullopt, {}}));
    PersonTokenizer tokenizer(store_->federation_key());
    token_ = tokenizer.Token(IdScheme::kPrcResidentId, kId).token;
  }

  // Writes `records` as origin's change log, the way the exchange would.
  void Relay(const std::string& origin, std::vector<CanonicalRecord> records) {
    std::vector<ChangeEntry> entries;
    Hash256 prev{};
    std::int64_t seq = store_->Tip(origin).seq;
    if (seq > 0) prev = store_->Tip(origin).hash;
    for (auto& record : records) {
      record.provenance.origin_region = origin;
      ChangeEntry e;
      e.origin = origin;
      e.seq = ++seq;
      e.record_id = record.record_id;
      e.version = record.version;
      e.body = EncodeSingleObject(record);
      e.record_hash = RecordHash(e.body);
      e.prev_hash = prev;
      e.entry_hash = EntryHash(e);
      prev = e.entry_hash;
      entries.push_back(std::move(e));
    }
    SignedHead head{origin, seq, prev, {}};
    store_->ApplyVerifiedBatch(origin, entries, head);
  }

  CanonicalRecord Person(CanonicalRecord record) {
    std::visit(
        [this](auto& body) {
          if constexpr (requires { body.person; }) {
            body.person.tokens = {{IdScheme::kPrcResidentId, token_}};
          }
        },
        record.body);
    record.provenance.profile = "test";
    return record;
  }

  void Populate() {
    auto sh =
        Person(mapping::testing::MakeAssessment("310000", "SH_CARE_NEEDS", "4", "2025-03-01"));
    sh.record_id = MakeRecordId("310000", RecordKind::kAssessment, "A1");
    auto old =
        Person(mapping::testing::MakeAssessment("310000", "SH_CARE_NEEDS", "2", "2024-01-10"));
    old.record_id = MakeRecordId("310000", RecordKind::kAssessment, "A0");
    Relay("310000", {old, sh});
    auto cert =
        Person(mapping::testing::MakeCaregiver("340000", "CN_CAREGIVER_SKILL", "3", "2022-05-01"));
    cert.record_id = MakeRecordId("340000", RecordKind::kCaregiver, "C1");
    auto home = mapping::testing::MakeFacility("320000", "GBT37276", "4", "2025-01-05", kUscc);
    home.record_id = MakeRecordId("320000", RecordKind::kFacility, "F1");
    Relay("340000", {cert});
    Relay("320000", {home});
  }

  void Sanction() {
    auto notice =
        mapping::testing::MakePersonSanction("330000", "x", 0, "2025-04-01", std::nullopt);
    notice.record_id = MakeRecordId("330000", RecordKind::kSanction, "S1");
    std::get<SanctionNotice>(notice.body).subject_person->tokens = {
        {IdScheme::kPrcResidentId, token_}};
    Relay("330000", {notice});
  }

  carehub::testing::TempDir dir_;
  std::optional<Store> store_;
  Hmac256 token_{};
  const mapping::RuleBook book_ = mapping::RuleBook::Load();
};

TEST_F(RecognitionsTest, PersonRecordsAreDecidedWithReasons) {
  Populate();
  Recognizer recognizer(*store_, book_);
  auto items = recognizer.ForPerson({token_}, R("440400"), D("2025-05-01"));
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].record.kind(), RecordKind::kAssessment);  // oldest first within a kind
  EXPECT_EQ(items[0].decision.outcome, mapping::Outcome::kReassessmentRequired);
  EXPECT_EQ(items[1].decision.outcome, mapping::Outcome::kRecognised);
  EXPECT_EQ(mapping::TargetCode(items[1].decision, book_), "3");
  EXPECT_EQ(items[2].record.kind(), RecordKind::kCaregiver);
  EXPECT_EQ(items[2].decision.outcome, mapping::Outcome::kRecognised);
}

TEST_F(RecognitionsTest, SanctionFromAnotherRegionBlocksTheCaregiver) {
  Populate();
  Sanction();
  Recognizer recognizer(*store_, book_);
  EXPECT_EQ(recognizer.sanctions().size(), 1u);
  auto items = recognizer.ForPerson({token_}, R("440400"), D("2025-05-01"));
  ASSERT_EQ(items.size(), 4u);  // the notice against the person is shown too
  const auto& cert = items[2];
  ASSERT_EQ(cert.record.kind(), RecordKind::kCaregiver);
  EXPECT_EQ(cert.decision.outcome, mapping::Outcome::kNotRecognised);
  ASSERT_NE(cert.decision.sanction, nullptr);
  EXPECT_EQ(cert.decision.sanction->issuing_region, "330000");
}

TEST_F(RecognitionsTest, FacilityByUscc) {
  Populate();
  Recognizer recognizer(*store_, book_);
  auto items = recognizer.ForOrganisation(kUscc, R("440300"), D("2025-05-01"));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].decision.outcome, mapping::Outcome::kRecognised);
  EXPECT_EQ(items[0].decision.PolicyText(), "region-440000@1");
}

TEST_F(RecognitionsTest, DecideAllWritesOneRowPerRecordAndReDecidesOnNewRules) {
  Populate();
  Sanction();
  {
    Recognizer recognizer(*store_, book_);
    auto summary = recognizer.DecideAll(R("440400"), D("2025-05-01"), 1234);
    EXPECT_EQ(summary.records, 5);
    EXPECT_EQ((summary.by_outcome_origin[{"not_recognised", "340000"}]), 1);
    EXPECT_EQ((summary.by_outcome_origin[{"reassessment_required", "310000"}]), 1);
  }
  sqlite::Statement count(store_->db(),
                          "SELECT count(*) FROM recognitions WHERE target = '440400'");
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.ColumnInt(0), 5);
  count.Reset();
  sqlite::Statement rule(store_->db(),
                         "SELECT rule, outcome, target_code, sanction_id FROM recognitions "
                         "WHERE record_id = ?1");
  rule.Bind(1, MakeRecordId("310000", RecordKind::kAssessment, "A1"));
  ASSERT_TRUE(rule.Step());
  EXPECT_EQ(rule.ColumnText(0), "sh-care-needs.to-pivot@1");
  EXPECT_EQ(rule.ColumnText(1), "recognised");
  EXPECT_EQ(rule.ColumnText(2), "3");
  rule.Reset();
  rule.Bind(1, MakeRecordId("340000", RecordKind::kCaregiver, "C1"));
  ASSERT_TRUE(rule.Step());
  EXPECT_EQ(rule.ColumnText(3), MakeRecordId("330000", RecordKind::kSanction, "S1"));
  rule.Reset();

  // Version 2 of the Shanghai crosswalk: the next run shows it in every row it decided.
  carehub::testing::TempDir rules;
  for (auto f : mapping::EmbeddedRuleFiles()) {
    if (f.path == "sh_care_needs.to_pivot.json") {
      f.content.replace(f.content.find("\"version\": 1"), 12, "\"version\": 2");
    }
    std::ofstream(rules / f.path, std::ios::binary) << f.content;
  }
  const auto v2 = mapping::RuleBook::Load(rules.path().string());
  Recognizer again(*store_, v2);
  again.DecideAll(R("440400"), D("2025-05-01"), 5678);
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.ColumnInt(0), 5);
  rule.Bind(1, MakeRecordId("310000", RecordKind::kAssessment, "A1"));
  ASSERT_TRUE(rule.Step());
  EXPECT_EQ(rule.ColumnText(0), "sh-care-needs.to-pivot@2");
}

TEST_F(RecognitionsTest, CliNeverPrintsTheIdentifier) {
  Populate();
  const std::string hub = (dir_.path() / "hub").string();
  store_.reset();
  std::string out;
  ASSERT_EQ(carehub::testing::RunCommand(carehub::testing::CarehubBinary() + " recognize --dir " +
                                             hub + " --id " + kId + " --to 440400 --on 2025-05-01",
                                         &out),
            0);
  EXPECT_EQ(out.find(kId), std::string::npos);
  EXPECT_NE(out.find("sh-care-needs.to-pivot@1"), std::string::npos) << out;
  EXPECT_NE(out.find("recognised"), std::string::npos);
  ASSERT_EQ(carehub::testing::RunCommand(carehub::testing::CarehubBinary() + " recognize --dir " +
                                             hub + " --all --to zh --on 2025-05-01",
                                         &out),
            2);  // bad alias: usage error
  ASSERT_EQ(carehub::testing::RunCommand(carehub::testing::CarehubBinary() + " recognize --dir " +
                                             hub + " --all --to 440400 --on 2025-05-01",
                                         &out),
            0);
  EXPECT_NE(out.find("decided 4 records"), std::string::npos) << out;
}

}  // namespace
}  // namespace carehub
