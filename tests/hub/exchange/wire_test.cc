// The wire format: round trips of every message type in every spoken version, the documented
// byte layout of a PULL, the version-4 BATCH (derived hashes, zstd, bounds) and the decoder's
// rejection of malformed input with the right error code.
#include "hub/exchange/wire.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "tests/support/temp_dir.h"

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

// `count` entries after `after` that form a real chain from `prev` (version 4 sends no hashes:
// the receiver derives them, so only a sound chain round-trips unchanged).
Batch ChainedBatch(std::int64_t after, int count, Hash256 prev = kZeroHash) {
  Batch batch;
  batch.after_seq = after;
  batch.head.origin = "310000";
  batch.head.seq = after + count;
  batch.head.signature.fill(9);
  for (int i = 0; i < count; ++i) {
    ChangeEntry e = Entry(after + 1 + i);
    e.body += std::string(200, static_cast<char>('a' + i % 7));
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
    batch.entries.push_back(std::move(e));
  }
  if (count > 0) batch.head.head_hash = batch.entries.back().entry_hash;
  return batch;
}

TEST(WireTest, EveryMessageRoundTripsInEveryVersion) {
  Batch batch;
  batch.after_seq = 9;
  batch.head.origin = "310000";
  batch.head.seq = 11;
  batch.head.head_hash.fill(7);
  batch.head.signature.fill(9);
  batch.entries = {Entry(10), Entry(11)};  // versions 2 and 3 carry the hashes as they are
  Hash256 prev;
  prev.fill(0x5A);
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
  for (std::uint8_t version = kOldestProtocolVersion; version <= kProtocolVersion; ++version) {
    for (Message m : messages) {
      if (version >= 4 && std::holds_alternative<Batch>(m)) m = ChainedBatch(9, 2, prev);
      if (version < 3 && std::holds_alternative<Hello>(m)) std::get<Hello>(m).signed_heads = {};
      const Frames frames = Encode(m, version);
      EXPECT_EQ(frames[0].substr(0, 3), "CHX");
      EXPECT_EQ(static_cast<std::uint8_t>(frames[0][3]), version);
      EXPECT_EQ(static_cast<std::uint8_t>(frames[0][4]), static_cast<std::uint8_t>(TypeOf(m)));
      EXPECT_EQ(Decode(frames), m)
          << "type " << static_cast<int>(TypeOf(m)) << " version " << static_cast<int>(version);
    }
  }
  EXPECT_EQ(std::get<Batch>(Decode(Encode(ChainedBatch(5, 0)))), ChainedBatch(5, 0));  // caught up
}

// Version 4 sends op, version, record_id and body per entry; the receiver derives seq and the
// three hashes. Whatever hashes the sender's entries claim, the decoded ones are recomputed: a
// claimed hash that the body does not produce cannot travel.
TEST(WireTest, VersionFourDerivesEveryHashAndIsSmaller) {
  Batch batch = ChainedBatch(100, 500);
  const Frames v4 = Encode(batch, 4);
  const Frames v3 = Encode(batch, 3);
  ASSERT_EQ(v4.size(), 3u);
  EXPECT_LT(v4[2].size() * 3, v3[2].size()) << "v4 " << v4[2].size() << " v3 " << v3[2].size();
  EXPECT_EQ(std::get<Batch>(Decode(v4)), batch);
  Batch forged = batch;
  forged.entries[7].record_hash.fill(1);
  forged.entries[7].entry_hash.fill(2);
  EXPECT_EQ(Encode(forged, 4), v4);
  EXPECT_EQ(std::get<Batch>(Decode(Encode(forged, 4))), batch);
  // Entries must run from after_seq + 1 to the head without a hole.
  Batch hole = batch;
  hole.entries.erase(hole.entries.begin() + 3);
  EXPECT_THROW(Encode(hole, 4), Error);
  EXPECT_NO_THROW(Encode(hole, 3));
}

