// Protocol version 6 (docs/PROTOCOL.md "BATCH"): entries carry their bodies as the sender
// stores them (the at-rest zstd frame with its dictionary id, or raw), PULL lists the
// dictionaries the client holds, the dictionaries a batch uses that the client lacks travel in
// frame 3. Round trips keep every frame byte for byte; every bound, an unknown or differing
// dictionary, a damaged frame or dictionary and trailing bytes are refused as malformed.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_format: a magicless frame without checksum
#include <gtest/gtest.h>
#include <zstd.h>

#include "hub/exchange/wire.h"

namespace carehub::wire {
namespace {

std::string Body(int i) {
  return "{\"record_id\":\"" + std::to_string(1000000 + i) + "\",\"name\":\"person " +
         std::to_string(i * 7919 % 1000) +
         "\",\"status\":\"ACTIVE\",\"level\":" + std::to_string(i % 5) +
         ",\"facility\":\"91310000" + std::to_string(i % 97) + "\"}";
}

DictionaryPtr Trained(int salt, std::uint64_t fingerprint = 42) {
  std::string samples;
  std::vector<std::size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    const std::string body = Body(i * (salt + 1)) + std::string(salt, 'x');
    samples += body;
    sizes.push_back(body.size());
  }
  auto bytes = zstd::TrainDictionary(samples, sizes, 4096);
  EXPECT_TRUE(bytes.has_value());
  return std::make_shared<const BodyDictionary>(fingerprint, 2000, 0, std::move(*bytes));
}

// `count` chained entries after `after`; entry i's body compressed with `dict` unless i % 5 == 4
// (raw, as a row stored before its schema had a dictionary).
Batch StoredBatch(const DictionaryPtr& dict, std::int64_t after = 0, int count = 50) {
  zstd::Compressor compressor;
  Batch b;
  b.after_seq = after;
  b.head.origin = "310000";
  b.head.seq = after + count;
  b.head.signature.fill(9);
  Hash256 prev{};
  for (int i = 0; i < count; ++i) {
    ChangeEntry e;
    e.origin = "310000";
    e.seq = after + 1 + i;
    e.record_id = "id-" + std::to_string(i);
    e.version = 1 + i % 3;
    e.body = Body(i);
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
    CompressedBody& c = b.stored.emplace_back();
    if (i % 5 != 4) {
      c.dict = dict;
      compressor.Compress(dict->dict, e.body, c.frame);
    }
    b.entries.push_back(std::move(e));
  }
  b.head.head_hash = prev;
  b.dictionaries = {dict};
  return b;
}

ErrorCode CodeOf(const Frames& frames, const HeldDictionaries* held = nullptr) {
  try {
    Decode(frames, held);
  } catch (const WireError& e) {
    return e.code();
  }
  ADD_FAILURE() << "decoded malformed input";
  return ErrorCode::kInternal;
}

void PutU32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (24 - 8 * i));
}

TEST(WireV6Test, BodiesTravelAsStoredAndDecodeToTheSameChain) {
  const DictionaryPtr dict = Trained(0);
  const Batch batch = StoredBatch(dict);
  const Frames frames = Encode(batch, 6);
  ASSERT_EQ(frames.size(), 4u);
  const Batch got = std::get<Batch>(Decode(frames));
  EXPECT_EQ(got, batch);  // bodies uncompressed, every hash derived here
  EXPECT_TRUE(got.hashes_derived);
  ASSERT_EQ(got.stored.size(), batch.entries.size());
  for (std::size_t i = 0; i < got.stored.size(); ++i) {
    EXPECT_EQ(got.stored[i].frame, batch.stored[i].frame) << i;  // byte for byte
    EXPECT_EQ(got.stored[i].dict != nullptr, batch.stored[i].dict != nullptr) << i;
    if (got.stored[i].dict) {
      EXPECT_EQ(got.stored[i].dict->id(), dict->id());
    }
  }
  ASSERT_EQ(got.dictionaries.size(), 1u);
  EXPECT_EQ(got.dictionaries[0]->dict.bytes(), dict->dict.bytes());
  EXPECT_EQ(got.dictionaries[0]->fingerprint, 42u);
  // The frames go as stored: smaller than the uncompressed bodies (which version 4 zstd-packs).
  std::size_t bodies = 0;
  for (const ChangeEntry& e : batch.entries) bodies += e.body.size();
  EXPECT_LT(frames[2].size(), bodies);
  // Without stored bodies every entry goes raw (dict 0), and decodes the same.
  Batch raw = batch;
  raw.stored.clear();
  raw.dictionaries.clear();
  const Batch raw_got = std::get<Batch>(Decode(Encode(raw, 6)));
  EXPECT_EQ(raw_got, batch);
  for (const CompressedBody& c : raw_got.stored) EXPECT_EQ(c.dict, nullptr);
  // Caught up: no entries, no dictionaries.
  Batch empty = StoredBatch(dict, 7, 0);
  empty.dictionaries.clear();
  EXPECT_EQ(std::get<Batch>(Decode(Encode(empty, 6))), empty);
}

