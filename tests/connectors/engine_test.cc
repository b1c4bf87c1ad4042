#include <gtest/gtest.h>

#include <fstream>

#include "connectors/connector.h"
#include "connectors/identifiers.h"
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/connectors/record_json.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

constexpr std::int64_t kNowMs = 1767225600000;  // 2026-01-01T00:00:00Z

EngineOptions Options(const std::string& origin = "310000") {
  EngineOptions o;
  o.origin_region = origin;
  o.federation_key.assign(32, 7);
  o.now_ms = [] { return kNowMs; };
  return o;
}

class CollectSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&& r) override { records.push_back(std::move(r)); }
  void Reject(Rejection&& r) override { rejections.push_back(std::move(r)); }
  std::vector<CanonicalRecord> records;
  std::vector<Rejection> rejections;
};

void Write(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

std::string Gbk(const std::string& utf8) {
  // Small fixed table: enough for these tests without an encoder in the engine.
  std::string out;
  const std::pair<const char*, const char*> table[] = {
      {"评估编号", "\xC6\xC0\xB9\xC0\xB1\xE0\xBA\xC5"},
      {"姓名", "\xD0\xD5\xC3\xFB"},
      {"身份证号", "\xC9\xED\xB7\xDD\xD6\xA4\xBA\xC5"},
      {"评估等级", "\xC6\xC0\xB9\xC0\xB5\xC8\xBC\xB6"},
      {"评估日期", "\xC6\xC0\xB9\xC0\xC8\xD5\xC6\xDA"},
      {"照护二级", "\xD5\xD5\xBB\xA4\xB6\xFE\xBC\xB6"},
      {"王", "\xCD\xF5"}};
  std::size_t i = 0;
  while (i < utf8.size()) {
    bool hit = false;
    for (const auto& [u, g] : table) {
      std::string_view us(u);
      if (utf8.compare(i, us.size(), us) == 0) {
        out += g;
        i += us.size();
        hit = true;
        break;
      }
    }
    if (!hit) out.push_back(utf8[i++]);
  }
  return out;
}

TEST(EngineTest, UnknownProfileIsNotFound) {
  ConnectorEngine engine(Options());
  EXPECT_THROW(engine.FindProfile("atlantis/assessment"), Error);
  EXPECT_EQ(engine.ProfileNames().size(), 28u);
}

TEST(EngineTest, ShanghaiGbkWithReorderedColumnsAndEmbeddedNewline) {
  testing::TempDir dir;
  // Only the required columns, in another order, one quoted value with a CRLF inside.
  std::string text =
      "姓名,评估编号,身份证号,评估日期,评估等级\r\n"
      "\"王\r\n王\",A1,11010519491231002X,2024/03/15,照护二级\r\n"
      "王,A2,11010519491231002X,2024/03/15,照护二级\r\n";
  Write(dir / "sh.csv", Gbk(text));
  ConnectorEngine engine(Options());
  CollectSink sink;
  ReadStats stats =
      engine.Read((dir / "sh.csv").string(), engine.FindProfile("shanghai/assessment"), sink);
  EXPECT_EQ(stats.read, 2);
  EXPECT_EQ(stats.accepted, 2);
  ASSERT_EQ(sink.records.size(), 2u);
  const auto& a = std::get<Assessment>(sink.records[0].body);
  EXPECT_EQ(a.native.label, "照护二级");
  EXPECT_EQ(a.pivot->level, 2);
  EXPECT_EQ(a.person.birth_year, 1949);
  EXPECT_EQ(a.person.sex, Sex::kFemale);
  EXPECT_EQ(sink.records[0].record_id, MakeRecordId("310000", RecordKind::kAssessment, "A1"));
  EXPECT_EQ(sink.records[0].provenance.source_file, "sh.csv");
  EXPECT_EQ(sink.records[1].provenance.source_row, 2);
  // The same person gets the same token in both rows.
  EXPECT_EQ(a.person.tokens, std::get<Assessment>(sink.records[1].body).person.tokens);
}

TEST(EngineTest, MissingRequiredColumnIsInvalidInput) {
  testing::TempDir dir;
  Write(dir / "x.csv", Gbk("评估编号,姓名\r\nA1,王\r\n"));
  ConnectorEngine engine(Options());
  CollectSink sink;
  EXPECT_THROW(
      engine.Read((dir / "x.csv").string(), engine.FindProfile("shanghai/assessment"), sink),
      Error);
  EXPECT_THROW(
      engine.Read((dir / "missing.csv").string(), engine.FindProfile("shanghai/assessment"), sink),
      Error);
}

TEST(EngineTest, NoPersonalDataInRecordsOrReasons) {
  // Every golden fixture: no identifier or name of the raw file appears in any record or reason.
  const std::string ids[] = {"11010519491231002X", "A123456", "E364912", "1234567", "王秀英",
                             "CHAN Tai Man",       "陈美华"};
  for (const Profile& p : BuiltinProfiles()) {
    std::filesystem::path dir = testing::TestData() / "connectors" / std::string(p.RegionName());
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.ends_with(".expected.json") || !name.starts_with(std::string(KindName(p.kind)))) {
        continue;
      }
      ConnectorEngine engine(Options(p.region));
      CollectSink sink;
      engine.Read(e.path().string(), p, sink);
      std::string all;
      for (const auto& r : sink.records) all += testing::RecordJson(r);
      for (const auto& r : sink.rejections) all += r.reason + r.field;
      for (const auto& r : sink.rejections) EXPECT_FALSE(r.raw.empty()) << name;
      // The persons of the fixtures, by their normalised identifiers.
      for (const std::string& id : ids) EXPECT_EQ(all.find(id), std::string::npos) << name << id;
      EXPECT_EQ(all.find("810000193805"), std::string::npos);
    }
  }
}

