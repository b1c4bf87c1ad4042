// Issue 14, limits: field, row, file size and nesting depth each have a default and an option;
// beyond one a row is quarantined naming row and field (or the file refused naming the file),
// memory stays bounded, and one stray quote costs one row, not the rest of the file.
#include <gtest/gtest.h>

#include <fstream>

#include "connectors/connector.h"
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

Outcome ReadBytes(const std::string& profile, const std::string& name, const std::string& bytes,
                  ReadLimits limits = {}) {
  testing::TempDir dir;
  std::ofstream(dir / name, std::ios::binary) << bytes;
  EngineOptions options;
  options.origin_region = FindBuiltinProfile(profile)->region;
  options.federation_key.assign(32, 7);
  options.now_ms = [] { return std::int64_t{1767225600000}; };
  options.limits = limits;
  ConnectorEngine engine(options);
  Outcome out;
  out.stats = engine.Read((dir / name).string(), engine.FindProfile(profile), out.sink);
  EXPECT_EQ(out.stats.read, out.stats.accepted + out.stats.quarantined);
  return out;
}

const std::string kHeader =
    "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,status\r\n";
std::string Row(const std::string& no, const std::string& name = "Home") {
  return no + ",RCHE-" + no + "," + name + ",NH (Cap. 165),10,01/02/2024,,valid\r\n";
}

TEST(LimitsTest, FieldBeyondTheLimitIsQuarantinedNamingTheField) {
  ReadLimits limits;
  limits.max_field_bytes = 100;
  Outcome o = ReadBytes("hongkong/facility", "f.csv",
                        kHeader + Row("1") + Row("2", std::string(101, 'x')) + Row("3"), limits);
  EXPECT_EQ(o.stats.accepted, 2);  // was: any size accepted and stored
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].row, 2);
  EXPECT_EQ(o.sink.rejections[0].field, "home_name");
  EXPECT_EQ(o.sink.rejections[0].reason,
            "malformed_row: the value is longer than the field limit of 100 bytes");
}

TEST(LimitsTest, RowBeyondTheLimitIsCutAndReadingGoesOn) {
  ReadLimits limits;
  limits.max_row_bytes = 8192;
  limits.max_field_bytes = 1u << 20;
  Outcome o = ReadBytes("hongkong/facility", "r.csv",
                        kHeader + Row("1") + Row("2", std::string(100000, 'x')) + Row("3"), limits);
  EXPECT_EQ(o.stats.read, 3);  // was: the whole file refused at 64 MiB, naming no row
  EXPECT_EQ(o.stats.accepted, 2);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].row, 2);
  EXPECT_NE(o.sink.rejections[0].reason.find("longer than the row limit of 8192"),
            std::string::npos);
  EXPECT_LE(o.sink.rejections[0].raw.size(), 4096u);
}

TEST(LimitsTest, StrayQuoteCostsOneRowNotTheRestOfTheFile) {
  std::string text = kHeader + Row("1") + Row("2", "\"Sunrise Home");  // never closed
  for (int i = 3; i <= 50; ++i) text += Row(std::to_string(i));
  Outcome o = ReadBytes("hongkong/facility", "q.csv", text);
  EXPECT_EQ(o.stats.read, 50);  // was 2: row 2 swallowed rows 3..50
  EXPECT_EQ(o.stats.accepted, 49);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].row, 2);
  EXPECT_NE(o.sink.rejections[0].reason.find("stray quote"), std::string::npos);
  EXPECT_EQ(o.sink.rejections[0].raw, "2,RCHE-2,\"Sunrise Home,NH (Cap. 165),10,01/02/2024,,valid");
}

TEST(LimitsTest, StrayQuoteClosedByALaterOneCostsOneRow) {
  std::string text = kHeader + Row("1") + Row("2", "\"Sunrise Home");
  text += Row("3") + Row("4", "Moon\" Home") + Row("5");
  Outcome o = ReadBytes("hongkong/facility", "q2.csv", text);
  EXPECT_EQ(o.stats.read, 5);  // rows 2 and 4 malformed, 1, 3 and 5 read
  EXPECT_EQ(o.stats.accepted, 3);
}

TEST(LimitsTest, FileBeyondTheLimitIsRefusedNamingTheFile) {
  ReadLimits limits;
  limits.max_file_bytes = 100;
  try {
    ReadBytes("hongkong/facility", "big.csv", kHeader + Row("1") + Row("2"), limits);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_TRUE(std::string(e.what()).starts_with("big.csv: the file is "));
  }
}

TEST(LimitsTest, JsonNestingBeyondTheLimitIsQuarantined) {
  ReadLimits limits;
  limits.max_depth = 4;
  const std::string ok =
      R"({"jgbh":"J1","jgmc":"院","tyshxydm":"91350100M000100Y43","dj":3,"pdrq":"20240101"})";
  const std::string deep = R"({"jgbh":"J2","x":[[[[[1]]]]]})";
  Outcome o = ReadBytes("jiangsu/facility", "d.json", "[" + ok + "," + deep + "]", limits);
  EXPECT_EQ(o.stats.accepted, 1);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_NE(o.sink.rejections[0].reason.find("deeper than the limit of 4"), std::string::npos);
}

TEST(LimitsTest, XmlFieldBeyondTheLimitIsQuarantinedAndNotHeld) {
  ReadLimits limits;
  limits.max_field_bytes = 1000;
  std::string xml = "<?xml version=\"1.0\"?><FacilityExport><Facility id=\"1\"><Name>" +
                    std::string(50000, 'n') +
                    "</Name><CreditCode>91350100M000100Y43</CreditCode><StarRating>一星级"
                    "</StarRating><RatedDate>2024-01-01</RatedDate></Facility></FacilityExport>";
  Outcome o = ReadBytes("zhejiang/facility", "x.xml", xml, limits);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  EXPECT_EQ(o.sink.rejections[0].field, "Name");
  // The raw row is the record as found (tests/connectors/xml_raw_test.cc), bounded by the row
  // limit, not by the field limit.
  EXPECT_EQ(o.sink.rejections[0].raw.rfind("<Facility id=\"1\"><Name>nnn", 0), 0u);
  EXPECT_LE(o.sink.rejections[0].raw.size(), limits.max_row_bytes);
}

}  // namespace
}  // namespace carehub
