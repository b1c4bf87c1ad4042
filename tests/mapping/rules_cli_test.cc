// `carehub rules check|list` as a user runs it: the shipped rules pass (exit 0), a broken rules
// directory fails (exit 1) naming the file and the entry.
#include <gtest/gtest.h>

#include <fstream>

#include "mapping/rule_set.h"
#include "tests/support/temp_dir.h"

namespace carehub::mapping {
namespace {

using carehub::testing::CarehubBinary;
using carehub::testing::RunCommand;
using carehub::testing::TempDir;

TEST(RulesCli, ShippedRulesPass) {
  std::string out;
  EXPECT_EQ(RunCommand(CarehubBinary() + " rules check --on 2025-06-01", &out), 0) << out;
  EXPECT_NE(out.find(", 0 errors,"), std::string::npos) << out;
  EXPECT_NE(out.find("warning: "), std::string::npos);  // lossy compositions are reported
  EXPECT_NE(out.find("info: sh_care_needs.to_pivot.json: sh-care-needs.to-pivot@1"),
            std::string::npos);
}

TEST(RulesCli, BrokenDirectoryFailsWithFileAndEntry) {
  TempDir dir;
  for (auto file : EmbeddedRuleFiles()) {
    if (file.path == "mzt039.from_pivot.json") {
      // P3 -> 重度失能 becomes P3 -> 轻度失能: below P2's target.
      const std::string from = "\"from\": \"3\",\n      \"to\": \"3\"";
      file.content.replace(file.content.find(from), from.size(),
                           "\"from\": \"3\",\n      \"to\": \"1\"");
    }
    std::ofstream(dir / file.path, std::ios::binary) << file.content;
  }
  std::string out;
  EXPECT_EQ(
      RunCommand(CarehubBinary() + " rules check --quiet --rules " + dir.path().string(), &out), 1)
      << out;
  EXPECT_NE(out.find("error: mzt039.from_pivot.json: entries[3] (from '3'): not monotone"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("info: "), std::string::npos);  // --quiet
}

TEST(RulesCli, ListShowsEveryRuleSet) {
  std::string out;
  EXPECT_EQ(RunCommand(CarehubBinary() + " rules list", &out), 0);
  EXPECT_NE(out.find("region.440400.json\tregion-440400@1\tregion 440400 Zhuhai 珠海市"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hk_scnames.zhuhai.json\thk-scnames.zhuhai@1\tHK_SCNAMES -> GBT42195"),
            std::string::npos);
}

}  // namespace
}  // namespace carehub::mapping
