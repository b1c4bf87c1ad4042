#include "schemas/ocf.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/schemas/sample_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::RunCommand;
using testing::SampleRecord;
using testing::TempDir;

constexpr int kCount = 2500;  // about a dozen 64 KiB blocks

std::vector<CanonicalRecord> Records(RecordKind kind, int count) {
  std::vector<CanonicalRecord> records;
  for (int i = 0; i < count; ++i) records.push_back(SampleRecord(kind, i, i % 3 != 0));
  return records;
}

std::string Opt(const std::optional<int>& value) { return value ? std::to_string(*value) : "None"; }

std::string Opt(const std::optional<Date>& value) { return value ? FormatIsoDate(*value) : "None"; }

// One line per record as the python script below prints it.
std::string ExpectedLine(const CanonicalRecord& record) {
  const auto& c = std::get<CaregiverQualification>(record.body);
  return record.record_id + " " + std::to_string(record.version) + " " +
         std::string(StatusName(record.status)) + " " + c.native.code + " " +
         (c.pivot ? std::to_string(c.pivot->level) : "None") + " " + FormatIsoDate(c.issued_on) +
         " " + Opt(c.valid_until) + " " + (c.employer ? c.employer->name : "None") + " " +
         std::to_string(c.person.tokens.size()) + " " + Opt(c.person.birth_year) + " " +
         std::to_string(record.provenance.source_row) + " " +
         std::to_string(record.provenance.ingested_at_ms) + "\n";
}

const char* const kPythonReader = R"(
import avro.datafile, avro.io, datetime, json, sys
epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
with avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), avro.io.DatumReader()) as reader:
    schema = json.loads(reader.meta['avro.schema'].decode())
    print(reader.meta['avro.codec'].decode(), 'pii' in reader.meta['avro.schema'].decode(),
          [f.get('type') for f in schema['fields'] if f['name'] == 'issued_on'][0])
    n = 0
    for r in reader:
        n += 1
        p = r['person']
        print(r['record_id'], r['version'], r['status'], r['native']['code'],
              r['pivot']['level'] if r['pivot'] else None, r['issued_on'].isoformat(),
              r['valid_until'].isoformat() if r['valid_until'] else None,
              r['employer']['name'] if r['employer'] else None, len(p['tokens']), p['birth_year'],
              r['provenance']['source_row'],
              (r['provenance']['ingested_at'] - epoch) // datetime.timedelta(milliseconds=1))
    print('count', n)
)";

class OcfCodecTest : public ::testing::TestWithParam<std::string> {};

TEST_P(OcfCodecTest, RoundTripsAndPythonAvroAndAvroCatReadTheFile) {
  TempDir dir;
  const std::string path = (dir / "caregivers.avro").string();
  const auto records = Records(RecordKind::kCaregiver, kCount);
  {
    OcfWriter writer(path, RecordKind::kCaregiver, GetParam());
    for (const CanonicalRecord& record : records) writer.Append(record);
    writer.Close();
    EXPECT_EQ(writer.records(), kCount);
    EXPECT_EQ(writer.bytes_written(), std::filesystem::file_size(path));
  }

  OcfReader reader(path);
  EXPECT_EQ(reader.kind(), RecordKind::kCaregiver);
  for (const CanonicalRecord& expected : records) {
    auto record = reader.Next();
    ASSERT_TRUE(record.has_value());
    ASSERT_EQ(*record, expected);
  }
  EXPECT_EQ(reader.Next(), std::nullopt);

  std::ofstream(dir / "read.py") << kPythonReader;
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "read.py").string() + " " + path, &out), 0);
  std::string expected = GetParam() + " True {'type': 'int', 'logicalType': 'date'}\n";
  for (const CanonicalRecord& record : records) expected += ExpectedLine(record);
  expected += "count " + std::to_string(kCount) + "\n";
  EXPECT_EQ(out, expected);

  // avro-bin's avrocat (Avro C) prints one JSON line per record.
  if (RunCommand("command -v avrocat >/dev/null") == 0) {
    std::string lines;
    ASSERT_EQ(RunCommand("avrocat " + path + " | wc -l", &lines), 0);
    EXPECT_EQ(std::stoi(lines), kCount);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, OcfCodecTest, ::testing::Values("null", "deflate", "snappy"));

