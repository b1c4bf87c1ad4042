#include "schemas/codec.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "schemas/avro_handle.h"
#include "schemas/codec_internal.h"
#include "schemas/error.h"
#include "tests/schemas/sample_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::RunCommand;
using testing::SampleRecord;
using testing::SampleRecords;
using testing::TempDir;

std::string Hex(std::uint64_t fingerprint) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return hex;
}

std::string SingleObject(std::uint64_t fingerprint, const std::string& body) {
  std::string single = "\xC3\x01";
  for (int i = 0; i < 8; ++i) single.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xff));
  return single + body;
}

// The facility schema with one more optional field after "pivot".
std::string NewerFacilitySchema() {
  std::string newer = SchemaFor(RecordKind::kFacility).json;
  const auto pos = newer.find(R"("name": "comparable")");
  EXPECT_NE(pos, std::string::npos);
  newer.insert(newer.rfind('{', pos),
               R"({"name": "accessible_rooms", "type": ["null", "int"], "default": null}, )");
  return newer;
}

TEST(CodecTest, EveryKindRoundTripsWithEveryOptionalSetOrUnset) {
  for (const CanonicalRecord& record : SampleRecords()) {
    const std::string bytes = EncodeSingleObject(record);
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xC3);
    EXPECT_EQ(static_cast<unsigned char>(bytes[1]), 0x01);
    EXPECT_EQ(SingleObjectFingerprint(bytes), SchemaFor(record.kind()).fingerprint);
    EXPECT_EQ(DecodeSingleObject(bytes), record) << KindName(record.kind());
  }
}

TEST(CodecTest, FingerprintsEqualJavaSchemaNormalization) {
  if (RunCommand("command -v javac >/dev/null && command -v java >/dev/null") != 0) {
    GTEST_SKIP() << "no JDK";
  }
  TempDir dir;
  const std::string classpath =
      "/usr/share/java/avro.jar:/usr/share/java/jackson-core-asl.jar:"
      "/usr/share/java/jackson-mapper-asl.jar:/usr/share/java/slf4j-api.jar:" +
      dir.path().string();
  // A few spec-style schemas besides ours: nested names, namespaces, references, primitives.
  const std::vector<std::string> extra = {
      R"("int")",
      R"({"type": "long", "logicalType": "timestamp-millis"})",
      R"({"type":"record","name":"a.b.R","fields":[{"name":"x","type":{"type":"enum","name":"E","symbols":["A","B"]}},{"name":"y","type":["null","E"],"default":null},{"name":"z","type":{"type":"map","values":{"type":"fixed","name":"F","namespace":"q","size":4}}},{"name":"w","type":{"type":"array","items":"q.F"}}]})",
  };
  std::vector<std::string> jsons;
  for (const SchemaInfo& info : BuiltinSchemas()) jsons.push_back(info.json);
  jsons.insert(jsons.end(), extra.begin(), extra.end());
  std::string files;
  for (std::size_t i = 0; i < jsons.size(); ++i) {
    const auto path = dir / ("s" + std::to_string(i) + ".avsc");
    std::ofstream(path) << jsons[i];
    files += " " + path.string();
  }
  const std::string source = (testing::TestData() / "schemas" / "Fingerprint.java").string();
  ASSERT_EQ(RunCommand("javac -d " + dir.path().string() + " -cp " + classpath + " " + source), 0);
  std::string out;
  ASSERT_EQ(RunCommand("java -cp " + classpath + " Fingerprint" + files, &out), 0);
  std::istringstream lines(out);
  for (const std::string& json : jsons) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    const std::string canonical = ParsingCanonicalForm(json);
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(Crc64Avro(canonical)));
    EXPECT_EQ(line.substr(0, 16), hex) << json;
    EXPECT_EQ(line.substr(17), canonical) << json;
  }
}

TEST(CodecTest, Crc64MatchesTheSpecForTheEmptyAndNullSchemas) {
  EXPECT_EQ(Crc64Avro(""), 0xc15d213aa4d7a795ULL);
  // The spec's reference: fingerprint64 of the canonical form "null".
  EXPECT_EQ(Crc64Avro(R"("null")"), 0x63dd24e7cc258f8aULL);
}

