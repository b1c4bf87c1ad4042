#include "schemas/projection.h"

#include <gtest/gtest.h>

#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/schemas/sample_records.h"

namespace carehub {
namespace {

using testing::SampleRecord;
using testing::SampleRecords;

std::string TokenText(const PersonToken& token) {
  return std::string(reinterpret_cast<const char*>(token.token.data()), token.token.size());
}

std::int64_t Days(Date day) { return day.time_since_epoch().count(); }

// Fields of every kind, read by projection from every sample record (all optionals set or
// unset), equal the fully decoded record: proves the walk skips every other field exactly.
TEST(ProjectionTest, ProjectedFieldsEqualTheDecodedRecord) {
  ProjectionReader reader({"record_id", "status", "person.tokens.token", "person.birth_year",
                           "person.sex", "assessed_on", "pivot.level", "valid_until",
                           "subject_person.residence_region", "decided_on", "issuing_region",
                           "provenance.source_row", "facility.uscc", "comparable"});
  for (const CanonicalRecord& record : SampleRecords()) {
    SCOPED_TRACE(std::string(KindName(record.kind())));
    const std::string bytes = EncodeSingleObject(record);  // values are views into it
    reader.Read(bytes);
    EXPECT_EQ(reader.kind(), record.kind());
    ASSERT_NE(reader.First(0), nullptr);
    EXPECT_EQ(reader.First(0)->text, record.record_id);
    EXPECT_EQ(reader.First(1)->text, StatusName(record.status));
    EXPECT_EQ(reader.First(11)->number, record.provenance.source_row);  // the last field
    if (const auto* a = std::get_if<Assessment>(&record.body)) {
      ASSERT_EQ(reader.Values(2).size(), a->person.tokens.size());
      for (std::size_t i = 0; i < a->person.tokens.size(); ++i) {
        EXPECT_EQ(reader.Values(2)[i].text, TokenText(a->person.tokens[i]));
      }
      EXPECT_EQ(reader.First(3) != nullptr, a->person.birth_year.has_value());
      if (a->person.birth_year) {
        EXPECT_EQ(reader.First(3)->number, *a->person.birth_year);
      }
      EXPECT_EQ(reader.First(4)->text, SexSymbol(a->person.sex));
      EXPECT_EQ(reader.First(5)->number, Days(a->assessed_on));
      EXPECT_EQ(reader.First(6) != nullptr, a->pivot.has_value());
      if (a->pivot) {
        EXPECT_EQ(reader.First(6)->number, a->pivot->level);
      }
      EXPECT_EQ(reader.First(7) != nullptr, a->valid_until.has_value());
    } else if (const auto* s = std::get_if<SanctionNotice>(&record.body)) {
      EXPECT_EQ(reader.First(8) != nullptr, s->subject_person.has_value());
      if (s->subject_person) {
        EXPECT_EQ(reader.First(8)->text, *s->subject_person->residence_region);
      }
      EXPECT_EQ(reader.First(9)->number, Days(s->decided_on));
      EXPECT_EQ(reader.First(10)->text, s->issuing_region);
      EXPECT_TRUE(reader.Values(2).empty());  // no "person" field in a sanction
    } else if (const auto* f = std::get_if<FacilityRating>(&record.body)) {
      EXPECT_EQ(reader.First(12) != nullptr, f->facility.uscc.has_value());
      EXPECT_EQ(reader.First(13)->number, f->comparable ? 1 : 0);
    }
  }
}

// A registered newer writer schema (one more optional field at the end) gets its own plan: the
// old fields keep their values and the new one is read too.
TEST(ProjectionTest, RegisteredWriterSchemaIsProjectedByItsOwnLayout) {
  std::string newer = SchemaFor(RecordKind::kFacility).json;
  const auto end = newer.rfind(']');
  newer.insert(end, R"(, {"name": "accessible_rooms", "type": ["null", "int"], "default": null})");
  const std::uint64_t fingerprint = RegisterWriterSchema(newer);
  const CanonicalRecord record = SampleRecord(RecordKind::kFacility, 3, true);
  std::string bytes = EncodeSingleObject(record);
  for (int i = 0; i < 8; ++i) bytes[2 + i] = static_cast<char>((fingerprint >> (8 * i)) & 0xff);
  bytes += "\x02\x18";  // branch 1 (int), zig-zag 12
  ProjectionReader reader({"rated_on", "accessible_rooms", "facility.region"});
  reader.Read(bytes);
  EXPECT_EQ(reader.kind(), RecordKind::kFacility);
  EXPECT_EQ(reader.First(0)->number, Days(std::get<FacilityRating>(record.body).rated_on));
  EXPECT_EQ(reader.First(1)->number, 12);
  EXPECT_EQ(reader.First(2)->text, "310115");
  // The builtin layout is still read as before by the same reader.
  const std::string builtin = EncodeSingleObject(record);
  reader.Read(builtin);
  EXPECT_EQ(reader.First(1), nullptr);
  EXPECT_EQ(reader.First(2)->text, "310115");
}

TEST(ProjectionTest, DamagedBodiesAreCorruptionNeverOverreads) {
  ProjectionReader reader({"record_id", "assessed_on"});
  const std::string good = EncodeSingleObject(SampleRecords()[0]);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {  // every truncation
    try {
      reader.Read(std::string_view(good).substr(0, cut));
      ADD_FAILURE() << "expected Corruption at length " << cut;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCorruption) << e.what();
    }
  }
  EXPECT_THROW(reader.Read(good + "x"), Error);  // trailing bytes
  std::string unknown = good;
  unknown[2] = static_cast<char>(unknown[2] ^ 0x5a);
  EXPECT_THROW(reader.Read(unknown), Error);  // unknown fingerprint
  std::string huge = good;
  huge[10] = '\xfe';  // record_id length: a varint far beyond the body
  huge[11] = '\xff';
  EXPECT_THROW(reader.Read(huge), Error);
}

}  // namespace
}  // namespace carehub