TEST(OcfTest, EveryKindWithEveryOptionalSetOrUnsetRoundTrips) {
  TempDir dir;
  for (RecordKind kind : kAllKinds) {
    const std::string path = (dir / (std::string(KindName(kind)) + ".avro")).string();
    std::vector<CanonicalRecord> records;
    for (int i = 0; i < 10; ++i) records.push_back(SampleRecord(kind, i, i % 2 == 0));
    OcfWriter writer(path, kind, "deflate");
    for (const CanonicalRecord& record : records) writer.Append(record);
    writer.Close();
    OcfReader reader(path);
    EXPECT_EQ(reader.kind(), kind);
    for (const CanonicalRecord& expected : records) EXPECT_EQ(reader.Next(), expected);
    EXPECT_EQ(reader.Next(), std::nullopt);
  }
}

TEST(OcfTest, StoredSingleObjectsAreCopiedOrReencoded) {
  TempDir dir;
  const std::string path = (dir / "stored.avro").string();
  const auto records = Records(RecordKind::kFacility, 300);
  std::string newer = SchemaFor(RecordKind::kFacility).json;
  const auto end = newer.rfind('}', newer.rfind(']'));
  newer.insert(end + 1, R"(, {"name": "tail_note", "type": ["null", "string"], "default": null})");
  const std::uint64_t newer_fingerprint = RegisterWriterSchema(newer);
  {
    OcfWriter writer(path, RecordKind::kFacility, "snappy");
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::string bytes = EncodeSingleObject(records[i]);
      if (i % 2 == 1) {  // as a peer with the newer schema would have stored it
        for (int b = 0; b < 8; ++b) bytes[2 + b] = static_cast<char>(newer_fingerprint >> (8 * b));
        bytes.push_back('\0');  // tail_note: null
      }
      writer.AppendSingleObject(bytes);
    }
    EXPECT_THROW(writer.AppendSingleObject("garbage"), Error);
    EXPECT_THROW(
        writer.AppendSingleObject(EncodeSingleObject(SampleRecord(RecordKind::kSanction, 1, true))),
        Error);
    writer.Close();
    EXPECT_EQ(writer.records(), 300);
  }
  OcfReader reader(path);
  for (const CanonicalRecord& expected : records) EXPECT_EQ(reader.Next(), expected);
  EXPECT_EQ(reader.Next(), std::nullopt);
}

TEST(OcfTest, EmptyFileIsValid) {
  TempDir dir;
  const std::string path = (dir / "empty.avro").string();
  OcfWriter(path, RecordKind::kSanction, "snappy").Close();
  OcfReader reader(path);
  EXPECT_EQ(reader.kind(), RecordKind::kSanction);
  EXPECT_EQ(reader.Next(), std::nullopt);
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 -c \"import avro.datafile, avro.io, sys; "
                       "print(len(list(avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), "
                       "avro.io.DatumReader()))))\" " +
                           path,
                       &out),
            0);
  EXPECT_EQ(out, "0\n");
}

TEST(OcfTest, WriterRejectsBadCodecsAndOtherKinds) {
  TempDir dir;
  EXPECT_THROW(OcfWriter((dir / "x.avro").string(), RecordKind::kFacility, "zstd"), Error);
  EXPECT_THROW(OcfWriter((dir / "no" / "such" / "dir.avro").string(), RecordKind::kFacility),
               Error);
  OcfWriter writer((dir / "f.avro").string(), RecordKind::kFacility);
  try {
    writer.Append(SampleRecord(RecordKind::kAssessment, 1, true));
    ADD_FAILURE() << "expected InvalidInput";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  }
  writer.Close();
  writer.Close();  // idempotent
  EXPECT_THROW(writer.Append(SampleRecord(RecordKind::kFacility, 1, true)), Error);
}