// A receiver decodes batch after batch into the vectors of applied ones (wire::DecodeBatch):
// whatever those held before — more or fewer entries, other bodies, frames where this batch has
// raw bodies, another version's — the result is the one Decode gives, and the strings of the
// entries kept are reused (their buffers stay where they were).
TEST(WireV6Test, DecodingIntoAnEarlierBatchGivesWhatDecodeGives) {
  const DictionaryPtr dict = Trained(0);
  const HeldDictionaries held{{dict->id(), dict}};
  Batch into;
  DecodeBatch(Encode(StoredBatch(dict, 0, 80), 6), into);
  const char* const kept_body = into.entries[3].body.data();
  std::vector<Batch> sent = {StoredBatch(dict, 80, 50), StoredBatch(dict, 130, 60)};
  Batch raw = StoredBatch(dict, 190, 30);
  raw.stored.clear();  // every body raw: no frame may be left from before
  raw.dictionaries.clear();
  sent.push_back(raw);
  for (const Batch& batch : sent) {
    for (const std::uint8_t version : {std::uint8_t{6}, std::uint8_t{4}, std::uint8_t{6}}) {
      const Frames frames = Encode(batch, version);
      DecodeBatch(frames, into, &held);
      const Batch fresh = std::get<Batch>(Decode(frames, &held));
      ASSERT_EQ(into, fresh) << "version " << int{version};
      EXPECT_TRUE(into.hashes_derived);
      ASSERT_EQ(into.stored.size(), fresh.stored.size());
      for (std::size_t i = 0; i < fresh.stored.size(); ++i) {
        EXPECT_EQ(into.stored[i].frame, fresh.stored[i].frame) << i;
        EXPECT_EQ(into.stored[i].dict != nullptr, fresh.stored[i].dict != nullptr) << i;
      }
      EXPECT_EQ(into.dictionaries.size(), fresh.dictionaries.size());
    }
  }
  // The buffers of entry 3 survived every batch (bodies of one size here: no reallocation).
  EXPECT_EQ(into.entries[3].body.data(), kept_body);
  // Caught up: nothing left of the batch before.
  Batch empty = StoredBatch(dict, 220, 0);
  empty.dictionaries.clear();
  DecodeBatch(Encode(empty, 6), into);
  EXPECT_EQ(into, empty);
  EXPECT_TRUE(into.stored.empty());
  // Only a BATCH decodes so.
  EXPECT_THROW(DecodeBatch(Encode(Ping{7}, 6), into), WireError);
}

TEST(WireV6Test, ADictionaryNotSentMustBeHeldAndHeldOnesMustNotDiffer) {
  const DictionaryPtr dict = Trained(0);
  Batch batch = StoredBatch(dict);
  batch.dictionaries.clear();  // the PULL listed it
  const Frames frames = Encode(batch, 6);
  EXPECT_EQ(CodeOf(frames), ErrorCode::kMalformed);  // unknown dictionary id
  const HeldDictionaries held{{dict->id(), dict}};
  EXPECT_EQ(std::get<Batch>(Decode(frames, &held)), batch);
  // Another dictionary's bytes claiming a held id: refused, whether sent or held.
  const DictionaryPtr other = Trained(3);
  std::string forged_bytes = other->dict.bytes();
  // The dictionary ID field: bytes 4..7, little-endian, of zstd's dictionary header.
  for (int i = 0; i < 4; ++i) forged_bytes[4 + i] = static_cast<char>(dict->id() >> (8 * i));
  const auto forged = std::make_shared<const BodyDictionary>(42, 0, 0, forged_bytes);
  ASSERT_EQ(forged->id(), dict->id());
  const HeldDictionaries held_forged{{dict->id(), forged}};
  EXPECT_EQ(CodeOf(Encode(StoredBatch(dict), 6), &held_forged), ErrorCode::kMalformed);
  // Decompressed with the forged dictionary the frames do not check out (damaged dictionary).
  EXPECT_EQ(CodeOf(frames, &held_forged), ErrorCode::kMalformed);
}

