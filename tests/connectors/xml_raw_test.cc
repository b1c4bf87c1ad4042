// Issue 14, XML records in the quarantine: the raw row is the record's own bytes in the file (not
// values rebuilt with entities expanded), bounded by the row limit; element names match in NFC;
// nesting past the depth limit stops the read at once, naming file and row. Hand-written files
// in tests/data/connectors/xml (README.md there says what each holds).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

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

fs::path Fixture(const std::string& name) { return testing::TestData() / "connectors/xml" / name; }

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EngineOptions Options(ReadLimits limits = {}) {
  EngineOptions options;
  options.origin_region = "330000";
  options.federation_key.assign(32, 7);
  options.now_ms = [] { return std::int64_t{1767225600000}; };
  options.limits = limits;
  return options;
}

Outcome Read(const fs::path& file, ReadLimits limits = {}) {
  ConnectorEngine engine(Options(limits));
  Outcome out;
  out.stats = engine.Read(file.string(), engine.FindProfile("zhejiang/facility"), out.sink);
  EXPECT_EQ(out.stats.read, out.stats.accepted + out.stats.quarantined);
  return out;
}

// The bytes of the file from `from` to the end of the first `to` after it.
std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  const auto start = text.find(from);
  EXPECT_NE(start, std::string::npos) << from;
  const auto end = text.find(to, start);
  EXPECT_NE(end, std::string::npos) << to;
  return text.substr(start, end + to.size() - start);
}

TEST(XmlRawTest, EntityExpandedRecordKeepsItsOriginalBytes) {
  const Outcome o = Read(Fixture("entities.xml"));
  EXPECT_EQ(o.stats.accepted, 2);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  const Rejection& r = o.sink.rejections[0];
  EXPECT_EQ(r.row, 2);
  EXPECT_EQ(r.field, "StarRating");
  // Was: the values rebuilt with the entities expanded (~9 KB for 6 bytes of &c;).
  EXPECT_EQ(r.raw,
            Between(Slurp(Fixture("entities.xml")), "<Facility id=\"ZH-E-0002\"", "</Facility>"));
  EXPECT_LT(r.raw.size(), 200u);
}

TEST(XmlRawTest, RawIsTheRecordAsFoundWithItsLinesCommentsAndEmptyElements) {
  const std::string text = Slurp(Fixture("layout.xml"));
  const Outcome o = Read(Fixture("layout.xml"));
  EXPECT_EQ(o.stats.accepted, 1);
  ASSERT_EQ(o.sink.rejections.size(), 2u);
  EXPECT_EQ(o.sink.rejections[0].row, 2);
  EXPECT_EQ(o.sink.rejections[0].raw,
            Between(text, "<Facility id=\"ZH-F-0002\" note=\"a > b\">", "</Facility>"));
  EXPECT_NE(o.sink.rejections[0].raw.find("<!-- 星级待复核 -->\r\n"), std::string::npos);
  EXPECT_EQ(o.sink.rejections[1].row, 3);
  EXPECT_EQ(o.sink.rejections[1].raw, "<Facility id=\"ZH-F-0003\"/>");
}

TEST(XmlRawTest, RecordLongerThanTheRowLimitIsQuarantinedWithItsRawCut) {
  ReadLimits limits;
  limits.max_row_bytes = 100;
  const Outcome o = Read(Fixture("layout.xml"), limits);
  // Records 1 and 2 are longer than 100 bytes; the empty record 3 is not.
  ASSERT_EQ(o.sink.rejections.size(), 3u);
  const std::string text = Slurp(Fixture("layout.xml"));
  for (int i = 0; i < 2; ++i) {
    const Rejection& r = o.sink.rejections[static_cast<std::size_t>(i)];
    EXPECT_EQ(r.row, i + 1);
    EXPECT_NE(r.reason.find("longer than the row limit of 100 bytes"), std::string::npos)
        << r.reason;
    EXPECT_EQ(r.raw.size(), 100u);
    EXPECT_EQ(text.find(r.raw), text.find("<Facility id=\"ZH-F-000" + std::to_string(i + 1)));
  }
}