TEST(EngineTest, ReadEqualsAcceptedPlusQuarantinedOnGarbage) {
  testing::TempDir dir;
  std::string text =
      "\xEF\xBB\xBFrecord_no,licence_no,home_name,licence_type,capacity,licence_date,"
      "expiry_date,status\r\n";
  const char* rows[] = {"1,RCHE-1,Home,C&A (Cap. 459),10,01/02/2024,,valid",
                        "2,RCHE-2,\"unterminated,NH (Cap. 165),10,01/02/2024,,valid",
                        "\"x\"y,RCHE-3,Home,NH (Cap. 165),10,01/02/2024,,valid",
                        ",,,,,,,",
                        "3,RCHE-3,Home,NH (Cap. 165),-1,31/12/2025,,valid",
                        "4,RCHE-4,Home,NH (Cap. 165),1,1/1/2024,,valid"};
  for (const char* r : rows) text += std::string(r) + "\r\n";
  text += "5,RCHE-5,\xFF,NH (Cap. 165),5,01/01/2024,,valid";  // invalid UTF-8, no final CRLF
  Write(dir / "hk.csv", text);
  ConnectorEngine engine(Options("810000"));
  CollectSink sink;
  ReadStats stats =
      engine.Read((dir / "hk.csv").string(), engine.FindProfile("hongkong/facility"), sink);
  EXPECT_EQ(stats.read, stats.accepted + stats.quarantined);
  EXPECT_EQ(static_cast<std::size_t>(stats.accepted), sink.records.size());
  EXPECT_EQ(static_cast<std::size_t>(stats.quarantined), sink.rejections.size());
  EXPECT_EQ(stats.accepted, 1);
  std::vector<std::string> codes;
  for (const auto& r : sink.rejections) codes.push_back(r.reason.substr(0, r.reason.find(':')));
  // Row 2's opening quote closes at the start of row 3 and "x" follows it: row 2 is cut after
  // its line and row 3 read on its own (it is malformed too). ",,,,,,," is how Excel saves a
  // once-touched empty row: skipped, not a row.
  EXPECT_EQ(codes, (std::vector<std::string>{"malformed_row", "malformed_row", "bad_number",
                                             "bad_date", "malformed_row"}));
  EXPECT_EQ(sink.rejections[0].row, 2);
  EXPECT_EQ(sink.rejections[1].row, 3);
  EXPECT_EQ(sink.rejections[4].row, 6);
  EXPECT_EQ(sink.rejections[4].field, "home_name");
}

TEST(EngineTest, XmlSyntaxErrorEndsTheFileWithOneMalformedRow) {
  testing::TempDir dir;
  Write(dir / "zj.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><FacilityExport>"
        "<Facility id=\"1\"><Name>A</Name><CreditCode>91350100M000100Y43</CreditCode>"
        "<StarRating>一星级</StarRating><RatedDate>2024-01-01</RatedDate></Facility>"
        "<Facility id=\"2\"><Name>B<Name></Facility></FacilityExport>");
  ConnectorEngine engine(Options("330000"));
  CollectSink sink;
  ReadStats stats =
      engine.Read((dir / "zj.xml").string(), engine.FindProfile("zhejiang/facility"), sink);
  EXPECT_EQ(stats.read, 2);
  EXPECT_EQ(stats.accepted, 1);
  ASSERT_EQ(sink.rejections.size(), 1u);
  EXPECT_EQ(sink.rejections[0].row, 2);
  EXPECT_TRUE(sink.rejections[0].reason.starts_with("malformed_row: "));
  Write(dir / "other.xml", "<?xml version=\"1.0\"?><Other/>");
  EXPECT_THROW(
      engine.Read((dir / "other.xml").string(), engine.FindProfile("zhejiang/facility"), sink),
      Error);
}