TEST(OcfTest, ReaderRejectsMissingAndDamagedFiles) {
  TempDir dir;
  try {
    OcfReader reader((dir / "missing.avro").string());
    ADD_FAILURE() << "expected NotFound";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  std::ofstream(dir / "text.avro") << "record_id,version\n1,2\n";
  EXPECT_THROW(OcfReader((dir / "text.avro").string()), Error);

  // A file cut in the middle of its last block: every record before the damage or an error.
  const std::string path = (dir / "cut.avro").string();
  const auto records = Records(RecordKind::kAssessment, 600);
  {
    OcfWriter writer(path, RecordKind::kAssessment, "deflate");
    for (const CanonicalRecord& record : records) writer.Append(record);
  }  // the destructor closes
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  std::size_t read = 0;
  try {
    OcfReader reader(path);
    while (auto record = reader.Next()) {
      ASSERT_EQ(*record, records[read]);
      ++read;
    }
    ADD_FAILURE() << "a truncated file must not end cleanly";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorruption) << e.what();
  }
  EXPECT_LT(read, records.size());

  // A block that claims 8 GiB fails cleanly instead of reserving them (avro::AllocationLimit).
  const std::string huge = (dir / "huge.avro").string();
  OcfWriter(huge, RecordKind::kFacility, "null").Close();
  {
    std::ofstream append(huge, std::ios::binary | std::ios::app);
    append << '\x02' << "\x80\x80\x80\x80\x40"
           << "short";
  }
  EXPECT_THROW(
      {
        OcfReader reader(huge);
        while (reader.Next()) {
        }
      },
      Error);
}

// A file written elsewhere with a newer schema version (one more optional field) is read through
// schema resolution into today's records.
TEST(OcfTest, ReaderResolvesAFileWrittenWithANewerSchemaByPython) {
  TempDir dir;
  std::string newer = SchemaFor(RecordKind::kFacility).json;
  const auto pos = newer.find(R"("name": "comparable")");
  ASSERT_NE(pos, std::string::npos);
  newer.insert(newer.rfind('{', pos),
               R"({"name": "accessible_rooms", "type": ["null", "int"], "default": null}, )");
  const std::string ours = (dir / "ours.avro").string();
  const auto records = Records(RecordKind::kFacility, 50);
  {
    OcfWriter writer(ours, RecordKind::kFacility, "null");
    for (const CanonicalRecord& record : records) writer.Append(record);
    writer.Close();
  }
  std::ofstream(dir / "newer.avsc") << newer;
  std::ofstream(dir / "rewrite.py") << R"(
import avro.datafile, avro.io, avro.schema, sys
new = avro.schema.parse(open(sys.argv[2]).read())
reader = avro.datafile.DataFileReader(open(sys.argv[1], 'rb'), avro.io.DatumReader())
with avro.datafile.DataFileWriter(open(sys.argv[3], 'wb'), avro.io.DatumWriter(), new, codec='deflate') as w:
    for i, r in enumerate(reader):
        r['accessible_rooms'] = i
        w.append(r)
)";
  const std::string theirs = (dir / "theirs.avro").string();
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "rewrite.py").string() + " " + ours + " " +
                       (dir / "newer.avsc").string() + " " + theirs),
            0);
  OcfReader reader(theirs);
  EXPECT_EQ(reader.kind(), RecordKind::kFacility);
  for (const CanonicalRecord& expected : records) EXPECT_EQ(reader.Next(), expected);
  EXPECT_EQ(reader.Next(), std::nullopt);
}

}  // namespace
}  // namespace carehub
