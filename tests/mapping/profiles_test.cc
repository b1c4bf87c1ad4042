// The rules against the connector profiles (connectors/profiles/<region>/<kind>.json): every
// native code a profile can put on a record is covered by the rules, for every target region,
// and the pivot the connector stores agrees with the rules' crosswalk.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "connectors/profile.h"
#include "mapping/checker.h"
#include "mapping/engine.h"
#include "tests/mapping/test_records.h"

namespace carehub::mapping {
namespace {

using testing::D;

const RuleBook& Book() {
  static const RuleBook book = RuleBook::Load();
  return book;
}

CanonicalRecord RecordFor(const Profile& profile, const std::string& scale,
                          const std::string& code) {
  switch (profile.kind) {
    case RecordKind::kAssessment:
      return testing::MakeAssessment(profile.region, scale, code, "2025-05-01");
    case RecordKind::kCaregiver:
      return testing::MakeCaregiver(profile.region, scale, code, "2025-05-01");
    default:
      return testing::MakeFacility(profile.region, scale, code, "2025-05-01", "x");
  }
}

TEST(RulesAgainstProfiles, EveryProfileCodeIsCoveredForEveryTarget) {
  int decided = 0;
  for (const Profile& profile : BuiltinProfiles()) {
    if (profile.kind == RecordKind::kSanction) continue;
    for (const LevelEntry& level : profile.scale.levels) {
      const std::string scale = level.scale.empty() ? profile.scale.code : level.scale;
      auto record = RecordFor(profile, scale, level.code);
      for (RegionCode target : Book().Regions()) {
        SanctionIndex none;
        Decision d = Decide(record, target, D("2025-06-01"), Book(), none);
        ++decided;
        for (const auto& reason : d.reasons) {
          EXPECT_NE(reason.code, ReasonCode::kUnknownScale) << profile.name << " " << scale;
          EXPECT_NE(reason.code, ReasonCode::kUnknownCode) << profile.name << " " << level.code;
          EXPECT_NE(reason.code, ReasonCode::kNoEntry) << profile.name << " " << level.code;
          EXPECT_NE(reason.code, ReasonCode::kNoRuleInForce) << profile.name << " " << scale;
        }
      }
    }
  }
  EXPECT_GT(decided, 0);
}

TEST(RulesAgainstProfiles, ConnectorPivotsAgreeWithTheRules) {
  for (const Profile& profile : BuiltinProfiles()) {
    if (profile.kind == RecordKind::kSanction) continue;
    for (const LevelEntry& level : profile.scale.levels) {
      const std::string scale_id = level.scale.empty() ? profile.scale.code : level.scale;
      const int scale = Book().FindScale(scale_id);
      ASSERT_GE(scale, 0) << profile.name << " " << scale_id;
      const int code = Book().scale(scale).FindCode(level.code);
      ASSERT_GE(code, 0) << profile.name << " " << level.code;
      const int pivot = Book().Pivot(profile.kind);
      std::string expected = Book().scale(scale).levels[code].code;  // identity on the pivot
      if (scale != pivot) {
        const CompiledCrosswalk* cw = Book().Crosswalk(scale, pivot, D("2025-06-01"));
        ASSERT_NE(cw, nullptr);
        const int e = cw->entry_by_level[code];
        // No pivot stored agrees with a rule that claims only related-to (Macau, HK roles).
        const Equivalence eq = cw->set->entries[e].equivalence;
        if (!level.pivot && (eq == Equivalence::kRelatedTo || eq == Equivalence::kNotRelatedTo)) {
          continue;
        }
        expected =
            cw->target_level[e] < 0 ? "" : Book().scale(pivot).levels[cw->target_level[e]].code;
      }
      EXPECT_EQ(level.pivot ? std::to_string(*level.pivot) : "", expected)
          << profile.name << " code " << level.code;
    }
  }
}

}  // namespace
}  // namespace carehub::mapping

namespace carehub::mapping {
namespace {

// What `carehub rules check` does with the built-in profiles: no errors, and no disagreement
// between the pivots the connectors store and the rules.
TEST(RulesAgainstProfiles, CheckerPassesWithEveryBuiltinProfile) {
  std::vector<ProfileCodes> profiles;
  for (const Profile& profile : BuiltinProfiles()) {
    std::map<std::string, ProfileCodes> by_scale;
    for (const LevelEntry& level : profile.scale.levels) {
      const std::string scale = level.scale.empty() ? profile.scale.code : level.scale;
      auto& codes = by_scale[scale];
      codes.profile = profile.name;
      codes.kind = profile.kind;
      codes.origin_region = profile.region;
      codes.scale = scale;
      if (std::find(codes.codes.begin(), codes.codes.end(), level.code) != codes.codes.end()) {
        continue;
      }
      codes.codes.push_back(level.code);
      codes.pivots.push_back(level.pivot);
    }
    for (auto& [scale, codes] : by_scale) profiles.push_back(codes);
  }
  EXPECT_GE(profiles.size(), 28u);
  auto report = CheckRules(EmbeddedRuleFiles(), profiles, D("2025-06-01"));
  std::string problems;
  for (const auto& f : report.findings) {
    if (f.severity == Severity::kError || f.file.rfind("profile:", 0) == 0) {
      problems += FormatFinding(f) + "\n";
    }
  }
  EXPECT_EQ(problems, "");
}

}  // namespace
}  // namespace carehub::mapping