// A decoded version-4 batch says its hashes were derived here: the writer then checks only the
// links, the head and its signature (EntryHashes::kDerivedHere), which still refuses a batch that
// does not continue the held chain or does not end at the signed head.
TEST(WireTest, VersionFourBatchesAreMarkedDerivedAndStillCheckedAgainstChainAndHead) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "a");
  std::filesystem::create_directories(dir / "b");
  const HubKeys keys = HubKeys::Create(dir / "a");
  Batch batch = ChainedBatch(0, 20);
  batch.head = SignHead(keys, "310000", 20, batch.entries.back().entry_hash);
  const Batch v4 = std::get<Batch>(Decode(Encode(batch, 4)));
  EXPECT_TRUE(v4.hashes_derived);
  EXPECT_FALSE(std::get<Batch>(Decode(Encode(batch, 3))).hashes_derived);
  const auto derived = EntryHashes::kDerivedHere;
  EXPECT_EQ(VerifyBatch("310000", {}, v4.entries, v4.head, keys.sign_public(), derived),
            std::nullopt);
  Hash256 other;
  other.fill(3);
  EXPECT_NE(VerifyBatch("310000", {0, other}, v4.entries, v4.head, keys.sign_public(), derived),
            std::nullopt);  // does not continue the held chain
  SignedHead wrong = SignHead(keys, "310000", 20, other);
  EXPECT_NE(VerifyBatch("310000", {}, v4.entries, wrong, keys.sign_public(), derived),
            std::nullopt);  // ends elsewhere than the signed head
  EXPECT_NE(VerifyBatch("310000", {}, v4.entries, v4.head, HubKeys::Create(dir / "b").sign_public(),
                        derived),
            std::nullopt);  // signed by another key
}

// A server reading a batch for serving hashed every body itself (Store::ReadChanges) but holds
// the stored entry hashes: EntryHashes::kRecordHashesHere recomputes each entry_hash (not the
// record_hash again), so a body changed at rest still makes the batch fail.
TEST(WireTest, RecordHashesComputedHereStillCheckEveryStoredEntryHash) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir / "a");
  const HubKeys keys = HubKeys::Create(dir / "a");
  Batch batch = ChainedBatch(0, 20);
  batch.head = SignHead(keys, "310000", 20, batch.entries.back().entry_hash);
  const auto here = EntryHashes::kRecordHashesHere;
  EXPECT_EQ(VerifyBatch("310000", {}, batch.entries, batch.head, keys.sign_public(), here),
            std::nullopt);
  Batch damaged = batch;
  damaged.entries[7].body.back() ^= 1;  // as read: the record_hash is of the changed body
  damaged.entries[7].record_hash = RecordHash(damaged.entries[7].body);
  EXPECT_NE(VerifyBatch("310000", {}, damaged.entries, damaged.head, keys.sign_public(), here),
            std::nullopt);
  EXPECT_EQ(VerifyBatch("310000", {}, damaged.entries, damaged.head, keys.sign_public(),
                        EntryHashes::kDerivedHere),
            std::nullopt)
      << "the stored entry hash is only checked when it is not derived";
}

// The version-4 header: after the version-3 fields (count last), the first entry's prev_hash and
// the u32 size of the entries once decompressed; frame 2 is one zstd frame of that content size.
TEST(WireTest, VersionFourBatchLayoutIsAsDocumented) {
  Hash256 prev;
  prev.fill(0x5A);
  const Frames frames = Encode(ChainedBatch(41, 2, prev), 4);
  EXPECT_EQ(frames[0], std::string("CHX\x04\x04", 5));
  const std::string& header = frames[1];
  ASSERT_EQ(header.size(), 2 + 6 + 8 + 8 + 32 + 64 + 4 + 32 + 4u);
  EXPECT_EQ(header.substr(2 + 6 + 8 + 8 + 96, 4), std::string("\x00\x00\x00\x02", 4));
  EXPECT_EQ(header.substr(2 + 6 + 8 + 8 + 96 + 4, 32), std::string(32, '\x5A'));
  std::string packed(ZSTD_getFrameContentSize(frames[2].data(), frames[2].size()), '\0');
  ASSERT_EQ(ZSTD_decompress(packed.data(), packed.size(), frames[2].data(), frames[2].size()),
            packed.size());
  const std::size_t size = packed.size();
  EXPECT_EQ(header.substr(header.size() - 4),
            std::string({static_cast<char>(size >> 24), static_cast<char>(size >> 16),
                         static_cast<char>(size >> 8), static_cast<char>(size)}));
  // Entry 1: u32 length, u8 op, u32 version, str16 record_id, body.
  const ChangeEntry first = ChainedBatch(41, 2, prev).entries[0];
  const std::string expected_first =
      std::string("\x00\x00\x00", 3) + static_cast<char>(7 + 32 + first.body.size()) +
      std::string("\x02\x00\x00\x00\x2A\x00\x20", 7) + first.record_id + first.body;
  EXPECT_EQ(packed.substr(0, expected_first.size()), expected_first);
}

