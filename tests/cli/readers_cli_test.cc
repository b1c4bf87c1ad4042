// Issue 14 through the `carehub` binary: ingest limits as flags, quarantine --open/--all,
// export --out - (stdout) and --out onto a symbolic link.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

class ReadersCliTest : public ::testing::Test {
 protected:
  ReadersCliTest() {
    EXPECT_EQ(Run("init --dir " + Hub() + " --region hk"), 0) << out_;
    std::ofstream(dir_ / "homes.csv")
        << "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,status\n"
           "HK-1,RCHE-1,Sunrise Home,NH (Cap. 165),10,01/02/2024,,valid\n"
           "HK-2,RCHE-2,Moon Home,NH (Cap. 165),10,31/02/2024,,valid\n";
  }
  std::string Hub() const { return (dir_ / "hub").string(); }
  int Run(const std::string& args, bool merge_stderr = true) {
    out_.clear();
    return testing::RunCommand(
        testing::CarehubBinary() + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null"), &out_);
  }

  testing::TempDir dir_;
  std::string out_;
};

TEST_F(ReadersCliTest, FieldLimitFlagQuarantinesLongValues) {
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility --max-field-bytes 10 " +
                (dir_ / "homes.csv").string()),
            0)
      << out_;
  EXPECT_NE(out_.find("read=2 accepted=0 quarantined=2"), std::string::npos) << out_;
  ASSERT_EQ(Run("quarantine --dir " + Hub()), 0);
  EXPECT_NE(out_.find("home_name\tmalformed_row: the value is longer than the field limit of 10"),
            std::string::npos)
      << out_;
  EXPECT_NE(Run("ingest --dir " + Hub() + " --max-row-bytes 0 " + (dir_ / "homes.csv").string()),
            0);
}

TEST_F(ReadersCliTest, QuarantineOpenAndAll) {
  const std::string file = (dir_ / "homes.csv").string();
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility " + file), 0) << out_;
  std::ofstream(file)
      << "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,status\n"
         "HK-1,RCHE-1,Sunrise Home,NH (Cap. 165),10,01/02/2024,,valid\n"
         "HK-2,RCHE-2,Moon Home,NH (Cap. 165),10,28/02/2024,,valid\n";
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility " + file), 0) << out_;
  ASSERT_EQ(Run("quarantine --dir " + Hub() + " --open"), 0);
  EXPECT_NE(out_.find("total=0 shown=0"), std::string::npos) << out_;
  ASSERT_EQ(Run("quarantine --dir " + Hub() + " --all"), 0);
  EXPECT_NE(out_.find("bad_date"), std::string::npos) << out_;
  EXPECT_NE(out_.find("resolved by run"), std::string::npos) << out_;
  EXPECT_NE(Run("quarantine --dir " + Hub() + " --open --all"), 0);
}

TEST_F(ReadersCliTest, QuarantineReplayReportsEachOpenRow) {
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility " +
                (dir_ / "homes.csv").string()),
            0);
  ASSERT_EQ(Run("quarantine replay --dir " + Hub() + " --run 1"), 0) << out_;
  EXPECT_NE(out_.find("2\tbad_date: "), std::string::npos) << out_;
  EXPECT_NE(out_.find("run=1 open=1 now_accepted=0 reason_changed=0 unchanged=1"),
            std::string::npos)
      << out_;
  EXPECT_NE(Run("quarantine replay --dir " + Hub() + " --run 7"), 0);  // no such run
}

TEST_F(ReadersCliTest, ExportToStdoutAndOntoSymlinks) {
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility " +
                (dir_ / "homes.csv").string()),
            0);
  ASSERT_EQ(Run("export --dir " + Hub() + " --kind facility --format csv --out -", false), 0);
  std::istringstream lines(out_);
  int n = 0;
  for (std::string line; std::getline(lines, line);) ++n;
  EXPECT_EQ(n, 2);  // header + the one stored record; the summary went to stderr
  const fs::path target = dir_ / "keep.txt";
  std::ofstream(target) << "keep\n";
  fs::create_symlink(target, dir_ / "link.csv");
  const std::string to_link = "export --dir " + Hub() + " --kind facility --format csv --out " +
                              (dir_ / "link.csv").string();
  EXPECT_NE(Run(to_link), 0);
  EXPECT_NE(out_.find("is a symbolic link"), std::string::npos) << out_;
  EXPECT_EQ(Run(to_link + " --force"), 0) << out_;
  EXPECT_FALSE(fs::is_symlink(dir_ / "link.csv"));
  std::ifstream kept(target);
  std::string text;
  std::getline(kept, text);
  EXPECT_EQ(text, "keep");
}

// Issue 12: an export shows every record, so it is in the access log like any read of personal
// data.
TEST_F(ReadersCliTest, ExportIsWrittenToTheAccessLog) {
  ASSERT_EQ(Run("ingest --dir " + Hub() + " --profile hongkong/facility " +
                (dir_ / "homes.csv").string()),
            0);
  ASSERT_EQ(Run("audit --dir " + Hub()), 0) << out_;
  EXPECT_EQ(out_.find("carehub export"), std::string::npos) << out_;
  ASSERT_EQ(Run("export --dir " + Hub() + " --kind facility --format avro --out " +
                (dir_ / "all.avro").string()),
            0)
      << out_;
  ASSERT_EQ(Run("audit --dir " + Hub()), 0) << out_;
  EXPECT_NE(out_.find("carehub export --format avro"), std::string::npos) << out_;
}

}  // namespace
}  // namespace carehub
