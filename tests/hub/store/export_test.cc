// Export from the store: flat CSV / NDJSON without personal fields, and Avro OCF read back by
// an independent Avro implementation (python3-avro).
#include "hub/store/export.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "hub/store/ingest.h"
#include "schemas/ocf.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;
using testing::TestFacility;
using testing::TestToken;

std::vector<std::string> Lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ExportTest : public ::testing::Test {
 protected:
  ExportTest() : store_(Store::Init(tmp_ / "hub", {.region = "sh"})) {
    IngestSink sink(store_, "/data/a.csv", "sha", "shanghai/assessment", {.batch_size = 1000});
    for (int i = 1; i <= 25; ++i) sink.Accept(TestAssessment(i));
    sink.Finish();
    IngestSink facilities(store_, "/data/f.csv", "sha-f", "shanghai/facility", {});
    facilities.Accept(TestFacility(1, "91310000MA1FL0XX1X"));
    facilities.Finish();
  }
  TempDir tmp_;
  Store store_;
};

TEST_F(ExportTest, CsvHasHeaderOneLinePerRecordAndNoPersonalFields) {
  const auto out = tmp_ / "a.csv";
  const auto s = ExportRecords(
      store_, {.kind = RecordKind::kAssessment, .format = ExportFormat::kCsv}, out.string());
  EXPECT_EQ(s.records, 25);
  const auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 26u);
  std::string header;
  for (const auto& name : FlatColumns(RecordKind::kAssessment)) {
    header += (header.empty() ? "" : ",") + name;
  }
  EXPECT_EQ(lines[0], header + "\r");
  EXPECT_EQ(header.find("token"), std::string::npos);
  EXPECT_EQ(header.find("birth"), std::string::npos);
  const std::string text = Slurp(out);
  EXPECT_EQ(text.find(ToHex(TestToken(3))), std::string::npos);
  EXPECT_NE(text.find(TestAssessment(3).record_id), std::string::npos);
  EXPECT_NE(text.find("浦东评估所"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out.string() + ".part"));
}

TEST_F(ExportTest, NdjsonIsOneJsonObjectPerRecordFilteredByKindAndOrigin) {
  const auto out = tmp_ / "f.ndjson";
  auto s = ExportRecords(
      store_, {.kind = RecordKind::kFacility, .origin = "310000", .format = ExportFormat::kNdjson},
      out.string());
  EXPECT_EQ(s.records, 1);
  const auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 1u);
  auto json = Poco::JSON::Parser().parse(lines[0]).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(json->getValue<std::string>("facility_id"), "91310000MA1FL0XX1X");
  EXPECT_EQ(json->getValue<int>("beds"), 101);
  EXPECT_EQ(json->getValue<std::string>("rated_on"), "2023-05-23");
  EXPECT_TRUE(json->isNull("valid_until"));
  std::size_t keys = json->size();
  EXPECT_EQ(keys, FlatColumns(RecordKind::kFacility).size());

  s = ExportRecords(
      store_, {.kind = RecordKind::kFacility, .origin = "320000", .format = ExportFormat::kNdjson},
      out.string());
  EXPECT_EQ(s.records, 0);
  EXPECT_TRUE(Lines(out).empty());
}

TEST_F(ExportTest, AvroOcfHoldsTheStoredRecordsForAnyAvroReader) {
  for (const std::string codec : {"null", "deflate", "snappy"}) {
    SCOPED_TRACE(codec);
    const auto out = tmp_ / ("a-" + codec + ".avro");
    const auto s = ExportRecords(
        store_, {.kind = RecordKind::kAssessment, .format = ExportFormat::kAvro, .codec = codec},
        out.string());
    EXPECT_EQ(s.records, 25);
    EXPECT_EQ(s.bytes, std::filesystem::file_size(out));
    OcfReader reader(out.string());
    int n = 0;
    while (auto record = reader.Next()) {
      EXPECT_EQ(*record, TestAssessment(++n));  // ingest order = rowid order
    }
    EXPECT_EQ(n, 25);
    // An independent implementation: python3-avro sees the same count and fields.
    std::string py;
    const std::string script =
        "import sys, avro.datafile, avro.io\n"
        "r = avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), avro.io.DatumReader())\n"
        "rows = list(r)\n"
        "print(len(rows), rows[0]['record_id'], rows[0]['provenance']['source_record_id'])\n";
    ASSERT_EQ(testing::RunCommand("/usr/bin/python3 -c \"" + script + "\" " + out.string(), &py),
              0);
    EXPECT_EQ(py, "25 " + TestAssessment(1).record_id + " SH-A-1\n");
  }
}

TEST_F(ExportTest, UnknownCodecIsRefused) {
  EXPECT_THROW(ExportRecords(store_, {.kind = RecordKind::kAssessment, .codec = "lz4"},
                             (tmp_ / "x.avro").string()),
               Error);
}

// Issue 14: --out never writes through a link or over a device.
TEST_F(ExportTest, SymlinkIsRefusedUnlessAskedAndThenOnlyTheLinkIsReplaced) {
  const auto target = tmp_ / "precious.txt";
  std::ofstream(target) << "keep me\n";
  const auto link = tmp_ / "link.csv";
  std::filesystem::create_symlink(target, link);
  const ExportOptions csv{.kind = RecordKind::kAssessment, .format = ExportFormat::kCsv};
  EXPECT_THROW(ExportRecords(store_, csv, link.string()), Error);  // was: link replaced
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  ExportOptions forced = csv;
  forced.replace_symlink = true;
  EXPECT_EQ(ExportRecords(store_, forced, link.string()).records, 25);
  EXPECT_FALSE(std::filesystem::is_symlink(link));
  EXPECT_EQ(Slurp(target), "keep me\n");  // the target is untouched
}

TEST_F(ExportTest, NonRegularFilesAreNeverReplaced) {
  const ExportOptions csv{
      .kind = RecordKind::kAssessment, .format = ExportFormat::kCsv, .replace_symlink = true};
  const auto dir = tmp_ / "a-directory";
  std::filesystem::create_directory(dir);
  EXPECT_THROW(ExportRecords(store_, csv, dir.string()), Error);
  EXPECT_THROW(ExportRecords(store_, csv, "/dev/null"), Error);  // a device, even with force
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
  for (const auto& e : std::filesystem::directory_iterator(tmp_.path())) {
    EXPECT_EQ(e.path().string().find(".XXXX"), std::string::npos);  // no temporary left
    EXPECT_FALSE(e.path().filename().string().starts_with("a-directory."));
  }
}

TEST_F(ExportTest, StreamsToAnOutputStream) {
  std::ostringstream csv;
  const auto s = ExportRecordsToStream(
      store_, {.kind = RecordKind::kAssessment, .format = ExportFormat::kCsv}, csv);
  EXPECT_EQ(s.records, 25);
  const auto file = tmp_ / "same.csv";
  ExportRecords(store_, {.kind = RecordKind::kAssessment, .format = ExportFormat::kCsv},
                file.string());
  EXPECT_EQ(csv.str(), Slurp(file));
  std::ostringstream avro;
  const auto a = ExportRecordsToStream(
      store_, {.kind = RecordKind::kAssessment, .format = ExportFormat::kAvro}, avro);
  EXPECT_EQ(a.records, 25);
  EXPECT_EQ(a.bytes, avro.str().size());
  EXPECT_TRUE(avro.str().starts_with("Obj\x01"));
}

}  // namespace
}  // namespace carehub
