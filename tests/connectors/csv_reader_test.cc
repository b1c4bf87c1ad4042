#include "connectors/csv_reader.h"

#include <gtest/gtest.h>

#include <sstream>

namespace carehub {
namespace {

std::vector<std::vector<std::string>> ReadAll(const std::string& text, char delim = ',',
                                              std::vector<bool>* malformed = nullptr) {
  std::istringstream in(text);
  CsvReader reader(in, delim);
  CsvRecord rec;
  std::vector<std::vector<std::string>> out;
  while (reader.Next(rec)) {
    out.emplace_back(rec.fields.begin(), rec.fields.end());
    if (malformed) malformed->push_back(rec.malformed);
  }
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvReaderTest, PlainLfAndCrlf) {
  EXPECT_EQ(ReadAll("a,b\n1,2\n"), (Rows{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(ReadAll("a,b\r\n1,2\r\n"), (Rows{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(ReadAll("a,b\r\n1,2"), (Rows{{"a", "b"}, {"1", "2"}}));  // no final line end
}

TEST(CsvReaderTest, QuotesDoubledQuotesAndEmbeddedNewlines) {
  EXPECT_EQ(ReadAll("\"a,1\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nx,,\"\"\n"),
            (Rows{{"a,1", "say \"hi\"", "two\r\nlines"}, {"x", "", ""}}));
}

TEST(CsvReaderTest, BomIsSkippedAndBlankLinesIgnored) {
  EXPECT_EQ(ReadAll("\xEF\xBB\xBFid;name\n\n1;x\r\n\r\n", ';'), (Rows{{"id", "name"}, {"1", "x"}}));
  EXPECT_EQ(ReadAll("\xEF\xBB\xBFid;name\n1;x\n", ';'), (Rows{{"id", "name"}, {"1", "x"}}));
}

TEST(CsvReaderTest, TrailingDelimiterGivesEmptyField) {
  EXPECT_EQ(ReadAll("a,b,\n"), (Rows{{"a", "b", ""}}));
  EXPECT_EQ(ReadAll("a,b,"), (Rows{{"a", "b", ""}}));
}

TEST(CsvReaderTest, MalformedQuotesAreFlagged) {
  std::vector<bool> malformed;
  Rows rows = ReadAll("a,b\"c,d\n\"x\"y,z\nok,1\n", ',', &malformed);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(malformed, (std::vector<bool>{true, true, false}));
  malformed.clear();
  // A quote never closed costs its own line only: the next line is read as a new record.
  rows = ReadAll("a,\"never closed\nb,c\n", ',', &malformed);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(malformed, (std::vector<bool>{true, false}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"b", "c"}));
}

TEST(CsvReaderTest, RecordsAcrossChunkBoundariesAndLargeFields) {
  // Many rows with a quoted multi-line field crossing the 1 MiB buffer boundary.
  std::string text;
  const int kRows = 30000;
  for (int i = 0; i < kRows; ++i) {
    text +=
        std::to_string(i) + ",\"line one\r\nline \"\"two\"\"\"," + std::string(20, 'x') + "\r\n";
  }
  std::string big(3 << 20, 'y');  // one field larger than the buffer
  text += "big,\"" + big + "\",z\n";
  Rows rows = ReadAll(text);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kRows + 1));
  for (int i = 0; i < kRows; ++i) {
    ASSERT_EQ(rows[i].size(), 3u);
    EXPECT_EQ(rows[i][0], std::to_string(i));
    EXPECT_EQ(rows[i][1], "line one\r\nline \"two\"");
  }
  EXPECT_EQ(rows.back()[1].size(), big.size());
  EXPECT_EQ(rows.back()[2], "z");
}

TEST(CsvReaderTest, RawIsTheRecordWithoutLineEnd) {
  std::istringstream in("h\r\n\"a\nb\",c\r\n");
  CsvReader reader(in, ',');
  CsvRecord rec;
  ASSERT_TRUE(reader.Next(rec));
  ASSERT_TRUE(reader.Next(rec));
  EXPECT_EQ(rec.raw, "\"a\nb\",c");
  EXPECT_FALSE(reader.Next(rec));
}

}  // namespace
}  // namespace carehub
