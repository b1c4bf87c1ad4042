// Issue 14, encodings: Big5-HKSCS for Hong Kong through glibc iconv, UTF-16 files told by their
// byte-order mark, XML declaring a legacy encoding decoded (or refused by name), Unicode NFC
// before matching, XML namespaces matched by local name with any prefix.
#include <gtest/gtest.h>
#include <utf8proc.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "connectors/text_decoder.h"
#include "connectors/transcoding_stream.h"
#include "connectors/unicode_nfc.h"
#include "connectors/xml_reader.h"
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

ReadStats ReadFile(const std::filesystem::path& path, const std::string& profile,
                   CollectSink& sink) {
  EngineOptions options;
  options.origin_region = FindBuiltinProfile(profile)->region;
  options.federation_key.assign(32, 7);
  options.now_ms = [] { return std::int64_t{1767225600000}; };  // 2026-01-01
  ConnectorEngine engine(options);
  return engine.Read(path.string(), engine.FindProfile(profile), sink);
}

std::filesystem::path Fixture(const std::string& name) {
  return testing::TestData() / "connectors" / name;
}

TEST(HkscsTest, HongKongCharactersOutsideCodePage950Decode) {
  // 邨 峯 綫 啓 着 in Big5-HKSCS; code page 950 has none of them.
  const std::string bytes = "\x90\x68\xFB\xDF\x8E\xA8\xFB\xA3\xFE\xD3";
  std::string out;
  EXPECT_FALSE(TextDecoder(TextEncoding::kBig5).Decode(bytes, out));
  out.clear();
  ASSERT_TRUE(TextDecoder(TextEncoding::kBig5Hkscs).Decode(bytes, out));
  EXPECT_EQ(out, "邨峯綫啓着");
  out.clear();
  EXPECT_FALSE(TextDecoder(TextEncoding::kBig5Hkscs).Decode("\x90", out));  // half a pair
  out.clear();
  TextDecoder(TextEncoding::kBig5Hkscs).DecodeLossy("A\x90", out);
  EXPECT_EQ(out, "A\xEF\xBF\xBD");
}

TEST(HkscsTest, HongKongCaregiverFileWithHkscsNamesIsAccepted) {
  CollectSink sink;
  ReadStats stats = ReadFile(Fixture("hongkong/caregiver_hkscs.csv"), "hongkong/caregiver", sink);
  EXPECT_EQ(stats.read, 3);
  EXPECT_EQ(stats.accepted, 3);  // was 0: every row rejected as not Big5 (code page 950)
  ASSERT_EQ(sink.records.size(), 3u);
  const auto& c = std::get<CaregiverQualification>(sink.records[1].body);
  ASSERT_TRUE(c.employer.has_value());
  EXPECT_EQ(c.employer->name, "峯景安老院(東涌綫)");
}

TEST(Utf16Test, ByteOrderMarkedUtf16CsvIsReadAsText) {
  CollectSink sink;
  ReadStats stats = ReadFile(Fixture("anhui/assessment_utf16.csv"), "anhui/assessment", sink);
  EXPECT_EQ(stats.accepted, 2);  // was: refused, the header did not match
  EXPECT_EQ(stats.quarantined, 0);
  const auto& a = std::get<Assessment>(sink.records[1].body);
  EXPECT_EQ(a.assessor->name, "安徽省长护险评估中心,分部");
}

TEST(Utf16Test, InvalidUtf16QuarantinesItsRowOnly) {
  testing::TempDir dir;
  std::u16string text =
      u"流水号,参保人姓名,公民身份号码,常住地区划,失能等级,评估日期\r\n"
      u"AN-1,杨玉兰,340104194912310106,340100,基本正常,2024-03-15\r\n"
      u"AN-2,X\xD800Y,340104193805200134,340102,轻度失能,2023-11-02\r\n";  // lone surrogate
  std::string bytes = "\xFF\xFE";
  for (char16_t c : text) {
    bytes.push_back(static_cast<char>(c & 0xFF));
    bytes.push_back(static_cast<char>(c >> 8));
  }
  std::ofstream(dir / "u16.csv", std::ios::binary) << bytes;
  CollectSink sink;
  ReadStats stats = ReadFile(dir / "u16.csv", "anhui/assessment", sink);
  EXPECT_EQ(stats.accepted, 1);
  ASSERT_EQ(sink.rejections.size(), 1u);
  EXPECT_EQ(sink.rejections[0].row, 2);
  EXPECT_EQ(sink.rejections[0].field, "参保人姓名") << sink.rejections[0].reason;
}

TEST(XmlEncodingTest, GbkDeclaredXmlWithPrefixedNamespaceIsDecoded) {
  CollectSink sink;
  ReadStats stats =
      ReadFile(Fixture("zhejiang/facility_gbk_prefixed.xml"), "zhejiang/facility", sink);
  // was: refused ("SAXParseException: Unknown encoding"; then "root element is <zj:...>")
  EXPECT_EQ(stats.read, 2);
  EXPECT_EQ(stats.accepted, 1);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(std::get<FacilityRating>(sink.records[0].body).facility.name, "杭州市福利中心&分院");
  ASSERT_EQ(sink.rejections.size(), 1u);
  EXPECT_TRUE(sink.rejections[0].reason.starts_with("unknown_level: StarRating"));
}

