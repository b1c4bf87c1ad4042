// `carehub demo --exit`, the README's first command, end to end with small files: seven hubs
// ingest, sync through relays until their digests agree, a relocating Shanghai resident is
// recognised at the Guangdong hub, a caregiver sanctioned in another region is blocked, an Avro
// export any reader opens, every hub's HTTP API up and a published release served over it. The
// checks read the demo's own output and then ask the hubs it leaves behind directly (digest,
// python3-avro, catalog.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr const char* kAliases[] = {"sh", "js", "zj", "ah", "gd", "hk", "mo"};

struct SummaryRow {
  std::vector<long> by_origin;  // records held, one per hub column (sh js zj ah gd hk mo)
  long read = 0, accepted = 0, quarantined = 0;
};

// The "records held by each hub" table: a label, seven counts, read, accepted, quarantined.
std::vector<SummaryRow> ParseSummary(const std::string& out) {
  std::vector<SummaryRow> rows;
  std::istringstream in(out.substr(out.find("records held by each hub")));
  std::string line;
  std::getline(in, line);  // title
  std::getline(in, line);  // header
  const std::regex row_pattern(R"(^[A-Za-z ]+?((?:\s+\d+){10})\s*$)");
  while (std::getline(in, line) && rows.size() < 7) {
    std::smatch match;
    if (!std::regex_match(line, match, row_pattern)) break;
    std::istringstream numbers(match[1].str());
    SummaryRow row;
    for (int i = 0; i < 7; ++i) row.by_origin.push_back(0), numbers >> row.by_origin.back();
    numbers >> row.read >> row.accepted >> row.quarantined;
    rows.push_back(row);
  }
  return rows;
}

std::string Shell(const std::string& command, int* status = nullptr) {
  std::string out;
  const int rc = testing::RunCommand(command + " 2>&1", &out);
  if (status != nullptr) *status = rc;
  return out;
}

TEST(DemoTest, SevenHubsSyncThroughRelaysRecogniseBlockExportAndPublish) {
  TempDir tmp;
  const fs::path dir = tmp / "demo";
  int status = -1;
  const std::string out =
      Shell(testing::CarehubBinary() + " demo --exit --rows 300 --dir " + dir.string(), &status);
  ASSERT_EQ(status, 0) << out;

  // Every hub holds every origin's records, as many as that origin accepted, and its own files
  // balance: read = accepted + quarantined.
  EXPECT_NE(out.find("digests equal on all hubs: yes"), std::string::npos) << out;
  const std::vector<SummaryRow> rows = ParseSummary(out);
  ASSERT_EQ(rows.size(), 7u) << out;
  for (std::size_t hub = 0; hub < rows.size(); ++hub) {
    EXPECT_EQ(rows[hub].read, rows[hub].accepted + rows[hub].quarantined) << kAliases[hub];
    EXPECT_EQ(rows[hub].read, 4 * 300) << kAliases[hub];
    EXPECT_GT(rows[hub].quarantined, 0) << kAliases[hub];
    for (std::size_t origin = 0; origin < rows.size(); ++origin) {
      EXPECT_EQ(rows[hub].by_origin[origin], rows[origin].accepted)
          << kAliases[hub] << " holds origin " << kAliases[origin];
    }
  }

  // The hubs left behind agree when asked directly, including those that only hear Shanghai
  // through a relay (Anhui via Jiangsu, Macau via Guangdong).
  const std::string anhui =
      Shell(testing::CarehubBinary() + " digest --dir " + (dir / "ah").string());
  const std::string macau =
      Shell(testing::CarehubBinary() + " digest --dir " + (dir / "mo").string());
  EXPECT_EQ(std::count(anhui.begin(), anhui.end(), '\n'), 7) << anhui;
  EXPECT_EQ(anhui, macau);
  EXPECT_NE(anhui.find("origin=310000 "), std::string::npos);

  // The relocating resident: recognised in Zhuhai with a rule and a legal basis.
  const auto resident = out.find("a Shanghai resident relocating to Zhuhai");
  ASSERT_NE(resident, std::string::npos) << out;
  const std::string decision = out.substr(resident, out.find("\n== ", resident + 1) - resident);
  EXPECT_NE(decision.find("=> recognised: GBT42195"), std::string::npos) << decision;
  EXPECT_NE(decision.find("     rule "), std::string::npos) << decision;
  EXPECT_NE(decision.find("legal basis"), std::string::npos) << decision;
  EXPECT_FALSE(std::regex_search(out, std::regex(R"(\b\d{17}[\dX]\b)")))
      << "no resident identity number is printed";

  // The sanctioned caregiver: not recognised, blocked by a notice from another region.
  const auto caregiver = out.find("== a caregiver certified in");
  ASSERT_NE(caregiver, std::string::npos) << out;
  EXPECT_NE(out.find("=> not_recognised", caregiver), std::string::npos) << out;
  EXPECT_NE(out.find("blocked by sanction notice", caregiver), std::string::npos) << out;

  // The Avro export opens in another implementation with records in it.
  const fs::path avro = dir / "shanghai-assessments.avro";
  ASSERT_TRUE(fs::exists(avro)) << out;
  const std::string count = Shell(
      "/usr/bin/python3 -c 'import sys, avro.datafile, avro.io; "
      "r = avro.datafile.DataFileReader(open(sys.argv[1], \"rb\"), avro.io.DatumReader()); "
      "print(sum(1 for _ in r))' " +
      avro.string());
  EXPECT_GT(std::stol(count), 0) << count;

  // Every hub answered on HTTP; the published release exists and the Shanghai hub served it.
  EXPECT_NE(out.find("7 of 7 up"), std::string::npos) << out;
  EXPECT_TRUE(fs::exists(dir / "open-data" / "demo-1" / "catalog.json")) << out;
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(GET http://127\.0\.0\.1:\d+/v1/datasets/demo-1 -> 200)")))
      << out;
}

// SIGTERM (or Ctrl-C) while the demo generates and ingests its 28 native files ends it there,
// with the reason, instead of after every file has been ingested and the hubs started.
TEST(DemoTest, SigtermDuringTheIngestStopsTheDemoBeforeTheNextFile) {
  TempDir tmp;
  const fs::path dir = tmp / "demo";
  const fs::path native = dir / "native";
  const std::string script = "(" + testing::CarehubBinary() + " demo --exit --rows 2000 --dir " +
                             dir.string() + " & pid=$!; " + "for i in $(seq 1200); do [ \"$(ls " +
                             native.string() +
                             " 2>/dev/null | wc -l)\" -ge 2 ] && break; sleep 0.1; done; " +
                             "kill -TERM $pid; wait $pid; echo \"status=$?\")";
  const std::string out = Shell(script);
  EXPECT_EQ(out.find("status=0"), std::string::npos) << out;
  EXPECT_NE(out.find("demo interrupted; the hubs were stopped"), std::string::npos) << out;
  const auto files = std::distance(fs::directory_iterator(native), fs::directory_iterator());
  EXPECT_GE(files, 2) << out;
  EXPECT_LE(files, 3) << "the demo went on generating files after SIGTERM\n" << out;
  EXPECT_EQ(out.find("start hubs"), std::string::npos) << out;
}

}  // namespace
}  // namespace carehub
