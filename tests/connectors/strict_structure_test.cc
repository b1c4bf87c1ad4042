// Issue 14, strict structure: whatever a file holds after, between or instead of its records is
// quarantined or refused with a reason naming file, row and field; nothing is dropped or chosen
// in silence, and read = accepted + quarantined counts every record-shaped thing.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/json_reader.h"
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

class CollectSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&& r) override { records.push_back(std::move(r)); }
  void Reject(Rejection&& r) override { rejections.push_back(std::move(r)); }
  std::vector<CanonicalRecord> records;
  std::vector<Rejection> rejections;
};

struct Outcome {
  ReadStats stats;
  CollectSink sink;
};

// Reads `bytes` as file `name` through profile `profile` on a hub of `origin`.
Outcome ReadBytes(const std::string& profile, const std::string& name, const std::string& bytes,
                  const std::string& origin = "320000") {
  testing::TempDir dir;
  std::ofstream(dir / name, std::ios::binary) << bytes;
  EngineOptions options;
  options.origin_region = origin;
  options.federation_key.assign(32, 7);
  options.now_ms = [] { return std::int64_t{1767225600000}; };  // 2026-01-01
  ConnectorEngine engine(options);
  Outcome out;
  out.stats = engine.Read((dir / name).string(), engine.FindProfile(profile), out.sink);
  EXPECT_EQ(out.stats.read, out.stats.accepted + out.stats.quarantined);
  EXPECT_EQ(static_cast<std::size_t>(out.stats.quarantined), out.sink.rejections.size());
  return out;
}

std::string Facility(int n) {
  return R"({"jgbh":"J)" + std::to_string(n) +
         R"(","jgmc":"院","tyshxydm":"91350100M000100Y43","dj":3,"pdrq":"20240101"})";
}

const std::string kHkHeader =
    "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,status\r\n";
std::string HkRow(const std::string& no) {
  return no + ",RCHE-" + no + ",Home,NH (Cap. 165),10,01/02/2024,,valid\r\n";
}

TEST(StrictJsonTest, SecondTopLevelArrayIsQuarantinedNotDropped) {
  Outcome o = ReadBytes(
      "jiangsu/facility", "two.json",
      "[" + Facility(1) + "," + Facility(2) + "][" + Facility(3) + "," + Facility(4) + "]\n");
  EXPECT_EQ(o.stats.read, 4);  // was 2: the second array vanished
  EXPECT_EQ(o.stats.accepted, 2);
  ASSERT_EQ(o.sink.rejections.size(), 2u);
  EXPECT_EQ(o.sink.rejections[0].row, 3);
  EXPECT_EQ(o.sink.rejections[0].reason,
            "malformed_row: element of a second top-level JSON array (after the first one ended)");
  EXPECT_EQ(o.sink.rejections[1].raw, Facility(4));
}

TEST(StrictJsonTest, NdjsonLinesAndGarbageAfterTheArrayAreQuarantined) {
  Outcome o = ReadBytes(
      "jiangsu/facility", "tail.json",
      "[" + Facility(1) + "]\n" + Facility(2) + "\n" + Facility(3) + "\n-- end of export --\n");
  EXPECT_EQ(o.stats.read, 4);
  EXPECT_EQ(o.stats.accepted, 1);
  ASSERT_EQ(o.sink.rejections.size(), 3u);
  for (const Rejection& r : o.sink.rejections) {
    EXPECT_EQ(r.reason, "malformed_row: text after the JSON array's closing ']'") << r.row;
  }
  EXPECT_EQ(o.sink.rejections[2].raw, "-- end of export --");
}

TEST(StrictJsonTest, MissingClosingBracketIsReported) {
  Outcome o = ReadBytes("jiangsu/facility", "open.json", "[" + Facility(1) + "," + Facility(2));
  EXPECT_EQ(o.stats.accepted, 2);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].row, 3);
  EXPECT_NE(o.sink.rejections[0].reason.find("no closing ']'"), std::string::npos);
}

TEST(StrictJsonTest, MissingAndDoubledCommasAreQuarantined) {
  Outcome o = ReadBytes("jiangsu/facility", "commas.json",
                        "[" + Facility(1) + " " + Facility(2) + ",," + Facility(3) + "]");
  EXPECT_EQ(o.stats.accepted, 1);
  ASSERT_EQ(o.sink.rejections.size(), 2u);
  EXPECT_EQ(o.sink.rejections[0].reason, "malformed_row: no comma before this element");
  EXPECT_EQ(o.sink.rejections[1].reason, "malformed_row: an extra comma before this element");
}