// Across the reader's 4 KiB chunks: a one-line file with a BOM, long comments between records
// (the window keeps only a tail there) and a record far longer than the row limit (cut while it
// is read); the raws after them are still the records' own bytes.
TEST(XmlRawTest, RawsStayExactAcrossChunksLongGapsAndCutRecords) {
  const std::string bad1 =
      "<Facility id=\"ZH-C-0001\"><Name>é</Name><CreditCode>52330100MJ0000000X</CreditCode>"
      "<StarRating>九星级</StarRating><RatedDate>2024-03-15</RatedDate></Facility>";
  const std::string huge =
      "<Facility id=\"ZH-C-0002\"><!--" + std::string(20000, 'x') + "--><Name>院</Name></Facility>";
  const std::string bad3 =
      "<Facility id=\"ZH-C-0003\"><Name>颐养院</Name><CreditCode>52330105MJ0000002C"
      "</CreditCode><StarRating>零星级</StarRating><RatedDate>2025-06-30</RatedDate></Facility>";
  const std::string gap = "<!--" + std::string(30000, 'g') + "-->";
  testing::TempDir dir;
  std::ofstream(dir / "chunks.xml", std::ios::binary)
      << "\xEF\xBB\xBF<FacilityExport>" << gap << bad1 << gap << huge << gap << bad3
      << "</FacilityExport>";
  ReadLimits limits;
  limits.max_row_bytes = 1000;
  const Outcome o = Read(dir / "chunks.xml", limits);
  ASSERT_EQ(o.sink.rejections.size(), 3u);
  EXPECT_EQ(o.sink.rejections[0].raw, bad1);
  EXPECT_EQ(o.sink.rejections[1].raw, huge.substr(0, 1000));
  EXPECT_NE(o.sink.rejections[1].reason.find("row limit of 1000 bytes"), std::string::npos);
  EXPECT_EQ(o.sink.rejections[2].raw, bad3);
}

TEST(XmlRawTest, NestingPastTheDepthLimitStopsTheReadNamingFileAndRow) {
  const Outcome o = Read(Fixture("deep.xml"));
  EXPECT_EQ(o.stats.read, 2);  // record 3 comes after the stop and is not read
  EXPECT_EQ(o.stats.accepted, 1);
  ASSERT_EQ(o.sink.rejections.size(), 1u);
  const Rejection& r = o.sink.rejections[0];
  EXPECT_EQ(r.row, 2);
  EXPECT_NE(r.reason.find("nested deeper than the limit of 32; the rest of the file is not read"),
            std::string::npos)
      << r.reason;
  const std::string described = DescribeRejection(r);
  EXPECT_NE(described.find("deep.xml"), std::string::npos) << described;
  EXPECT_NE(described.find("row 2"), std::string::npos) << described;
  EXPECT_EQ(r.raw.rfind("<Facility id=\"ZH-D-0002\">", 0), 0u) << r.raw;
  EXPECT_EQ(r.raw.find("ZH-D-0003"), std::string::npos);

  // Outside any record the file is refused, naming it.
  testing::TempDir dir;
  std::string outside = "<FacilityExport>";
  for (int i = 0; i < 40; ++i) outside += "<y>";
  std::ofstream(dir / "outside.xml") << outside;
  try {
    Read(dir / "outside.xml");
    ADD_FAILURE() << "a file nested past the limit outside records was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside.xml"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("deeper than the limit"), std::string::npos) << e.what();
  }
}

TEST(XmlRawTest, ElementNamesMatchAfterNfc) {
  testing::TempDir dir;
  fs::create_directories(dir / "profiles/zhejiang");
  std::string profile = Slurp(testing::SourceDir() / "connectors/profiles/zhejiang/facility.json");
  const std::string from = "{\"name\": \"Name\",";
  ASSERT_NE(profile.find(from), std::string::npos);
  profile.replace(profile.find(from), from.size(), "{\"name\": \"Denominação\",");  // NFC
  std::ofstream(dir / "profiles/zhejiang/facility.json") << profile;
  EngineOptions options = Options();
  options.profiles_dir = (dir / "profiles").string();
  ConnectorEngine engine(options);
  CollectSink sink;
  const ReadStats stats =
      engine.Read(Fixture("nfd_names.xml").string(), engine.FindProfile("zhejiang/facility"), sink);
  EXPECT_EQ(stats.accepted, 1);  // was: org_name missing (the NFD name matched nothing)
  for (const Rejection& r : sink.rejections) ADD_FAILURE() << DescribeRejection(r);
}

}  // namespace
}  // namespace carehub