TEST(WireTest, PullLayoutIsBigEndianAsDocumented) {
  const Frames frames = Encode(Pull{"310000", 0x0102, 0x0A0B0C0D}, 5);  // (6: wire_v6_test.cc)
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], std::string("CHX\x05\x03", 5));
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
  batch.entries[0].seq = 1;
  Frames missing_entries = Encode(batch);
  missing_entries.pop_back();
  EXPECT_EQ(CodeOf(missing_entries), ErrorCode::kMalformed);
  Frames bad_op = Encode(batch, 3);
  bad_op[2][4 + 8] = 3;  // after the entry's u32 length and its u64 seq
  EXPECT_EQ(CodeOf(bad_op), ErrorCode::kMalformed);
  Frames short_entries = Encode(batch, 3);
  short_entries[2].pop_back();  // the entry is shorter than its length says
  EXPECT_EQ(CodeOf(short_entries), ErrorCode::kMalformed);
  Frames trailing_entries = Encode(batch, 3);
  trailing_entries[2].push_back('x');
  EXPECT_EQ(CodeOf(trailing_entries), ErrorCode::kMalformed);
  Frames count_too_large = Encode(batch, 3);
  count_too_large[1][count_too_large[1].size() - 1] = 2;  // header says 2 entries, frame holds 1
  EXPECT_EQ(CodeOf(count_too_large), ErrorCode::kMalformed);
  Frames huge_count = Encode(Hello{"310000", {}}, 3);
  huge_count[1] = std::string("\x00\x00\xFF\xFF\xFF\xFF", 6);
  EXPECT_EQ(CodeOf(huge_count), ErrorCode::kMalformed);
}

// Version 5 adds HASH_REQUEST (server -> client) and HASHES (its answer): they round-trip in 5,
// do not exist before it (not encoded; decoded as an unknown type), and are bounded (1..64 seqs
// asked, at most 64 hashes, seqs ascending from 1, exact frame length) as documented.
TEST(WireTest, VersionFiveHashMessagesRoundTripAndAreBounded) {
  Hash256 h1, h2;
  h1.fill(0x11);
  h2.fill(0x22);
  const HashRequest request{"310000", {1, 500, 1000}};
  const Hashes answer{"310000", {{1, h1}, {1000, h2}}};
  for (const Message& m : {Message(request), Message(answer), Message(Hashes{"310000", {}})}) {
    const Frames frames = Encode(m, 5);
    EXPECT_EQ(frames.size(), 2u);
    EXPECT_EQ(Decode(frames), m);
    EXPECT_THROW(Encode(m, 4), Error);
    Frames older = frames;
    older[0][3] = 4;
    EXPECT_EQ(CodeOf(older), ErrorCode::kMalformed);
  }
  // Layout: str16 origin, u32 count, count x u64 seq (and a 32-byte hash after each in HASHES).
  const Frames frames = Encode(answer, 5);
  EXPECT_EQ(static_cast<std::uint8_t>(frames[0][4]), 12);
  EXPECT_EQ(frames[1].size(), 2u + 6 + 4 + 2 * (8 + 32));
  EXPECT_EQ(frames[1].substr(0, 12), std::string("\x00\x06"
                                                 "310000"
                                                 "\x00\x00\x00\x02",
                                                 12));
  EXPECT_EQ(frames[1].substr(12, 8), std::string("\x00\x00\x00\x00\x00\x00\x00\x01", 8));
  EXPECT_EQ(frames[1].substr(20, 32), std::string(32, '\x11'));

  const auto request_of = [](std::vector<std::int64_t> seqs) {
    return Encode(HashRequest{"310000", std::move(seqs)}, 5);
  };
  EXPECT_EQ(CodeOf(request_of({})), ErrorCode::kMalformed);      // nothing asked
  EXPECT_EQ(CodeOf(request_of({0, 1})), ErrorCode::kMalformed);  // seq 0
  EXPECT_EQ(CodeOf(request_of({5, 5})), ErrorCode::kMalformed);  // not ascending
  std::vector<std::int64_t> many(kMaxHashSeqs + 1);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(CodeOf(request_of(many)), ErrorCode::kMalformed);
  many.pop_back();
  EXPECT_NO_THROW(Decode(request_of(many)));
  Frames trailing = Encode(answer, 5);
  trailing[1].push_back('x');
  EXPECT_EQ(CodeOf(trailing), ErrorCode::kMalformed);
  Frames cut = Encode(answer, 5);
  cut[1].pop_back();
  EXPECT_EQ(CodeOf(cut), ErrorCode::kMalformed);
}

