// The research tables (hub/publish/research_tables.h) on hand-made records: persons are
// counted once per group at their latest level, notices as records, the caregiver stock keeps
// only qualifications valid on the quarter end at the person's highest level, and contribution
// bounding leaves at most k contributions of one person in a table.
#include "hub/publish/research_tables.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace carehub {
namespace {

CanonicalRecord AssessmentOf(std::uint8_t person, const char* on, int pivot, const char* region) {
  CanonicalRecord record;
  record.record_id = "a" + std::to_string(person) + on;
  Assessment a;
  PersonToken token;
  token.token.fill(person);
  a.person.tokens = {token};
  a.person.birth_year = 1940;
  a.person.sex = Sex::kFemale;
  a.person.residence_region = region;
  a.native = {"GBT42195", std::to_string(pivot), ""};
  a.pivot = PivotLevel();
  a.pivot->level = pivot;
  a.assessed_on = *ParseIsoDate(on);
  record.body = a;
  return record;
}

CanonicalRecord SanctionOf(std::uint8_t person, const char* on, SanctionType type) {
  CanonicalRecord record;
  record.record_id = "s" + std::to_string(person) + on + std::to_string(static_cast<int>(type));
  SanctionNotice s;
  s.subject_kind = SubjectKind::kPerson;
  PersonRef subject;
  PersonToken token;
  token.token.fill(person);
  subject.tokens = {token};
  subject.residence_region = "440304";
  s.subject_person = subject;
  s.sanction_type = type;
  s.decided_on = *ParseIsoDate(on);
  s.issuing_region = "440000";
  record.body = s;
  return record;
}

CanonicalRecord CaregiverOf(std::uint8_t person, const char* issued,
                            std::optional<const char*> until, int level, RecordStatus status) {
  CanonicalRecord record;
  record.record_id = "c" + std::to_string(person) + issued + std::to_string(level);
  record.status = status;
  CaregiverQualification c;
  PersonToken token;
  token.token.fill(person);
  c.person.tokens = {token};
  c.person.residence_region = "440304";
  c.native = {"CN_CAREGIVER_SKILL", std::to_string(level), ""};
  c.pivot = PivotLevel();
  c.pivot->level = level;
  c.issued_on = *ParseIsoDate(issued);
  if (until) c.valid_until = ParseIsoDate(*until);
  record.body = c;
  return record;
}

// The true (bounded) count of one row of a table, found by its key values.
std::int64_t TrueCell(const TableInput& table, const TrueCounts& truth, const std::string& geo,
                      const std::string& period, const std::vector<std::string>& extras,
                      const std::string& cls) {
  for (std::size_t g = 0; g < table.groups.size(); ++g) {
    const TableGroup& group = table.groups[g];
    if (group.geo != geo || group.period != period || group.extras != extras) continue;
    for (std::size_t c = 0; c < group.classes->size(); ++c) {
      if ((*group.classes)[c] == cls) return truth.cells[g][c];
    }
  }
  ADD_FAILURE() << "no row " << geo << " " << period << " " << cls;
  return -1;
}

TEST(PublishTablesTest, PeopleAreCountedOnceAtTheirLatestLevelAndNoticesAsRecords) {
  TableCollector collector;
  // Person 1: three assessments in 2025Q2 (latest: level 3), one in 2025Q3. Person 2: one.
  collector.Add(AssessmentOf(1, "2025-04-02", 1, "440304"), "440000");
  collector.Add(AssessmentOf(1, "2025-05-02", 2, "440304"), "440000");
  collector.Add(AssessmentOf(1, "2025-06-02", 3, "440304"), "440000");
  collector.Add(AssessmentOf(1, "2025-08-02", 3, "440304"), "440000");
  collector.Add(AssessmentOf(2, "2025-05-09", 1, "440304"), "440000");
  // Person 3: three notices in one year: two are counted (records, at most 2 per subject).
  collector.Add(SanctionOf(3, "2025-02-01", SanctionType::kPenalty), "440000");
  collector.Add(SanctionOf(3, "2025-03-01", SanctionType::kPenalty), "440000");
  collector.Add(SanctionOf(3, "2025-04-01", SanctionType::kBlacklist), "440000");
  // Caregivers: 4 active at level 2 and at level 4 (counted once, at 2); 5 revoked; 6 expired
  // on 2025-07-01; 7 issued after the quarter end.
  collector.Add(CaregiverOf(4, "2024-01-10", std::nullopt, 2, RecordStatus::kActive), "440000");
  collector.Add(CaregiverOf(4, "2023-01-10", std::nullopt, 4, RecordStatus::kActive), "440000");
  collector.Add(CaregiverOf(5, "2024-01-10", std::nullopt, 3, RecordStatus::kRevoked), "440000");
  collector.Add(CaregiverOf(6, "2024-01-10", "2025-07-01", 3, RecordStatus::kExpired), "440000");
  collector.Add(CaregiverOf(7, "2025-12-01", std::nullopt, 3, RecordStatus::kActive), "440000");
  std::vector<TableInput> tables = collector.Finish();
  ASSERT_EQ(tables.size(), 5u);
  std::vector<TrueCounts> truths;
  for (TableInput& table : tables) truths.push_back(BoundContributions(table));
  const std::vector<std::string> pivot = {"PIVOT_GBT42195"};
  EXPECT_EQ(TrueCell(tables[0], truths[0], "440300", "2025Q2", pivot, "3"), 1);
  EXPECT_EQ(TrueCell(tables[0], truths[0], "440300", "2025Q2", pivot, "1"), 1);  // person 2
  EXPECT_EQ(TrueCell(tables[0], truths[0], "440300", "2025Q2", pivot, "2"), 0);
  EXPECT_EQ(TrueCell(tables[0], truths[0], "440300", "2025Q3", pivot, "3"), 1);
  EXPECT_EQ(TrueCell(tables[0], truths[0], "440300", "2025Q2", {"GBT42195"}, "3"), 1);
  // Province x year x age x sex: person 1 once in 2025 (latest: level 3, age 85).
  EXPECT_EQ(TrueCell(tables[1], truths[1], "440000", "2025", {"80-89", "F"}, "3"), 1);
  EXPECT_EQ(TrueCell(tables[1], truths[1], "440000", "2025", {"80-89", "F"}, "1"), 1);
  // Sanctions: the two latest notices of person 3.
  EXPECT_EQ(TrueCell(tables[4], truths[4], "440000", "2025", {"BLACKLIST"}, "person"), 1);
  EXPECT_EQ(TrueCell(tables[4], truths[4], "440000", "2025", {"PENALTY"}, "person"), 1);
  EXPECT_EQ(truths[4].contributions_dropped, 1);
  // Caregivers on 2025-06-30: 4 (level 2) and 6; on 2025-09-30: only 4.
  EXPECT_EQ(TrueCell(tables[2], truths[2], "440300", "2025-06-30", {}, "2"), 1);
  EXPECT_EQ(TrueCell(tables[2], truths[2], "440300", "2025-06-30", {}, "4"), 0);
  EXPECT_EQ(TrueCell(tables[2], truths[2], "440300", "2025-06-30", {}, "3"), 1);
  EXPECT_EQ(TrueCell(tables[2], truths[2], "440300", "2025-09-30", {}, "3"), 0);
  EXPECT_EQ(TrueCell(tables[2], truths[2], "440300", "2025-09-30", {}, "2"), 1);
  EXPECT_EQ(tables[2].groups.back().period, "2025-12-31");  // up to the latest issue date
}

TEST(PublishTablesTest, OnePersonChangesAtMostKCellsOfATable) {
  TableCollector collector;
  // Twenty quarters of assessments of one person: only the six latest contributions remain.
  for (int year = 2020; year < 2025; ++year) {
    for (const char* md : {"-02-01", "-05-01", "-08-01", "-11-01"}) {
      collector.Add(AssessmentOf(9, (std::to_string(year) + md).c_str(), 2, "440304"), "440000");
    }
  }
  std::vector<TableInput> tables = collector.Finish();
  const TrueCounts truth = BoundContributions(tables[0]);
  std::int64_t cells = 0, totals = 0;
  for (std::size_t g = 0; g < truth.cells.size(); ++g) {
    totals += truth.totals[g];
    for (std::int64_t c : truth.cells[g]) {
      EXPECT_LE(c, 1);
      cells += c;
    }
  }
  EXPECT_EQ(cells, tables[0].spec->max_contributions);
  EXPECT_EQ(totals, tables[0].spec->max_contributions);
  EXPECT_EQ(TrueCell(tables[0], truth, "440300", "2024Q4", {"PIVOT_GBT42195"}, "2"), 1);
  EXPECT_EQ(TrueCell(tables[0], truth, "440300", "2020Q1", {"PIVOT_GBT42195"}, "2"), 0);
}

}  // namespace
}  // namespace carehub