TEST(XmlEncodingTest, UnknownDeclaredEncodingIsRefusedByName) {
  testing::TempDir dir;
  std::ofstream(dir / "x.xml", std::ios::binary)
      << "<?xml version=\"1.0\" encoding=\"X-NO-SUCH\"?><FacilityExport/>";
  CollectSink sink;
  try {
    ReadFile(dir / "x.xml", "zhejiang/facility", sink);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "x.xml: the file is in encoding \"X-NO-SUCH\", which this hub cannot decode (write "
              "UTF-8)");
  }
}

TEST(XmlNamespaceTest, ProfileNamespaceIsMatchedByUriWithAnyPrefix) {
  Profile p = *FindBuiltinProfile("zhejiang/facility");
  p.xml_namespace = "urn:zj";
  auto rows = [&p](const std::string& xml) {
    std::istringstream in(xml);
    std::vector<std::string> ids;
    XmlRecordReader(p).Read(in, [&ids](XmlRecord& r) { ids.push_back(r.values[0]); });
    return ids;
  };
  EXPECT_EQ(rows("<a:FacilityExport xmlns:a='urn:zj'><a:Facility id='1'/></a:FacilityExport>"),
            std::vector<std::string>{"1"});
  EXPECT_EQ(rows("<FacilityExport xmlns='urn:zj'><Facility id='2'/></FacilityExport>"),
            std::vector<std::string>{"2"});
  EXPECT_THROW(rows("<b:FacilityExport xmlns:b='urn:other'><b:Facility id='3'/>"
                    "</b:FacilityExport>"),
               Error);
}

TEST(NfcTest, DecomposedTextMatchesTheProfile) {
  EXPECT_EQ(ToNfc("depende\xCC\x82ncia"), "dependência");
  CollectSink sink;
  ReadStats stats = ReadFile(Fixture("macau/assessment_nfd.json"), "macau/assessment", sink);
  EXPECT_EQ(stats.read, 3);
  EXPECT_EQ(stats.accepted, 2);  // was 1: NFD "dependência ligeira" was unknown_level
  ASSERT_GE(sink.records.size(), 1u);
  EXPECT_EQ(std::get<Assessment>(sink.records[0].body).native.code, "ligeira");
  ASSERT_EQ(sink.rejections.size(), 1u);  // the \u0000 in a source id
  EXPECT_EQ(sink.rejections[0].field, "numero_processo");
}

// The code points IsNfcStable lets through unchanged (unicode_nfc.cc), as UTF-8.
bool InStableSet(utf8proc_int32_t cp) {
  return cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF) || (cp >= 0x3000 && cp <= 0x3029) ||
         (cp >= 0x3400 && cp <= 0x9FFF) || (cp >= 0xFF01 && cp <= 0xFF5E);
}

std::string Utf8(utf8proc_int32_t cp) {
  utf8proc_uint8_t bytes[4];
  const auto n = utf8proc_encode_char(cp, bytes);
  return std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(n));
}

TEST(NfcTest, TheFastPathTakesOnlyCodePointsNfcNeverChanges) {
  for (utf8proc_int32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string one = Utf8(cp);
    ASSERT_EQ(IsNfcStable(one), InStableSet(cp)) << std::hex << cp;
    // No code point of the set is the second (or later) part of any canonical decomposition,
    // so NFC never composes one with what stands before it.
    utf8proc_int32_t parts[8];
    int boundclass = 0;
    const auto n = utf8proc_decompose_char(cp, parts, 8, UTF8PROC_DECOMPOSE, &boundclass);
    for (utf8proc_ssize_t i = 1; i < n; ++i) ASSERT_FALSE(InStableSet(parts[i])) << std::hex << cp;
    if (!InStableSet(cp)) continue;
    const utf8proc_property_t* property = utf8proc_get_property(cp);
    ASSERT_EQ(property->combining_class, 0) << std::hex << cp;
    std::string nfc;
    ASSERT_TRUE(AppendNfc(one + "a" + one, nfc));
    utf8proc_uint8_t* mapped = nullptr;
    const auto m = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(nfc.data()),
                                static_cast<utf8proc_ssize_t>(nfc.size()), &mapped,
                                static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(m)), nfc)
        << std::hex << cp;
    std::free(mapped);
  }
}

TEST(NfcTest, TextOutsideTheFastPathIsStillNormalisedOrRefused) {
  EXPECT_TRUE(IsNfcStable("张三·李四 ＡＢ，。"));
  EXPECT_FALSE(IsNfcStable("depende\xCC\x82ncia"));  // a combining mark
  EXPECT_EQ(ToNfc("\xE5\xBC\xA0"
                  "e\xCC\x81"),
            "\xE5\xBC\xA0\xC3\xA9");      // 张 + e + U+0301
  EXPECT_FALSE(IsNfcStable("\xE5\xBC"));  // truncated
  EXPECT_FALSE(IsNfcStable("\xC0\xAF"));  // overlong
  std::string out;
  EXPECT_FALSE(AppendNfc("\xE5\xBC", out));
  EXPECT_FALSE(AppendNfc("a\xFF", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace carehub
