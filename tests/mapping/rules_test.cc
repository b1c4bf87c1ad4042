// Properties of every shipped rule set (monotone, total, A -> B -> A never raises a level, the
// checker passes), the checker finding seeded mistakes with file and entry, and a rule version
// change being visible in the decisions made under it.
#include <gtest/gtest.h>

#include <fstream>

#include "mapping/checker.h"
#include "mapping/engine.h"
#include "schemas/error.h"
#include "tests/mapping/test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub::mapping {
namespace {

using testing::D;
using testing::R;

const RuleBook& Book() {
  static const RuleBook book = RuleBook::Load();
  return book;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The shipped files with one of them edited (`from` replaced by `to`, which must occur).
std::vector<RuleFile> Edited(const std::string& file, const std::string& from,
                             const std::string& to) {
  auto files = EmbeddedRuleFiles();
  bool found = false;
  for (auto& f : files) {
    if (f.path != file) continue;
    auto at = f.content.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) f.content.replace(at, from.size(), to);
    found = true;
  }
  EXPECT_TRUE(found) << file;
  return files;
}

std::string Errors(const CheckReport& report) {
  std::string text;
  for (const auto& f : report.findings) {
    if (f.severity == Severity::kError) text += FormatFinding(f) + "\n";
  }
  return text;
}

TEST(RuleProperties, ShippedRulesPassTheChecker) {
  auto report = CheckRules(EmbeddedRuleFiles(), {}, D("2025-06-01"));
  EXPECT_EQ(report.errors(), 0) << Errors(report);
  EXPECT_GT(report.warnings(), 0);  // SH 2-3 -> P2 and others are lossy, and say so
}

TEST(RuleProperties, EveryCrosswalkIsMonotoneAndTotal) {
  for (const auto& cw : Book().crosswalks()) {
    SCOPED_TRACE(cw.set->file);
    const Scale& source = Book().scale(cw.source_scale);
    const Scale& target = Book().scale(cw.target_scale);
    int last = -1;
    for (std::size_t level = 0; level < source.levels.size(); ++level) {
      const int e = cw.entry_by_level[level];
      ASSERT_GE(e, 0) << "no entry for " << source.levels[level].code;
      if (!source.ordered || !target.ordered || cw.target_level[e] < 0) continue;
      EXPECT_GE(cw.target_level[e], last) << source.levels[level].code;
      last = cw.target_level[e];
    }
  }
}

TEST(RuleProperties, EveryScaleReachesItsPivotBothWays) {
  for (int s = 0; s < Book().scale_count(); ++s) {
    const int pivot = Book().Pivot(Book().scale(s).kind);
    if (pivot < 0 || pivot == s) continue;
    EXPECT_NE(Book().Crosswalk(s, pivot, D("2025-06-01")), nullptr) << Book().scale(s).id;
    EXPECT_NE(Book().Crosswalk(pivot, s, D("2025-06-01")), nullptr) << Book().scale(s).id;
  }
}

// For every pair of regions and every level of the origin's scale, going there and back never
// ends above where it started (lower-level rule of domain.md §2.1).
TEST(RuleProperties, RoundTripNeverRaisesALevel) {
  SanctionIndex none;
  const Date on = D("2025-06-01");
  int trips = 0;
  for (RecordKind kind : {RecordKind::kAssessment, RecordKind::kCaregiver, RecordKind::kFacility}) {
    for (RegionCode a : Book().Regions()) {
      const ResolvedPolicy pa = Book().Policy(a, kind, on);
      for (RegionCode b : Book().Regions()) {
        const ResolvedPolicy pb = Book().Policy(b, kind, on);
        const Scale& sa = Book().scale(pa.scale);
        for (int level = 0; level < static_cast<int>(sa.levels.size()); ++level) {
          auto make = [&](RegionCode origin, const Scale& scale, int l) {
            if (kind == RecordKind::kAssessment) {
              return testing::MakeAssessment(origin.ToString(), scale.id, scale.levels[l].code,
                                             "2025-05-01");
            }
            if (kind == RecordKind::kCaregiver) {
              return testing::MakeCaregiver(origin.ToString(), scale.id, scale.levels[l].code,
                                            "2025-05-01");
            }
            return testing::MakeFacility(origin.ToString(), scale.id, scale.levels[l].code,
                                         "2025-05-01", "x");
          };
          Decision there = Decide(make(a, sa, level), b, on, Book(), none);
          if (there.target_level < 0) continue;
          const Scale& sb = Book().scale(pb.scale);
          Decision back = Decide(make(b, sb, there.target_level), a, on, Book(), none);
          if (back.target_level < 0) continue;
          ++trips;
          if (sa.ordered && sb.ordered) {
            EXPECT_LE(back.target_level, level)
                << a.ToString() << " -> " << b.ToString() << " -> " << a.ToString() << " " << sa.id
                << " " << sa.levels[level].code;
          }
        }
      }
    }
  }
  EXPECT_GT(trips, 100);
}

TEST(RuleChecker, ReportsNonMonotoneMapWithFileAndEntry) {
  auto files = Edited("sh_care_needs.to_pivot.json", "\"from\": \"4\",\n      \"to\": \"3\"",
                      "\"from\": \"4\",\n      \"to\": \"1\"");
  auto report = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_TRUE(
      Contains(Errors(report), "sh_care_needs.to_pivot.json: entries[4] (from '4'): not monotone"))
      << Errors(report);
}

TEST(RuleChecker, ReportsRoundTripThatRaisesALevel) {
  // 照护三级 -> P3 is monotone, but P3 comes back as 照护四级: Shanghai -> X -> Shanghai raises.
  auto files = Edited("sh_care_needs.to_pivot.json", "\"from\": \"3\",\n      \"to\": \"2\"",
                      "\"from\": \"3\",\n      \"to\": \"3\"");
  auto report = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_TRUE(Contains(Errors(report),
                       "round trip 310000 -> 320000 -> 310000 raises SH_CARE_NEEDS '3' to '4'"))
      << Errors(report);
}

TEST(RuleChecker, ReportsCrosswalksThatAreNotTotal) {
  // Drop the entry for NHSA level 5.
  auto files = EmbeddedRuleFiles();
  for (auto& f : files) {
    if (f.path != "nhsa_ltci.to_pivot.json") continue;
    auto start = f.content.rfind(",\n    {");
    auto end = f.content.find("}", f.content.find("\"from\": \"5\""));
    ASSERT_NE(start, std::string::npos);
    f.content.erase(start, end + 1 - start);
  }
  auto report = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_TRUE(
      Contains(Errors(report),
               "nhsa_ltci.to_pivot.json: entries: not total: no entry for NHSA_LTCI code '5'"))
      << Errors(report);
}

TEST(RuleChecker, ReportsCodesMappedTwice) {
  auto files = Edited("mzt039.from_pivot.json", "\"from\": \"4\"", "\"from\": \"3\"");
  auto report = CheckRules(files, {}, D("2025-06-01"));
  // Two entries for '3' is a compile error naming the entry.
  EXPECT_TRUE(
      Contains(Errors(report), "mzt039.from_pivot.json: entries[4] (from '3'): code mapped twice"))
      << Errors(report);
}

TEST(RuleChecker, ReportsOverlapAndGapBetweenVersions) {
  auto files = EmbeddedRuleFiles();
  RuleFile copy;
  for (const auto& f : files) {
    if (f.path == "nhsa_ltci.to_pivot.json") copy = f;
  }
  copy.path = "nhsa_ltci.to_pivot.v2.json";
  auto at = copy.content.find("\"version\": 1");
  copy.content.replace(at, 12, "\"version\": 2");
  files.push_back(copy);
  auto overlap = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_TRUE(
      Contains(Errors(overlap), "nhsa_ltci.to_pivot.v2.json: top: overlaps nhsa-ltci.to-pivot@1"))
      << Errors(overlap);

  // v1 ends 2023-12-31, v2 starts 2024-06-01: a gap.
  for (auto& f : files) {
    if (f.path == "nhsa_ltci.to_pivot.json") {
      f.content.replace(f.content.find("\"effective_to\": null"), 20,
                        "\"effective_to\": \"2023-12-31\"");
    }
    if (f.path == "nhsa_ltci.to_pivot.v2.json") {
      f.content.replace(f.content.find("\"effective_from\": \"2019-01-01\""), 30,
                        "\"effective_from\": \"2024-06-01\"");
    }
  }
  auto gap = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_TRUE(Contains(Errors(gap), "gap in effective dates for NHSA_LTCI -> GBT42195"))
      << Errors(gap);
}

TEST(RuleChecker, ReportsUncoveredProfileCodes) {
  ProfileCodes profile{"anhui/assessment",
                       RecordKind::kAssessment,
                       "340000",
                       "NHSA_LTCI",
                       {"0", "1", "2", "3", "4", "5", "6"},
                       {0, 1, 2, 4, 4, 4, 4}};
  ProfileCodes unknown{"nowhere/assessment", RecordKind::kAssessment, "", "NO_SCALE", {"1"}, {}};
  auto report = CheckRules(EmbeddedRuleFiles(), {profile, unknown}, D("2025-06-01"));
  const std::string errors = Errors(report);
  EXPECT_TRUE(Contains(errors, "profile:anhui/assessment: code '6': not a level of NHSA_LTCI"))
      << errors;
  EXPECT_TRUE(
      Contains(errors, "profile:nowhere/assessment: scale: scale 'NO_SCALE' is in no rule set"))
      << errors;
  EXPECT_EQ(report.errors(), 2);
  // NHSA level 5 is P4 in the rules, but this "connector" says 4 for it: a warning.
  std::string warnings;
  for (const auto& f : report.findings) warnings += FormatFinding(f) + "\n";
  EXPECT_TRUE(Contains(warnings,
                       "warning: profile:anhui/assessment: code '3': the connector stores "
                       "pivot '4' but nhsa-ltci.to-pivot@1 maps to '3'"))
      << warnings;
}

TEST(RuleChecker, ReportsUnparsableFiles) {
  auto files = EmbeddedRuleFiles();
  files.push_back({"broken.json", "{\"id\": \"x\", \"version\": 1, \"type\": \"crosswalk\""});
  files.push_back({"bad_equivalence.json",
                   R"({"id":"y","version":1,"type":"crosswalk","kind":"assessment",
                       "source_scale":"MZT039","target_scale":"GBT42195","effective_from":"2019-01-01",
                       "legal_basis":{"document":"x"},
                       "entries":[{"from":"0","to":"0","equivalence":"same","comment":"c"}]})"});
  auto report = CheckRules(files, {}, D("2025-06-01"));
  const std::string errors = Errors(report);
  EXPECT_TRUE(Contains(errors, "broken.json: ")) << errors;
  EXPECT_TRUE(Contains(errors, "bad_equivalence.json: top.entries[0]: unknown equivalence 'same'"))
      << errors;
}

// A new version of a rule set is visible in every decision made under it, and dated versions
// hand over to each other on their effective dates.
TEST(RuleVersions, NewVersionReDecides) {
  auto record = testing::MakeAssessment("310000", "SH_CARE_NEEDS", "3", "2025-03-01");
  SanctionIndex none;
  Decision v1 = Decide(record, R("440400"), D("2025-05-01"), Book(), none);
  EXPECT_EQ(v1.RuleText(), "sh-care-needs.to-pivot@1");
  EXPECT_EQ(TargetCode(v1, Book()), "2");

  // Version 2 from 2025-04-01 calls 照护三级 -> P2 only related-to (say, after a review found
  // the two scales measure different things); version 1 ends the day before.
  auto files = EmbeddedRuleFiles();
  RuleFile v2;
  for (auto& f : files) {
    if (f.path != "sh_care_needs.to_pivot.json") continue;
    v2 = f;
    f.content.replace(f.content.find("\"effective_to\": null"), 20,
                      "\"effective_to\": \"2025-03-31\"");
  }
  v2.path = "sh_care_needs.to_pivot.v2.json";
  v2.content.replace(v2.content.find("\"version\": 1"), 12, "\"version\": 2");
  v2.content.replace(v2.content.find("\"effective_from\": \"2019-01-01\""), 30,
                     "\"effective_from\": \"2025-04-01\"");
  const std::string old_entry =
      "\"from\": \"3\",\n      \"to\": \"2\",\n      \"equivalence\": "
      "\"source-is-narrower-than-target\"";
  ASSERT_NE(v2.content.find(old_entry), std::string::npos);
  v2.content.replace(
      v2.content.find(old_entry), old_entry.size(),
      "\"from\": \"3\",\n      \"to\": \"2\",\n      \"equivalence\": \"related-to\"");
  files.push_back(v2);
  auto check = CheckRules(files, {}, D("2025-06-01"));
  EXPECT_EQ(check.errors(), 0) << Errors(check);

  // Through a rules directory, as `--rules DIR` does.
  carehub::testing::TempDir dir;
  for (const auto& f : files) std::ofstream(dir / f.path, std::ios::binary) << f.content;
  RuleBook book = RuleBook::Load(dir.path().string());
  Decision after = Decide(record, R("440400"), D("2025-05-01"), book, none);
  EXPECT_EQ(after.RuleText(), "sh-care-needs.to-pivot@2");
  EXPECT_EQ(after.equivalence, Equivalence::kRelatedTo);
  Decision before = Decide(record, R("440400"), D("2025-03-15"), book, none);
  EXPECT_EQ(before.RuleText(), "sh-care-needs.to-pivot@1");
  EXPECT_EQ(before.equivalence, Equivalence::kSourceNarrower);
}

TEST(RuleBookLoad, RejectsReferencesThatDoNotResolve) {
  auto files = Edited("mzt039.to_pivot.json", "\"to\": \"2\"", "\"to\": \"7\"");
  std::vector<RuleSet> sets;
  for (const auto& f : files) sets.push_back(ParseRuleSet(f));
  try {
    RuleBook book(std::move(sets));
    FAIL() << "compiled";
  } catch (const Error& e) {
    EXPECT_TRUE(Contains(e.what(),
                         "mzt039.to_pivot.json: entries[2] (from '2'): target '7' not in GBT42195"))
        << e.what();
  }
}

}  // namespace
}  // namespace carehub::mapping