TEST(WireV6Test, PullListsHeldDictionariesWithinItsBound) {
  Pull pull{"310000", 0x0102, 0x0A0B0C0D, {7, 0x01020304}};
  const Frames frames = Encode(pull, 6);
  const std::string expected = std::string("\x00\x06", 2) + "310000" +
                               std::string("\x00\x00\x00\x00\x00\x00\x01\x02", 8) +
                               std::string("\x0A\x0B\x0C\x0D", 4) + std::string("\x02", 1) +
                               std::string("\x00\x00\x00\x07\x01\x02\x03\x04", 8);
  EXPECT_EQ(frames[1], expected);
  EXPECT_EQ(std::get<Pull>(Decode(frames)), pull);
  // Versions before 6 do not carry the list.
  EXPECT_EQ(std::get<Pull>(Decode(Encode(pull, 5))), (Pull{"310000", 0x0102, 0x0A0B0C0D}));
  Pull many{"310000", 0, 10};
  for (std::uint32_t i = 1; i <= kMaxPullDictionaries; ++i) many.dictionaries.push_back(i);
  EXPECT_EQ(std::get<Pull>(Decode(Encode(many, 6))), many);
  many.dictionaries.push_back(99);
  EXPECT_THROW(Encode(many, 6), Error);
  Frames too_many = Encode(Pull{"310000", 0, 10}, 6);
  too_many[1].back() = static_cast<char>(kMaxPullDictionaries + 1);
  for (std::uint32_t i = 0; i <= kMaxPullDictionaries; ++i) too_many[1] += "\x00\x00\x00\x01";
  EXPECT_EQ(CodeOf(too_many), ErrorCode::kMalformed);
  Frames zero = Encode(Pull{"310000", 0, 10, {5}}, 6);
  zero[1].back() = 0;  // id 0 means "raw", never a dictionary
  EXPECT_EQ(CodeOf(zero), ErrorCode::kMalformed);
  Frames trailing = Encode(Pull{"310000", 0, 10, {5}}, 6);
  trailing[1].push_back('x');
  EXPECT_EQ(CodeOf(trailing), ErrorCode::kMalformed);
  Frames missing = Encode(Pull{"310000", 0, 10}, 6);
  missing[1].pop_back();  // no count byte
  EXPECT_EQ(CodeOf(missing), ErrorCode::kMalformed);
}

// Frame 3: u8 count, then per dictionary u32 id, u64 fingerprint, u32 size, bytes.
std::string DictionaryFrame(const std::vector<std::pair<std::uint32_t, std::string>>& dicts,
                            std::size_t count) {
  std::string f(1, static_cast<char>(count));
  for (const auto& [id, bytes] : dicts) {
    std::string entry(16, '\0');
    PutU32(entry, 0, id);
    entry[11] = 42;
    PutU32(entry, 12, static_cast<std::uint32_t>(bytes.size()));
    f += entry + bytes;
  }
  return f;
}