// Writer newer than reader: a peer's schema with one more optional field, written by python3-avro,
// decodes through Avro C schema resolution into the builtin record (the extra field is skipped).
TEST(CodecTest, NewerWriterSchemaWithAnAddedOptionalFieldResolves) {
  const std::string newer = NewerFacilitySchema();
  const std::uint64_t fingerprint = RegisterWriterSchema(newer);
  EXPECT_NE(fingerprint, SchemaFor(RecordKind::kFacility).fingerprint);
  EXPECT_EQ(SchemaJsonByFingerprint(fingerprint), newer);
  EXPECT_EQ(RegisterWriterSchema(newer), fingerprint);  // idempotent
  for (bool full : {true, false}) {
    const CanonicalRecord original = SampleRecord(RecordKind::kFacility, 5, full);
    std::string body;
    EncodeBody(original, body);
    TempDir dir;
    std::ofstream(dir / "newer.avsc") << newer;
    std::ofstream(dir / "old.avsc") << SchemaFor(RecordKind::kFacility).json;
    std::ofstream(dir / "body.bin", std::ios::binary) << body;
    std::ofstream(dir / "rewrite.py") << R"(
import avro.schema, avro.io, io, sys
new = avro.schema.parse(open(sys.argv[1]).read())
old = avro.schema.parse(open(sys.argv[2]).read())
rec = avro.io.DatumReader(old, old).read(avro.io.BinaryDecoder(io.BytesIO(open(sys.argv[3], 'rb').read())))
rec['accessible_rooms'] = 12
out = io.BytesIO()
avro.io.DatumWriter(new).write(rec, avro.io.BinaryEncoder(out))
sys.stdout.buffer.write(out.getvalue())
)";
    std::string newer_body;
    ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "rewrite.py").string() + " " +
                             (dir / "newer.avsc").string() + " " + (dir / "old.avsc").string() +
                             " " + (dir / "body.bin").string(),
                         &newer_body),
              0);
    ASSERT_EQ(newer_body.size(), body.size() + 2);  // union branch 1 + zig-zag 12
    EXPECT_EQ(DecodeSingleObject(SingleObject(fingerprint, newer_body)), original);
    // The same bytes under the builtin fingerprint are not a valid builtin body.
    EXPECT_THROW(
        DecodeSingleObject(SingleObject(SchemaFor(RecordKind::kFacility).fingerprint, newer_body)),
        Error);
  }
}

// Reader newer than writer: our bytes read with the extended schema as reader schema fill the
// added field with its default (python3-avro; Avro C 1.11.1 cannot, see the next test).
TEST(CodecTest, OurBodiesResolveOntoANewerReaderSchema) {
  const CanonicalRecord record = SampleRecord(RecordKind::kFacility, 6, true);
  std::string body;
  EncodeBody(record, body);
  TempDir dir;
  std::ofstream(dir / "newer.avsc") << NewerFacilitySchema();
  std::ofstream(dir / "old.avsc") << SchemaFor(RecordKind::kFacility).json;
  std::ofstream(dir / "body.bin", std::ios::binary) << body;
  std::ofstream(dir / "read.py") << R"(
import avro.schema, avro.io, io, sys
new = avro.schema.parse(open(sys.argv[1]).read())
old = avro.schema.parse(open(sys.argv[2]).read())
r = avro.io.DatumReader(old, new).read(avro.io.BinaryDecoder(io.BytesIO(open(sys.argv[3], 'rb').read())))
print(r['accessible_rooms'], r['beds'], r['facility']['name'], r['rated_on'])
)";
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "read.py").string() + " " +
                           (dir / "newer.avsc").string() + " " + (dir / "old.avsc").string() + " " +
                           (dir / "body.bin").string(),
                       &out),
            0);
  const auto& facility = std::get<FacilityRating>(record.body);
  EXPECT_EQ(out, "None " + std::to_string(*facility.beds) + " " + facility.facility.name + " " +
                     FormatIsoDate(facility.rated_on) + "\n");
}

// Avro C 1.11.1's resolver cannot fill reader defaults ("Reader field ... doesn't appear in
// writer"): an older writer schema lacking one of our optional fields is refused when registered,
// not at the first record.
TEST(CodecTest, OlderWriterSchemaLackingAFieldIsRefusedAtRegistration) {
  std::string older = SchemaFor(RecordKind::kFacility).json;
  const auto pos = older.find(R"("name": "beds")");
  ASSERT_NE(pos, std::string::npos);
  const auto open = older.rfind('{', pos);
  const auto close = older.find('}', pos);
  older.erase(open, older.find('{', close) - open);
  ASSERT_EQ(older.find(R"("name": "beds")"), std::string::npos);
  const std::uint64_t fingerprint = Crc64Avro(ParsingCanonicalForm(older));
  try {
    RegisterWriterSchema(older);
    ADD_FAILURE() << "expected InvalidInput";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("beds"), std::string::npos) << e.what();
  }
  EXPECT_EQ(SchemaJsonByFingerprint(fingerprint), std::nullopt);
}

