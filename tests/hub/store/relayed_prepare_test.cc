// PrepareRelayed (hub/store/relayed_prepare.cc) reads a relayed body's lookup columns with a
// projection instead of a full decode: for every kind, with every optional field set and unset,
// it must give exactly what the full decode (PrepareRelayedOne) gives, and a body the projection
// cannot take is still decoded in full, so an undecodable body throws as before.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/store/body_codec.h"
#include "hub/store/change_log.h"
#include "hub/store/relayed_bulk.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/schemas/sample_records.h"

namespace carehub {
namespace {

ChangeEntry EntryOf(const CanonicalRecord& record, std::int64_t seq) {
  ChangeEntry e;
  e.origin = "310000";
  e.seq = seq;
  e.op = ChangeOp::kUpsert;
  e.version = record.version;
  e.record_id = record.record_id;
  e.body = EncodeSingleObject(record);
  return e;
}

void ExpectSame(const RelayedColumns& a, const RelayedColumns& b, const std::string& what) {
  EXPECT_EQ(a.kind, b.kind) << what;
  EXPECT_EQ(a.status, b.status) << what;
  EXPECT_EQ(a.columns.subject_org, b.columns.subject_org) << what;
  EXPECT_EQ(a.columns.pivot_level, b.columns.pivot_level) << what;
  EXPECT_EQ(a.columns.effective_on, b.columns.effective_on) << what;
  EXPECT_EQ(a.columns.valid_until, b.columns.valid_until) << what;
  EXPECT_EQ(a.columns.tokens, b.columns.tokens) << what;
  EXPECT_EQ(a.record_key, b.record_key) << what;
  EXPECT_EQ(a.fingerprint, b.fingerprint) << what;
  EXPECT_EQ(a.of_entry, b.of_entry) << what;
  EXPECT_EQ(a.derived_id, b.derived_id) << what;
}

TEST(RelayedPrepareTest, TheProjectionGivesTheColumnsOfTheFullDecodeForEveryKind) {
  std::vector<ChangeEntry> entries;
  int seq = 0;
  for (int i = 0; i < 24; ++i) {
    for (RecordKind kind : kAllKinds) {
      for (bool full : {true, false}) {
        CanonicalRecord record = testing::SampleRecord(kind, i, full);
        if (i % 5 == 1) record.version = 1;  // derived ids (SampleRecord's ids are origin 310000)
        if (i % 7 == 3) record.record_id = MakeRecordId("320000", kind, "other");  // not derived
        if (kind == RecordKind::kFacility && full && i % 2 == 0) {
          std::get<FacilityRating>(record.body).facility.uscc.reset();  // the local id is the key
        }
        entries.push_back(EntryOf(record, ++seq));
      }
    }
  }
  entries[5].record_id = entries[6].record_id;  // a body of another record than its entry's
  const std::vector<RelayedColumns> projected = PrepareRelayed("310000", entries);
  ASSERT_EQ(projected.size(), entries.size());
  int derived = 0, tokens = 0, orgs = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const RelayedColumns full = PrepareRelayedOne("310000", entries[i]);
    ExpectSame(projected[i], full, "entry " + std::to_string(i));
    derived += full.derived_id;
    tokens += !full.columns.tokens.empty();
    orgs += full.columns.subject_org.has_value();
  }
  EXPECT_FALSE(projected[5].of_entry);
  EXPECT_GT(derived, 0);  // the comparison covered every column's both states
  EXPECT_GT(tokens, 0);
  EXPECT_GT(orgs, 0);
}

// Damaged bodies (every byte changed in turn, cut short, a byte appended): whatever the full
// decode makes of one, PrepareRelayed makes the same — the same columns, or it throws too.
TEST(RelayedPrepareTest, ADamagedBodyGivesWhatTheFullDecodeGivesOrThrowsAsItDoes) {
  const ChangeEntry sound = EntryOf(testing::SampleRecord(RecordKind::kSanction, 3, true), 1);
  std::vector<ChangeEntry> variants;
  for (std::size_t at = 10; at < sound.body.size(); ++at) {
    for (int bits : {0x01, 0x80, 0xFF}) {
      ChangeEntry e = sound;
      e.body[at] = static_cast<char>(e.body[at] ^ bits);
      variants.push_back(e);
    }
  }
  ChangeEntry cut = sound;
  cut.body.resize(cut.body.size() - 8);
  variants.push_back(cut);
  ChangeEntry longer = sound;
  longer.body.push_back('\0');
  variants.push_back(longer);
  int thrown = 0;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const std::vector<ChangeEntry> one{variants[i]};
    std::optional<RelayedColumns> full;
    try {
      full = PrepareRelayedOne("310000", variants[i]);
    } catch (const Error&) {
    }
    if (!full) {
      ++thrown;
      EXPECT_THROW(PrepareRelayed("310000", one), Error) << "variant " << i;
      continue;
    }
    const std::vector<RelayedColumns> projected = PrepareRelayed("310000", one);
    ExpectSame(projected.at(0), *full, "variant " + std::to_string(i));
  }
  EXPECT_GT(thrown, 0);
}

