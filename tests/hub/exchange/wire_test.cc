// The wire format: round trips of every message type, the documented byte layout of a PULL,
// and the decoder's rejection of malformed input with the right error code.
#include "hub/exchange/wire.h"

#include <gtest/gtest.h>

namespace carehub::wire {
namespace {

ChangeEntry Entry(std::int64_t seq) {
  ChangeEntry e;
  e.origin = "310000";
  e.seq = seq;
  e.record_id = "0123456789abcdef0123456789abcdef";
  e.op = seq % 2 ? ChangeOp::kUpsert : ChangeOp::kRetract;
  e.version = static_cast<std::int32_t>(seq);
  e.record_hash.fill(static_cast<std::uint8_t>(seq));
  e.prev_hash.fill(0xAB);
  e.entry_hash.fill(0xCD);
  e.body = std::string("\xC3\x01 body", 7) + std::to_string(seq);
  return e;
}

TEST(WireTest, EveryMessageRoundTrips) {
  Batch batch;
  batch.after_seq = 9;
  batch.head.origin = "310000";
  batch.head.seq = 11;
  batch.head.head_hash.fill(7);
  batch.head.signature.fill(9);
  batch.entries = {Entry(10), Entry(11)};
  const std::vector<Message> messages = {
      Hello{"320000", {{"310000", 5}, {"320000", 7}}},
      Welcome{{"310000", {}}},
      Pull{"310000", 42, 5000},
      batch,
      SchemaRequest{0x1122334455667788ULL},
      Schema{{0x8877665544332211ULL}, "{\"type\":\"record\"}"},
      Notify{{"310000", {{"330000", 1}}}},
      Ping{{123}},
      Pong{{456}},
      ErrorReply{ErrorCode::kGap, "310000", "no seq 5"},
  };
  for (const Message& m : messages) {
    const Frames frames = Encode(m);
    EXPECT_EQ(frames[0].substr(0, 3), "CHX");
    EXPECT_EQ(static_cast<std::uint8_t>(frames[0][3]), kProtocolVersion);
    EXPECT_EQ(static_cast<std::uint8_t>(frames[0][4]), static_cast<std::uint8_t>(TypeOf(m)));
    EXPECT_EQ(Decode(frames), m) << "type " << static_cast<int>(TypeOf(m));
  }
}

TEST(WireTest, PullLayoutIsBigEndianAsDocumented) {
  const Frames frames = Encode(Pull{"310000", 0x0102, 0x0A0B0C0D});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], std::string("CHX\x03\x03", 5));
  const std::string expected = std::string("\x00\x06", 2) + "310000" +
                               std::string("\x00\x00\x00\x00\x00\x00\x01\x02", 8) +
                               std::string("\x0A\x0B\x0C\x0D", 4);
  EXPECT_EQ(frames[1], expected);
}

ErrorCode CodeOf(const Frames& frames) {
  try {
    Decode(frames);
  } catch (const WireError& e) {
    return e.code();
  }
  ADD_FAILURE() << "decoded malformed input";
  return ErrorCode::kInternal;
}

TEST(WireTest, MalformedInputIsRejectedWithItsCode) {
  Frames pull = Encode(Pull{"310000", 1, 10});
  EXPECT_EQ(CodeOf({}), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf({"XYZ\x01\x03", pull[1]}), ErrorCode::kMalformed);
  Frames future = pull;
  future[0][3] = kProtocolVersion + 1;
  EXPECT_EQ(CodeOf(future), ErrorCode::kUnknownVersion);
  Frames version_one = pull;  // version 1 sent one frame per BATCH entry: refused, not misread
  version_one[0][3] = 1;
  EXPECT_EQ(CodeOf(version_one), ErrorCode::kUnknownVersion);
  Frames unknown_type = pull;
  unknown_type[0][4] = 99;
  EXPECT_EQ(CodeOf(unknown_type), ErrorCode::kMalformed);
  Frames short_frame = pull;
  short_frame[1].pop_back();
  EXPECT_EQ(CodeOf(short_frame), ErrorCode::kMalformed);
  Frames trailing = pull;
  trailing[1].push_back('x');
  EXPECT_EQ(CodeOf(trailing), ErrorCode::kMalformed);
  Frames extra = pull;
  extra.push_back("");
  EXPECT_EQ(CodeOf(extra), ErrorCode::kMalformed);

  Batch batch;
  batch.head.origin = "310000";
  batch.head.seq = 1;
  batch.entries = {Entry(1)};
  Frames missing_entries = Encode(batch);
  missing_entries.pop_back();
  EXPECT_EQ(CodeOf(missing_entries), ErrorCode::kMalformed);
  Frames bad_op = Encode(batch);
  bad_op[2][4 + 8] = 3;  // after the entry's u32 length and its u64 seq
  EXPECT_EQ(CodeOf(bad_op), ErrorCode::kMalformed);
  Frames short_entries = Encode(batch);
  short_entries[2].pop_back();  // the entry is shorter than its length says
  EXPECT_EQ(CodeOf(short_entries), ErrorCode::kMalformed);
  Frames trailing_entries = Encode(batch);
  trailing_entries[2].push_back('x');
  EXPECT_EQ(CodeOf(trailing_entries), ErrorCode::kMalformed);
  Frames count_too_large = Encode(batch);
  count_too_large[1][count_too_large[1].size() - 1] = 2;  // header says 2 entries, frame holds 1
  EXPECT_EQ(CodeOf(count_too_large), ErrorCode::kMalformed);
  Frames huge_count = Encode(Hello{"310000", {}});
  huge_count[1] = std::string("\x00\x00\xFF\xFF\xFF\xFF", 6);
  EXPECT_EQ(CodeOf(huge_count), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace carehub::wire