TEST(CodecTest, UnknownFingerprintsAndForeignRecordsAreRejected) {
  std::string body;
  EncodeBody(SampleRecords()[0], body);
  try {
    DecodeSingleObject(SingleObject(0x0123456789abcdefULL, body));
    ADD_FAILURE() << "expected Corruption";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kCorruption);
    EXPECT_NE(std::string(e.what()).find("0123456789abcdef"), std::string::npos) << e.what();
  }
  EXPECT_THROW(RegisterWriterSchema(R"({"type":"record","name":"Other","fields":[]})"), Error);
  EXPECT_THROW(RegisterWriterSchema("{not json"), Error);
}

TEST(CodecTest, PythonAvroDecodesOurBodies) {
  TempDir dir;
  std::ofstream(dir / "read.py") << R"(
import avro.schema, avro.io, io, sys
s = avro.schema.parse(open(sys.argv[1]).read())
r = avro.io.DatumReader(s).read(avro.io.BinaryDecoder(io.BytesIO(open(sys.argv[2], 'rb').read())))
p = r['person']
print(r['record_id'], r['version'], r['status'], r['native']['label'],
      r['pivot']['level'] if r['pivot'] else None, r['total_score'], r['assessed_on'],
      r['valid_until'], r['provenance']['source_row'], len(p['tokens']),
      p['tokens'][0]['token'].hex() if p['tokens'] else None, p['birth_year'])
)";
  std::ofstream(dir / "s.avsc") << SchemaFor(RecordKind::kAssessment).json;
  for (bool full : {true, false}) {
    const CanonicalRecord record = SampleRecord(RecordKind::kAssessment, 3, full);
    std::string body;
    EncodeBody(record, body);
    std::ofstream(dir / "body.bin", std::ios::binary) << body;
    std::string out;
    ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "read.py").string() + " " +
                             (dir / "s.avsc").string() + " " + (dir / "body.bin").string(),
                         &out),
              0);
    const auto& a = std::get<Assessment>(record.body);
    std::string token = "None";
    if (!a.person.tokens.empty()) {
      token.clear();
      for (std::uint8_t byte : a.person.tokens[0].token) token += Hex(byte).substr(14);
    }
    const std::string expected =
        record.record_id + " " + std::to_string(record.version) + " " +
        std::string(StatusName(record.status)) + " " + a.native.label + " " +
        (a.pivot ? std::to_string(a.pivot->level) : "None") + " " +
        (a.total_score ? std::to_string(*a.total_score) : "None") + " " +
        FormatIsoDate(a.assessed_on) + " " +
        (a.valid_until ? FormatIsoDate(*a.valid_until) : "None") + " " +
        std::to_string(record.provenance.source_row) + " " +
        std::to_string(a.person.tokens.size()) + " " + token + " " +
        (a.person.birth_year ? std::to_string(*a.person.birth_year) : "None") + "\n";
    EXPECT_EQ(out, expected);
  }
}

TEST(CodecTest, TruncatedFlippedAndTrailingBytesThrowCorruption) {
  std::mt19937_64 random(42);
  const std::string valid = EncodeSingleObject(SampleRecords()[0]);
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = valid.substr(0, random() % (valid.size() + 1));
    if (bytes.size() > 10 && i % 2 == 0) bytes[10 + random() % (bytes.size() - 10)] ^= 0x5A;
    try {
      (void)DecodeSingleObject(bytes);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCorruption) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
  for (std::size_t size = 0; size < valid.size(); ++size) {  // every proper prefix
    EXPECT_THROW(DecodeSingleObject(valid.substr(0, size)), Error) << size;
  }
  EXPECT_THROW(DecodeSingleObject(valid + '\0'), Error);
  EXPECT_THROW(DecodeSingleObject("xx"), Error);
  EXPECT_EQ(SingleObjectFingerprint("xx"), std::nullopt);
}