// Given the writer's encoding dictionaries, PrepareRelayed also compresses each body of such a
// schema: into exactly the bytes the writer's encoder stores (so the writer may store them as
// they are); bodies of a schema without a dictionary are left to the writer.
TEST(RelayedPrepareTest, BodiesAreCompressedIntoTheBytesTheWritersEncoderStores) {
  std::vector<ChangeEntry> entries;
  for (int i = 0; i < 400; ++i) {
    entries.push_back(
        EntryOf(testing::SampleRecord(RecordKind::kAssessment, i, i % 3 != 0), i + 1));
  }
  entries.push_back(EntryOf(testing::SampleRecord(RecordKind::kFacility, 1, true), 401));
  BodyEncoder encoder({}, 200);
  std::string bytes;
  for (int i = 0; i < 200; ++i) encoder.Encode(entries[static_cast<std::size_t>(i)].body, bytes);
  const std::uint64_t assessment = *SingleObjectFingerprint(entries[0].body);
  const DictionaryPtr dict = encoder.DictionaryFor(assessment);
  ASSERT_NE(dict, nullptr) << "trained from 200 bodies";
  const std::map<std::uint64_t, DictionaryPtr> dictionaries{{assessment, dict}};
  const std::vector<RelayedColumns> prepared = PrepareRelayed("310000", entries, &dictionaries);
  for (std::size_t i = 0; i + 1 < entries.size(); ++i) {
    ASSERT_EQ(prepared[i].dict, dict->id()) << i;
    const DictionaryPtr used = encoder.Encode(entries[i].body, bytes);
    ASSERT_EQ(used, dict);
    EXPECT_EQ(prepared[i].compressed, bytes) << "entry " << i;
    EXPECT_LT(prepared[i].compressed.size(), entries[i].body.size());
  }
  EXPECT_FALSE(prepared.back().dict.has_value()) << "a facility: no dictionary given";
  EXPECT_TRUE(prepared.back().compressed.empty());
  EXPECT_FALSE(PrepareRelayed("310000", entries).front().dict.has_value());
}

// A receiver prepares batch after batch into the columns of applied ones: whatever those held
// (other kinds, tokens, organisations, compressed bodies), the result is what a fresh
// PrepareRelayed gives.
TEST(RelayedPrepareTest, PreparingIntoEarlierColumnsGivesWhatAFreshPrepareGives) {
  std::vector<ChangeEntry> mixed, assessments;
  for (int i = 0; i < 60; ++i) {
    const RecordKind kind = kAllKinds[static_cast<std::size_t>(i) % std::size(kAllKinds)];
    mixed.push_back(EntryOf(testing::SampleRecord(kind, i, i % 2 == 0), i));
    assessments.push_back(
        EntryOf(testing::SampleRecord(RecordKind::kAssessment, i, i % 3 != 0), i));
  }
  BodyEncoder encoder({}, 40);
  std::string bytes;
  for (const ChangeEntry& e : assessments) encoder.Encode(e.body, bytes);
  const std::uint64_t assessment = *SingleObjectFingerprint(assessments[0].body);
  const DictionaryPtr dict = encoder.DictionaryFor(assessment);
  ASSERT_NE(dict, nullptr);
  const std::map<std::uint64_t, DictionaryPtr> dictionaries{{assessment, dict}};
  std::vector<RelayedColumns> into;
  const auto check = [&](std::span<const ChangeEntry> entries, bool received) {
    std::vector<CompressedBody> frames(received ? entries.size() : 0);
    for (std::size_t i = 0; i < frames.size(); i += 2) {  // every other one sent compressed
      frames[i].dict = dict;
      frames[i].frame = "frame " + std::to_string(i);
    }
    std::vector<CompressedBody> copy = frames;
    PrepareRelayed("310000", entries, &dictionaries, frames, into);
    const std::vector<RelayedColumns> fresh =
        PrepareRelayed("310000", entries, &dictionaries, copy);
    ASSERT_EQ(into.size(), fresh.size());
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      ExpectSame(into[i], fresh[i], "entry " + std::to_string(i));
      EXPECT_EQ(into[i].dict, fresh[i].dict) << i;
      EXPECT_EQ(into[i].compressed, fresh[i].compressed) << i;
      EXPECT_EQ(into[i].received, fresh[i].received) << i;
    }
  };
  check(mixed, false);
  check(assessments, true);
  check(std::span<const ChangeEntry>(mixed).first(25), false);
  check(assessments, false);
  check(mixed, true);
}

}  // namespace
}  // namespace carehub
