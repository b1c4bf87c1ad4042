// Protocol version 7 (docs/PROTOCOL.md "Versions", "REFUSED"): the REFUSED message (client ->
// server) round-trips, is laid out as documented and every malformed variant is refused; it does
// not exist below version 7. A version-7 BATCH is laid out as version 6, but a body that does
// not decompress makes it damaged (refused by the receiver, which says so with REFUSED) instead
// of malformed, while framing errors stay malformed. A batch read as stored, bodies not
// decompressed (what a version-7 server sends), decodes to the same chain.
#include <gtest/gtest.h>

#include "hub/exchange/wire.h"

namespace carehub::wire {
namespace {

std::string Body(int i) {
  return "{\"record_id\":\"" + std::to_string(1000000 + i) + "\",\"name\":\"person " +
         std::to_string(i * 7919 % 1000) +
         "\",\"status\":\"ACTIVE\",\"level\":" + std::to_string(i % 5) + "}";
}

DictionaryPtr Trained() {
  std::string samples;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    samples += Body(i);
    sizes.push_back(Body(i).size());
  }
  auto bytes = zstd::TrainDictionary(samples, sizes, 4096);
  EXPECT_TRUE(bytes.has_value());
  return std::make_shared<const BodyDictionary>(42, 2000, 0, std::move(*bytes));
}

// `count` chained entries after 0, bodies compressed with `dict` except every fifth (raw).
// `as_stored`: the compressed entries' bodies left empty, as Store::ReadChangesAsStored reads
// them (record_hash zero: a version-7 server derives nothing).
Batch StoredBatch(const DictionaryPtr& dict, int count, bool as_stored) {
  zstd::Compressor compressor;
  Batch b;
  b.head.origin = "310000";
  b.head.seq = count;
  b.head.signature.fill(9);
  Hash256 prev{};
  for (int i = 0; i < count; ++i) {
    ChangeEntry e;
    e.origin = "310000";
    e.seq = 1 + i;
    e.record_id = "id-" + std::to_string(i);
    e.version = 1;
    e.body = Body(i);
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
    CompressedBody& c = b.stored.emplace_back();
    if (i % 5 != 4) {
      c.dict = dict;
      compressor.Compress(dict->dict, e.body, c.frame);
      if (as_stored) {
        e.body.clear();
        e.record_hash = kZeroHash;
      }
    }
    b.entries.push_back(std::move(e));
  }
  b.head.head_hash = prev;
  b.dictionaries = {dict};
  return b;
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

TEST(WireV7Test, RefusedRoundTripsIsLaidOutAsDocumentedAndOnlyInVersionSeven) {
  const Refused refused{"310000", 20000, 40000, "seq 20017: record_hash does not match"};
  const Frames frames = Encode(refused, 7);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], std::string("CHX\x07\x0d", 5));
  EXPECT_EQ(frames[1], std::string("\x00\x06"
                                   "310000"
                                   "\x00\x00\x00\x00\x00\x00\x4e\x20"
                                   "\x00\x00\x00\x00\x00\x00\x9c\x40",
                                   24));
  EXPECT_EQ(frames[2], refused.reason);
  EXPECT_EQ(std::get<Refused>(Decode(frames)), refused);
  EXPECT_EQ(MessageTypeName(TypeOf(refused)), "REFUSED");
  EXPECT_EQ(std::get<Refused>(Decode(Encode(Refused{"310000", 0, 1, ""}, 7))).reason, "");
  // Below version 7 it does not exist: not encoded, and type 13 is an unknown type.
  EXPECT_THROW(Encode(refused, 6), Error);
  Frames older = frames;
  older[0][3] = 6;
  EXPECT_EQ(CodeOf(older), ErrorCode::kMalformed);
}

TEST(WireV7Test, MalformedRefusedIsRejected) {
  const Frames good = Encode(Refused{"310000", 5, 9, "why"}, 7);
  Frames trailing = good;
  trailing[1].push_back('x');
  EXPECT_EQ(CodeOf(trailing), ErrorCode::kMalformed);
  Frames cut = good;
  cut[1].pop_back();
  EXPECT_EQ(CodeOf(cut), ErrorCode::kMalformed);
  Frames two = good;
  two.pop_back();
  EXPECT_EQ(CodeOf(two), ErrorCode::kMalformed);
  Frames four = good;
  four.push_back("");
  EXPECT_EQ(CodeOf(four), ErrorCode::kMalformed);
  // No entries named: head seq not above after_seq.
  Frames empty = good;
  empty[1][2 + 6 + 8 + 7] = 5;  // head seq 5 = after_seq
  EXPECT_EQ(CodeOf(empty), ErrorCode::kMalformed);
  EXPECT_THROW(Encode(Refused{"310000", 9, 9, ""}, 7), Error);
  // A seq of 2^63 or more.
  Frames huge = good;
  huge[1][2 + 6] = static_cast<char>(0x80);
  EXPECT_EQ(CodeOf(huge), ErrorCode::kMalformed);
  // The reason is bounded.
  Frames long_reason = good;
  long_reason[2] = std::string(kMaxRefusedReasonBytes + 1, 'r');
  EXPECT_EQ(CodeOf(long_reason), ErrorCode::kMalformed);
  long_reason[2].pop_back();
  EXPECT_NO_THROW(Decode(long_reason));
  EXPECT_THROW(Encode(Refused{"310000", 1, 2, std::string(kMaxRefusedReasonBytes + 1, 'r')}, 7),
               Error);
}