TEST(CodecTest, RandomBodiesUnderEveryBuiltinFingerprintNeverCrash) {
  std::mt19937_64 random(20240229);
  int rejected = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string body(random() % 300, '\0');
    for (char& c : body) c = static_cast<char>(random());
    const SchemaInfo& info = BuiltinSchemas()[i % 4];
    try {
      const CanonicalRecord record = DecodeSingleObject(SingleObject(info.fingerprint, body));
      EXPECT_EQ(record.kind(), info.kind);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kCorruption) << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 3000);
}

TEST(CodecTest, LayoutCheckCatchesSchemaAndModelDrift) {
  for (const SchemaInfo& info : BuiltinSchemas()) {
    EXPECT_NO_THROW(avro::CheckLayout(avro::Schema::FromJson(info.json).get())) << info.name;
  }
  std::string swapped = SchemaFor(RecordKind::kAssessment).json;
  const auto total = swapped.find(R"("name": "total_score")");
  ASSERT_NE(total, std::string::npos);
  swapped.replace(total, 21, R"("name": "total_scores")");
  EXPECT_THROW(avro::CheckLayout(avro::Schema::FromJson(swapped).get()), Error);
}

TEST(CodecTest, AppendSingleObjectEqualsEncodeSingleObject) {
  std::string buffer = "prefix";
  for (const CanonicalRecord& record : SampleRecords()) {
    const std::string alone = EncodeSingleObject(record);
    buffer.resize(6);
    AppendSingleObject(record, buffer);
    EXPECT_EQ(buffer.substr(6), alone);
  }
}

// The content bytes taken from the one encoding equal an encoding of the record with version 0
// and provenance without file, row and time (the store's content hash is pinned to those bytes).
TEST(CodecTest, ContentBytesFromTheSameEncodingEqualASecondEncoding) {
  int checked = 0;
  for (CanonicalRecord record : SampleRecords()) {
    for (const int version : {1, 7, 300}) {
      record.version = version;
      record.provenance.source_file = version == 300 ? std::string(200, 'f') : "a.csv";
      record.provenance.source_row = version == 1 ? 0 : 123456789012;
      record.provenance.ingested_at_ms = 1765000000000 + version;
      std::string body = "prefix", content = "stale";
      AppendSingleObjectAndContent(record, body, content);
      EXPECT_EQ(body.substr(6), EncodeSingleObject(record));
      CanonicalRecord bare = record;
      bare.version = 0;
      bare.provenance.source_file.clear();
      bare.provenance.source_row = 0;
      bare.provenance.ingested_at_ms = 0;
      std::string expected;
      EncodeBody(bare, expected);
      EXPECT_EQ(content, expected) << "kind " << static_cast<int>(record.kind()) << " v" << version;
      EXPECT_EQ(DecodeSingleObject(body.substr(6)), record);
      ++checked;
    }
  }
  EXPECT_GE(checked, 12);
}

// Walks a schema's JSON and collects (field name, has "pii": true) for every field.
void CollectFields(const Poco::Dynamic::Var& node, std::vector<std::pair<std::string, bool>>& out) {
  if (node.type() == typeid(Poco::JSON::Array::Ptr)) {
    auto array = node.extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < array->size(); ++i) CollectFields(array->get(i), out);
  } else if (node.type() == typeid(Poco::JSON::Object::Ptr)) {
    auto object = node.extract<Poco::JSON::Object::Ptr>();
    if (object->has("name") && object->has("type") && !object->has("fields") &&
        !object->has("symbols") && !object->has("size")) {
      out.emplace_back(object->getValue<std::string>("name"), object->optValue("pii", false));
    }
    for (const auto& [key, value] : *object) CollectFields(value, out);
  }
}

TEST(CodecTest, PersonalDataFieldsAreMarkedInTheSchemas) {
  const std::set<std::string> personal = {"tokens", "token", "birth_year", "certificate_token"};
  for (const SchemaInfo& info : BuiltinSchemas()) {
    std::vector<std::pair<std::string, bool>> fields;
    CollectFields(Poco::JSON::Parser().parse(info.json), fields);
    int marked = 0;
    for (const auto& [name, pii] : fields) {
      if (personal.count(name)) {
        EXPECT_TRUE(pii) << info.name << "." << name;
        ++marked;
      }
    }
    if (info.kind != RecordKind::kFacility) {  // the only record without a person
      EXPECT_GT(marked, 0) << info.name;
    }
  }
}

}  // namespace
}  // namespace carehub