TEST(WireV6Test, TheDictionariesFrameIsBounded) {
  const DictionaryPtr dict = Trained(0);
  const auto id = static_cast<std::uint32_t>(dict->id());
  const std::string& bytes = dict->dict.bytes();
  const Frames good = Encode(StoredBatch(dict), 6);
  EXPECT_EQ(good[3], DictionaryFrame({{id, bytes}}, 1));
  auto with = [&](std::string frame) {
    Frames f = good;
    f[3] = std::move(frame);
    return f;
  };
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id, bytes}, {id, bytes}}, 2))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id + 1, bytes}}, 1))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id, bytes.substr(0, 8)}}, 1))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id, "not a dictionary"}}, 1))), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id, bytes}}, 1) + "x")), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with(DictionaryFrame({}, kMaxBatchDictionaries + 1))), ErrorCode::kMalformed);
  std::string huge = DictionaryFrame({{id, bytes}}, 1);
  PutU32(huge, 1 + 12, kMaxDictionaryBytes + 1);
  huge.resize(1 + 16 + kMaxDictionaryBytes + 1, 'd');
  EXPECT_EQ(CodeOf(with(huge)), ErrorCode::kMalformed);
  EXPECT_EQ(CodeOf(with("")), ErrorCode::kMalformed);  // no count
  Frames three = good;
  three.pop_back();  // frame 3 missing
  EXPECT_EQ(CodeOf(three), ErrorCode::kMalformed);
  // A damaged dictionary (its content changed, its id kept) fails its frames.
  std::string damaged = bytes;
  for (std::size_t i = damaged.size() / 2; i < damaged.size(); ++i) damaged[i] ^= 0x55;
  EXPECT_EQ(CodeOf(with(DictionaryFrame({{id, damaged}}, 1))), ErrorCode::kMalformed);
  // The encoder refuses what a receiver would refuse.
  Batch crowded = StoredBatch(dict);
  crowded.dictionaries.assign(kMaxBatchDictionaries + 1, dict);
  EXPECT_THROW(Encode(crowded, 6), Error);
}

TEST(WireV6Test, EntriesAreBoundedAndEachFrameMustCheckOut) {
  const DictionaryPtr dict = Trained(0);
  const Frames good = Encode(StoredBatch(dict), 6);
  ASSERT_NO_THROW(Decode(good));
  // The header's size is the entries frame's length; trailing bytes; a cut entry.
  Frames size_off = good;
  PutU32(size_off[1], size_off[1].size() - 4, static_cast<std::uint32_t>(good[2].size() + 1));
  EXPECT_EQ(CodeOf(size_off), ErrorCode::kMalformed);
  Frames trailing = good;
  trailing[2].push_back('x');
  PutU32(trailing[1], trailing[1].size() - 4, static_cast<std::uint32_t>(trailing[2].size()));
  EXPECT_EQ(CodeOf(trailing), ErrorCode::kMalformed);
  Frames huge = good;
  PutU32(huge[1], huge[1].size() - 4, kMaxBatchEntriesBytes + 1);
  EXPECT_EQ(CodeOf(huge), ErrorCode::kMalformed);
  // Entry 0: u32 length, u8 op, u32 version, u16 + "id-0", u32 dict, frame.
  const std::size_t dict_at = 4 + 1 + 4 + 2 + 4;
  const std::size_t body_at = dict_at + 4;
  Frames unknown = good;
  PutU32(unknown[2], dict_at, static_cast<std::uint32_t>(dict->id()) + 1);
  EXPECT_EQ(CodeOf(unknown), ErrorCode::kMalformed);
  Frames damaged = good;
  damaged[2][body_at + 6] ^= 0x20;  // inside the compressed block or its checksum
  EXPECT_EQ(CodeOf(damaged), ErrorCode::kMalformed);
  // A frame without zstd's checksum is not a body as stored: refused.
  const std::string body = Body(0);
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_format, ZSTD_f_zstd1_magicless);
  ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 0);
  ZSTD_CCtx_loadDictionary(c, dict->dict.bytes().data(), dict->dict.bytes().size());
  std::string plain(ZSTD_compressBound(body.size()), '\0');
  plain.resize(ZSTD_compress2(c, plain.data(), plain.size(), body.data(), body.size()));
  ZSTD_freeCCtx(c);
  Batch no_checksum = StoredBatch(dict, 0, 1);
  no_checksum.stored[0].frame = plain;
  EXPECT_EQ(CodeOf(Encode(no_checksum, 6)), ErrorCode::kMalformed);
  // A frame followed by bytes of its own.
  Batch tail = StoredBatch(dict, 0, 1);
  tail.stored[0].frame += "zz";
  EXPECT_EQ(CodeOf(Encode(tail, 6)), ErrorCode::kMalformed);
  // An empty batch carries no dictionary.
  Frames empty = Encode(StoredBatch(dict, 3, 0), 6);
  EXPECT_EQ(CodeOf(empty), ErrorCode::kMalformed);
  // Entries must run after_seq+1..head seq, as in version 4.
  Batch hole = StoredBatch(dict);
  hole.entries.erase(hole.entries.begin() + 3);
  hole.stored.erase(hole.stored.begin() + 3);
  EXPECT_THROW(Encode(hole, 6), Error);
}

}  // namespace
}  // namespace carehub::wire