// What a version-7 server sends without decompressing anything is the same bytes as version 6
// sends after decompressing and hashing, and the receiver derives the same chain from it.
TEST(WireV7Test, ABatchReadAsStoredEncodesAsTheDecompressedOneAndDecodesToTheSameChain) {
  const DictionaryPtr dict = Trained();
  const Batch full = StoredBatch(dict, 40, false);
  const Batch as_stored = StoredBatch(dict, 40, true);
  const Frames sent = Encode(as_stored, 7);
  Frames v6 = Encode(full, 6);
  v6[0][3] = 7;
  EXPECT_EQ(sent, v6);
  const Batch received = std::get<Batch>(Decode(sent));
  EXPECT_FALSE(received.damaged.has_value());
  EXPECT_TRUE(received.hashes_derived);
  EXPECT_EQ(received, full);  // every body, hash and the head
}

TEST(WireV7Test, ABodyThatDoesNotDecompressMakesTheBatchDamagedNotMalformed) {
  const DictionaryPtr dict = Trained();
  const Frames good = Encode(StoredBatch(dict, 20, true), 7);
  // Entry 0: u32 length, u8 op, u32 version, u16 + "id-0", u32 dict, frame.
  const std::size_t body_at = 4 + 1 + 4 + 2 + 4 + 4;
  Frames flipped = good;
  flipped[2][body_at + 6] ^= 0x20;  // inside the compressed block or its checksum
  const Batch damaged = std::get<Batch>(Decode(flipped));
  ASSERT_TRUE(damaged.damaged.has_value());
  EXPECT_NE(damaged.damaged->find("body of seq 1"), std::string::npos) << *damaged.damaged;
  EXPECT_TRUE(damaged.entries.empty());
  EXPECT_TRUE(damaged.stored.empty());
  EXPECT_FALSE(damaged.hashes_derived);
  EXPECT_EQ(damaged.head.seq, 20);
  EXPECT_EQ(damaged.after_seq, 0);
  // The same bytes in version 6 are malformed, as before.
  Frames v6 = flipped;
  v6[0][3] = 6;
  EXPECT_EQ(CodeOf(v6), ErrorCode::kMalformed);
  // Framing errors stay malformed in version 7: an unknown dictionary id, trailing bytes, also
  // after a damaged body.
  Frames unknown = good;
  const std::size_t dict_at = body_at - 4;
  unknown[2][dict_at + 3] ^= 0x01;
  EXPECT_EQ(CodeOf(unknown), ErrorCode::kMalformed);
  Frames damaged_and_trailing = flipped;
  damaged_and_trailing[2].push_back('x');
  const std::size_t size_at = damaged_and_trailing[1].size() - 4;
  const auto size = static_cast<std::uint32_t>(damaged_and_trailing[2].size());
  for (int i = 0; i < 4; ++i) {
    damaged_and_trailing[1][size_at + i] = static_cast<char>(size >> (24 - 8 * i));
  }
  EXPECT_EQ(CodeOf(damaged_and_trailing), ErrorCode::kMalformed);
  // A damaged raw body (entry 4) decodes: the chain derived from it fails the receiver's
  // verification (it does not reach the signed head), as in every version.
  const Batch sound = std::get<Batch>(Decode(good));
  EXPECT_FALSE(sound.damaged.has_value());
  EXPECT_EQ(sound.entries.back().entry_hash, sound.head.head_hash);
}

// A version-7 server bounds a batch by the content sizes its body frames declare, read from
// each frame's header by hand (RFC 8878): every size class of the field, as zstd writes it.
TEST(WireV7Test, TheContentSizeABodyFrameDeclaresIsReadFromItsHeader) {
  const DictionaryPtr dict = Trained();
  zstd::Compressor compressor;
  zstd::Decompressor decompressor;
  for (const std::size_t size : {1, 7, 255, 256, 257, 1000, 65535, 65791, 65792, 65793, 300000}) {
    std::string body;
    for (int i = 0; body.size() < size; ++i) body += Body(i % 1000);
    body.resize(size);
    std::string frame;
    compressor.Compress(dict->dict, body, frame);
    EXPECT_EQ(zstd::BodyContentSize(frame), size) << size;
    std::string back;
    decompressor.Decompress(dict->dict, frame, back, true, 1 << 20);  // zstd reads the same
    EXPECT_EQ(back.size(), size);
    EXPECT_FALSE(zstd::BodyContentSize(frame.substr(0, 1)).has_value()) << size;
  }
  EXPECT_FALSE(zstd::BodyContentSize("").has_value());
  EXPECT_FALSE(zstd::BodyContentSize(std::string(1, '\x08') + "abcdefgh").has_value());
}

}  // namespace
}  // namespace carehub::wire