TEST(EngineTest, JsonArrayAndNdjsonBothAcceptedForJsonProfiles) {
  testing::TempDir dir;
  std::string obj =
      R"({"jgbh":"J1","jgmc":"院","tyshxydm":"91350100M000100Y43","dj":3,"cws":50,"pdrq":"20240101"})";
  Write(dir / "a.json", "[" + obj + "]");
  Write(dir / "b.ndjson", obj + "\n");
  ConnectorEngine engine(Options("320000"));
  for (const char* f : {"a.json", "b.ndjson"}) {
    CollectSink sink;
    ReadStats stats = engine.Read((dir / f).string(), engine.FindProfile("jiangsu/facility"), sink);
    EXPECT_EQ(stats.accepted, 1) << f;
    ASSERT_EQ(sink.records.size(), 1u);
    const auto& fr = std::get<FacilityRating>(sink.records[0].body);
    EXPECT_EQ(fr.native.code, "3");
    EXPECT_EQ(fr.beds, 50);
    EXPECT_TRUE(fr.comparable);
    EXPECT_EQ(engine.DetectProfile((dir / f).string()).name, "jiangsu/facility");
  }
}

TEST(EngineTest, FutureDateUsesChinaDay) {
  testing::TempDir dir;
  // 2026-01-01 is "today" in UTC+8 at 00:00 UTC (08:00 in China): not in the future.
  Write(dir / "a.csv",
        "流水号,机构名称,统一社会信用代码,评定等级,评定日期\n"
        "1,院,91350100M000100Y43,一级,2026-01-01\n2,院,91350100M000100Y43,一级,2026-01-02\n");
  ConnectorEngine engine(Options("340000"));
  CollectSink sink;
  engine.Read((dir / "a.csv").string(), engine.FindProfile("anhui/facility"), sink);
  ASSERT_EQ(sink.records.size(), 1u);
  ASSERT_EQ(sink.rejections.size(), 1u);
  EXPECT_TRUE(sink.rejections[0].reason.starts_with("future_date"));
  EXPECT_EQ(DescribeRejection(sink.rejections[0]),
            "a.csv row 2 field 评定日期: " + sink.rejections[0].reason);
}

TEST(EngineTest, DetectProfileRejectsUnknownFiles) {
  testing::TempDir dir;
  Write(dir / "x.csv", "a,b,c\n1,2,3\n");
  ConnectorEngine engine(Options());
  EXPECT_THROW(engine.DetectProfile((dir / "x.csv").string()), Error);
}

}  // namespace
}  // namespace carehub

namespace carehub {
namespace {

class ThrowingSink : public RecordSink {
 public:
  void Accept(CanonicalRecord&&) override {
    if (++seen == 3) throw Error::IoError("store full");
  }
  void Reject(Rejection&&) override {}
  int seen = 0;
};

TEST(EngineTest, PipelinedGivesTheSameOutcomesAndPropagatesSinkErrors) {
  testing::TempDir dir;
  std::string text = "流水号,机构名称,统一社会信用代码,评定等级,评定日期\n";
  for (int i = 0; i < 3000; ++i) {
    text += std::to_string(i) + ",院," + (i % 7 ? "91350100M000100Y43" : "bad") + "," +
            (i % 11 ? "二级" : "六级") + ",2024-01-01\n";
  }
  Write(dir / "a.csv", text);
  EngineOptions inline_options = Options("340000");
  EngineOptions piped_options = Options("340000");
  piped_options.pipelined = true;
  ConnectorEngine inline_engine(inline_options), piped_engine(piped_options);
  const Profile& p = inline_engine.FindProfile("anhui/facility");
  CollectSink a, b;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  ReadStats sa = inline_engine.Read((dir / "a.csv").string(), p, a);
  ReadStats sb =
      piped_engine.Read((dir / "a.csv").string(), p, b,
                        [&](std::uint64_t d, std::uint64_t t) { progress.emplace_back(d, t); });
  EXPECT_EQ(sa.read, 3000);
  EXPECT_EQ(sa.read, sb.read);
  EXPECT_EQ(sa.accepted, sb.accepted);
  EXPECT_EQ(a.records, b.records);
  ASSERT_EQ(a.rejections.size(), b.rejections.size());
  for (std::size_t i = 0; i < a.rejections.size(); ++i) {
    EXPECT_EQ(a.rejections[i].row, b.rejections[i].row);
    EXPECT_EQ(a.rejections[i].reason, b.rejections[i].reason);
  }
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, progress.back().second);
  ThrowingSink throwing;
  EXPECT_THROW(piped_engine.Read((dir / "a.csv").string(), p, throwing), Error);
  EXPECT_EQ(throwing.seen, 3);
}

}  // namespace
}  // namespace carehub