// Frame 2 of a version-4 BATCH replaced by `entries` compressed (and the header's size fixed).
Frames WithEntries(Frames frames, const std::string& packed, std::uint32_t declared) {
  std::string compressed(ZSTD_compressBound(packed.size()), '\0');
  compressed.resize(
      ZSTD_compress(compressed.data(), compressed.size(), packed.data(), packed.size(), 1));
  frames[2] = compressed;
  std::string& header = frames[1];
  for (int i = 0; i < 4; ++i)
    header[header.size() - 4 + i] = static_cast<char>(declared >> (24 - 8 * i));
  return frames;
}

// A hostile member cannot make the receiver allocate beyond the bounds: sizes and counts are
// checked against them and against each other before anything is decompressed.
TEST(WireTest, VersionFourBoundsAndMalformedBatchesAreRefused) {
  const Batch batch = ChainedBatch(0, 3);
  const Frames good = Encode(batch, 4);
  ASSERT_NO_THROW(Decode(good));
  std::string packed(ZSTD_getFrameContentSize(good[2].data(), good[2].size()), '\0');
  ZSTD_decompress(packed.data(), packed.size(), good[2].data(), good[2].size());
  const auto size = static_cast<std::uint32_t>(packed.size());

  EXPECT_EQ(CodeOf(WithEntries(good, packed, size + 1)), ErrorCode::kMalformed);
  EXPECT_NO_THROW(Decode(WithEntries(good, packed, size)));
  EXPECT_EQ(CodeOf(WithEntries(good, packed, size - 1)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(WithEntries(good, packed, kMaxBatchEntriesBytes + 1)), ErrorCode::kMalformed);
  // Trailing bytes inside the entries, after the zstd frame, or a second zstd frame.
  EXPECT_EQ(CodeOf(WithEntries(good, packed + "x", size + 1)), ErrorCode::kMalformed);
  Frames after_frame = good;
  after_frame[2].push_back('x');
  EXPECT_EQ(CodeOf(after_frame), ErrorCode::kMalformed);
  Frames two_frames = good;
  two_frames[2] += good[2];
  EXPECT_EQ(CodeOf(two_frames), ErrorCode::kMalformed);
  Frames garbage = good;
  garbage[2] = std::string(good[2].size(), 'z');
  EXPECT_EQ(CodeOf(garbage), ErrorCode::kMalformed);
  // The count must equal head seq - after_seq and fit the bounds.
  Batch wrong_count = batch;
  wrong_count.head.seq = 4;
  wrong_count.entries.back().seq = 4;  // encodes 1, 2, 4: refused by the encoder
  EXPECT_THROW(Encode(wrong_count, 4), Error);
  Frames count_off = good;
  count_off[1][2 + 6 + 8 + 8 + 96 + 3] = 2;  // count 2, head seq 3, after 0
  EXPECT_EQ(CodeOf(count_off), ErrorCode::kMalformed);
  // An empty batch carries no entries, no size and a zero prev_hash.
  Frames empty = Encode(ChainedBatch(3, 0), 4);
  ASSERT_NO_THROW(Decode(empty));
  empty[2] = "x";
  EXPECT_EQ(CodeOf(empty), ErrorCode::kMalformed);
  // A bad op inside the compressed entries.
  std::string bad_op = packed;
  bad_op[4] = 3;
  EXPECT_EQ(CodeOf(WithEntries(good, bad_op, size)), ErrorCode::kMalformed);
}

}  // namespace
}  // namespace carehub::wire
