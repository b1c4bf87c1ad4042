// The direct Avro encoder (schemas/binary_encode.cc) writes the bytes Avro C writes for the same
// record, for every kind, every optional set and unset, and the edges of each Avro type: the
// stored bodies, record hashes and digests of hubs stay what they were.
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "schemas/codec.h"
#include "schemas/codec_internal.h"
#include "tests/schemas/sample_records.h"

namespace carehub {
namespace {

using testing::SampleRecord;

std::string Direct(const CanonicalRecord& record) {
  std::string out = "prefix";  // appends, never replaces
  avro::AppendBinary(record, out);
  return out.substr(6);
}

std::string Reference(const CanonicalRecord& record) {
  std::string out;
  avro::AppendBinaryWithAvroC(record, out);
  return out;
}

// Every kind, full and empty, with the other fields pushed to the edges of their types.
std::vector<CanonicalRecord> EdgeRecords() {
  std::vector<CanonicalRecord> records;
  for (int i = 0; i < 64; ++i) {
    for (RecordKind kind : kAllKinds) {
      CanonicalRecord r = SampleRecord(kind, i, i % 2 == 0);
      r.version = i % 3 == 0 ? INT_MAX : (i % 3 == 1 ? INT_MIN : i * 1000);
      r.provenance.source_row = i % 2 ? INT64_MAX : -(std::int64_t{1} << (i % 63));
      r.provenance.ingested_at_ms = i % 2 ? INT64_MIN : std::int64_t{1} << (i % 63);
      r.provenance.source_file = std::string(static_cast<std::size_t>(i) * 300, 'x');
      r.provenance.source_record_id = std::string("a\0b", 3) + "张三";
      if (auto* a = std::get_if<Assessment>(&r.body)) {
        a->person.tokens.resize(static_cast<std::size_t>(i * 3));  // 0, 3 ... 189 items
        a->person.sex = static_cast<Sex>(i % 3);
        a->assessed_on = Date(std::chrono::days(-i * 40000));
        a->native.label = "";
        if (a->pivot) a->pivot->range_upper.reset();
      }
      records.push_back(std::move(r));
    }
  }
  return records;
}

TEST(BinaryEncodeTest, DirectBytesEqualAvroCForEveryKindAndEdge) {
  std::vector<CanonicalRecord> records = testing::SampleRecords();
  for (CanonicalRecord& r : EdgeRecords()) records.push_back(std::move(r));
  for (const CanonicalRecord& record : records) {
    const std::string direct = Direct(record);
    ASSERT_EQ(direct, Reference(record)) << record.record_id;
    // ... and they decode back to the record.
    std::string single = EncodeSingleObject(record);
    ASSERT_EQ(single.substr(10), direct);
    ASSERT_EQ(DecodeSingleObject(single), record);
  }
}

TEST(BinaryEncodeTest, ContentBytesAreTheBodyWithVersionZeroAndNoFileRowOrTime) {
  for (RecordKind kind : kAllKinds) {
    for (bool full : {true, false}) {
      const CanonicalRecord record = SampleRecord(kind, 7, full);
      std::string out = "x", content = "stale";
      avro::AppendBinaryAndContent(record, out, content);
      EXPECT_EQ(out.substr(1), Reference(record));
      CanonicalRecord changed = record;
      changed.version = 0;
      changed.provenance.source_file.clear();
      changed.provenance.source_row = 0;
      changed.provenance.ingested_at_ms = 0;
      EXPECT_EQ(content, Reference(changed));
    }
  }
}

}  // namespace
}  // namespace carehub
