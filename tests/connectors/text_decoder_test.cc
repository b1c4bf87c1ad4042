#include "connectors/text_decoder.h"

#include <gtest/gtest.h>

#include <sstream>

#include "connectors/date_pattern.h"
#include "connectors/json_reader.h"

namespace carehub {
namespace {

TEST(TextDecoderTest, GbkAndBig5ToUtf8) {
  std::string out;
  // 上海 in GBK: C9 CF BA A3; 照护 D5 D5 BB A4.
  ASSERT_TRUE(TextDecoder(TextEncoding::kGbk).Decode("\xC9\xCF\xBA\xA3,\xD5\xD5\xBB\xA4", out));
  EXPECT_EQ(out, "上海,照护");
  out.clear();
  // 香港 in Big5: AD BB B4 E4.
  ASSERT_TRUE(TextDecoder(TextEncoding::kBig5).Decode("\xAD\xBB\xB4\xE4 HK", out));
  EXPECT_EQ(out, "香港 HK");
}

TEST(TextDecoderTest, UndecodableBytesFail) {
  std::string out;
  EXPECT_FALSE(TextDecoder(TextEncoding::kGbk).Decode("\xC9", out));  // truncated pair
  out.clear();
  EXPECT_FALSE(TextDecoder(TextEncoding::kGbk).Decode("\xFF\xFF", out));
  out.clear();
  EXPECT_FALSE(TextDecoder(TextEncoding::kUtf8).Decode("ok\xC3(", out));
  out.clear();
  TextDecoder(TextEncoding::kGbk)
      .DecodeLossy(
          "a\xFF"
          "b",
          out);
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(TextDecoderTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain 上海 €"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));     // surrogate
  EXPECT_FALSE(IsValidUtf8("\xE4\xB8"));         // truncated
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // emoji
}

TEST(DatePatternTest, ParsesProfilePatterns) {
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  Date d = std::chrono::sys_days{year{2024} / month{2} / day{29}};
  EXPECT_EQ(DatePattern("YYYY-MM-DD").Parse("2024-02-29"), d);
  EXPECT_EQ(DatePattern("DD/MM/YYYY").Parse("29/02/2024"), d);
  EXPECT_EQ(DatePattern("YYYYMMDD").Parse("20240229"), d);
  EXPECT_EQ(DatePattern("YYYY年M月D日").Parse("2024年2月29日"), d);
  EXPECT_EQ(DatePattern("YYYY/MM/DD").Format(d), "2024/02/29");
  EXPECT_EQ(DatePattern("YYYY年M月D日").Format(d), "2024年2月29日");
  EXPECT_FALSE(DatePattern("YYYY-MM-DD").Parse("2023-02-29"));  // not a leap year
  EXPECT_FALSE(DatePattern("YYYY-MM-DD").Parse("2023-2-28"));
  EXPECT_FALSE(DatePattern("YYYY-MM-DD").Parse("2023-02-28x"));
  EXPECT_FALSE(DatePattern("DD/MM/YYYY").Parse("31/04/2023"));
}

std::vector<std::pair<std::string, std::int64_t>> Elements(const std::string& text) {
  std::istringstream in(text);
  JsonElementReader reader(in);
  std::vector<std::pair<std::string, std::int64_t>> out;
  std::string_view e;
  std::int64_t row = 0;
  while (reader.Next(e, row)) out.emplace_back(std::string(e), row);
  return out;
}

TEST(JsonElementReaderTest, ArrayAndNdjson) {
  auto a = Elements(" [ {\"a\": \"x,]}\"}, {\"b\": [1, {\"c\": 2}]} ,3 ] ");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].first, "{\"a\": \"x,]}\"}");
  EXPECT_EQ(a[1].first, "{\"b\": [1, {\"c\": 2}]}");
  EXPECT_EQ(a[2].first, "3");
  EXPECT_EQ(a[2].second, 3);
  auto n = Elements("{\"a\":1}\n\n{\"a\":2}\r\n{broken\n");
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[1].first, "{\"a\":2}");
  EXPECT_EQ(n[1].second, 3);  // NDJSON rows are line numbers
  EXPECT_EQ(n[2].first, "{broken");
  auto t = Elements("[{\"a\":1},{\"a\":");  // truncated array
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].first, "{\"a\":");
}

}  // namespace
}  // namespace carehub
