// docs/PROTOCOL.md against the code (issue 12): the doc gave ERROR as type 15 while the server
// sent 10, so a client written from the doc could not recognise an error. The doc's message and
// error-code tables are parsed and compared with hub/exchange/wire.h both ways, and every
// message type's first frame is checked to carry the documented number. Sequence numbers are
// u64 on the wire below 2^63, as the doc now says.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "hub/exchange/wire.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

std::string ProtocolDoc() {
  std::ifstream in(testing::SourceDir() / "docs" / "PROTOCOL.md");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The rows "| <number> | <name> | ..." of the table whose header starts with `header`.
std::map<int, std::string> DocTable(const std::string& doc, const std::string& header) {
  std::map<int, std::string> rows;
  const auto start = doc.find(header);
  if (start == std::string::npos) return rows;
  std::istringstream lines(doc.substr(start));
  std::string line;
  std::getline(lines, line);  // header
  std::getline(lines, line);  // |---|
  const std::regex row(R"(^\|\s*(\d+)\s*\|\s*([A-Za-z_]+)\s*\|)");
  while (std::getline(lines, line) && !line.empty() && line[0] == '|') {
    std::smatch m;
    if (std::regex_search(line, m, row)) rows[std::stoi(m[1])] = m[2];
  }
  return rows;
}

std::vector<wire::Message> OneOfEachType() {
  wire::Batch batch;
  batch.head.origin = "310000";
  return {wire::Hello{"310000", {}},
          wire::Welcome{{"310000", {}}},
          wire::Pull{"310000", 0, 10},
          batch,
          wire::SchemaRequest{1},
          wire::Schema{1, "{}"},
          wire::Notify{{"310000", {}}},
          wire::Ping{7},
          wire::Pong{{7}},
          wire::ErrorReply{wire::ErrorCode::kGap, "310000", "detail"},
          wire::HashRequest{"310000", {1}},
          wire::Hashes{"310000", {}},
          wire::Refused{"310000", 0, 1, "reason"}};
}

TEST(ProtocolDocTest, MessageTableEqualsTheWireTypes) {
  auto documented = DocTable(ProtocolDoc(), "| type | name |");
  ASSERT_FALSE(documented.empty()) << "no message table in docs/PROTOCOL.md";
  std::map<int, std::string> code;
  for (int value = 0; value < 256; ++value) {
    const auto name = wire::MessageTypeName(static_cast<wire::MessageType>(value));
    if (!name.empty()) code[value] = std::string(name);
  }
  EXPECT_EQ(documented, code);
  for (const wire::Message& message : OneOfEachType()) {
    const wire::Frames frames = wire::Encode(message);
    ASSERT_FALSE(frames.empty());
    ASSERT_EQ(frames[0].size(), 5u);
    const int type = static_cast<unsigned char>(frames[0][4]);
    EXPECT_EQ(documented[type], wire::MessageTypeName(wire::TypeOf(message)))
        << "frame 0 carries type " << type;
  }
}

TEST(ProtocolDocTest, ErrorCodeTableEqualsTheWireCodes) {
  const auto documented = DocTable(ProtocolDoc(), "| code | name |");
  ASSERT_FALSE(documented.empty()) << "no error-code table in docs/PROTOCOL.md";
  std::map<int, std::string> code;
  for (int value = 0; value < 64; ++value) {
    const auto name = wire::ErrorCodeName(static_cast<wire::ErrorCode>(value));
    if (name != "unknown_error") code[value] = std::string(name);
  }
  EXPECT_EQ(documented, code);
}

TEST(ProtocolDocTest, SeqsAreU64BelowTwoToTheSixtyThree) {
  EXPECT_NE(ProtocolDoc().find("below 2^63"), std::string::npos);
  wire::Frames frames = wire::Encode(wire::Pull{"310000", INT64_MAX, 10});
  EXPECT_EQ(std::get<wire::Pull>(wire::Decode(frames)).after_seq, INT64_MAX);
  // after_seq = 2^63: the 8 bytes after the origin in frame 1.
  std::string& body = frames[1];
  const std::size_t seq_at = 2 + 6;
  body[seq_at] = static_cast<char>(0x80);
  for (std::size_t i = 1; i < 8; ++i) body[seq_at + i] = 0;
  EXPECT_THROW(wire::Decode(frames), wire::WireError);
}

}  // namespace
}  // namespace carehub