TEST(StrictJsonTest, DuplicateKeyIsQuarantinedNamingTheField) {
  std::string row = R"({"jgbh":"J1","jgmc":"院","tyshxydm":"91350100M000100Y43","dj":3,"dj":5,)"
                    R"("pdrq":"20240101"})";
  Outcome o = ReadBytes("jiangsu/facility", "dup.json", "[" + row + "]");
  EXPECT_EQ(o.stats.accepted, 0);  // was accepted with level 5: the last key won
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].field, "dj");
  EXPECT_EQ(o.sink.rejections[0].reason, "malformed_row: the key is given twice in the object");
}

TEST(StrictJsonTest, EscapedNulIsQuarantinedNamingTheField) {
  std::string row = R"({"jgbh":"J1\u0000X","jgmc":"院","tyshxydm":"91350100M000100Y43","dj":3,)"
                    R"("pdrq":"20240101"})";
  Outcome o = ReadBytes("jiangsu/facility", "nul.ndjson", row + "\n");
  EXPECT_EQ(o.stats.accepted, 0);  // was stored with a NUL inside the source id
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].field, "jgbh");
  EXPECT_NE(o.sink.rejections[0].reason.find("NUL"), std::string::npos);
}

TEST(StrictCsvTest, DuplicateHeaderNameRefusesTheFileNamingFileAndColumn) {
  try {
    ReadBytes("hongkong/facility", "dup.csv",
              "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,"
              "status,licence_type\r\n" +
                  HkRow("1"),
              "810000");
    FAIL() << "a second licence_type column was accepted (the last one won)";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(std::string(e.what()),
              "dup.csv: CSV header names column licence_type twice (columns 4 and 9)");
  }
}

TEST(StrictCsvTest, UnknownColumnsMayRepeat) {  // Excel's unnamed trailing columns
  Outcome o =
      ReadBytes("hongkong/facility", "extra.csv",
                "record_no,licence_no,home_name,licence_type,capacity,licence_date,"
                "expiry_date,status,,\r\n1,RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid,,\r\n",
                "810000");
  EXPECT_EQ(o.stats.accepted, 1);
}

TEST(StrictCsvTest, NulByteIsQuarantinedNamingTheColumn) {
  std::string nul_row =
      std::string("2\0X", 3) + ",RCHE-2,Home,NH (Cap. 165),10,01/02/2024,,valid\r\n";
  Outcome o = ReadBytes("hongkong/facility", "nul.csv", kHkHeader + HkRow("1") + nul_row, "810000");
  EXPECT_EQ(o.stats.accepted, 1);  // was 2, with "2\0X" as a source id
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].row, 2);
  EXPECT_EQ(o.sink.rejections[0].field, "record_no");
  EXPECT_EQ(o.sink.rejections[0].reason, "malformed_row: holds a NUL byte");
  EXPECT_TRUE(o.sink.rejections[0].raw.starts_with("2\u2400X,"));  // shown, not cut
}

TEST(StrictCsvTest, ExcelDelimiterOnlyRowsAreSkipped) {
  Outcome o =
      ReadBytes("hongkong/facility", "excel.csv",
                kHkHeader + HkRow("1") + ",,,,,,,\r\n" + HkRow("2") + ",,,,,,,\r\n", "810000");
  EXPECT_EQ(o.stats.read, 2);
  EXPECT_EQ(o.stats.accepted, 2);
  EXPECT_EQ(o.sink.records[1].provenance.source_row, 2);
}

TEST(JsonElementReaderStrictTest, OversizedElementIsCutAndFlagged) {
  std::string big(100000, 'x');
  std::istringstream in("[{\"a\":\"" + big + "\"},{\"b\":1}]");
  JsonElementReader reader(in, 8192);
  std::string_view e;
  std::int64_t row = 0;
  ASSERT_TRUE(reader.Next(e, row));
  EXPECT_EQ(row, 1);
  EXPECT_LT(e.size(), 8192u);
  EXPECT_NE(reader.problem().find("row limit of 8192 bytes"), std::string::npos);
  ASSERT_TRUE(reader.Next(e, row));
  EXPECT_EQ(e, "{\"b\":1}");
  EXPECT_EQ(reader.problem(), "");
  EXPECT_FALSE(reader.Next(e, row));
}

}  // namespace
}  // namespace carehub
