#include "schemas/codec.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::RunCommand;
using testing::TempDir;

Date Day(const char* iso) { return *ParseIsoDate(iso); }

PersonRef Person(std::uint8_t seed) {
  PersonRef person;
  Hmac256 token{};
  token.fill(seed);
  person.tokens.push_back({IdScheme::kPrcResidentId, token});
  token.fill(static_cast<std::uint8_t>(seed + 1));
  person.tokens.push_back({IdScheme::kHkId, token});
  person.birth_year = 1948;
  person.sex = Sex::kFemale;
  person.residence_region = "310115";
  return person;
}

Provenance Prov(const char* profile) {
  return {"310000", profile, 3, "export.csv", 17, "SRC-17", 1764000000000};
}

std::vector<CanonicalRecord> SampleRecords() {
  std::vector<CanonicalRecord> records;
  Assessment full;
  full.person = Person(7);
  full.native = {"SH_CARE_NEEDS", "3", "照护三级"};
  full.pivot = PivotLevel{2, 3, std::string("may_be_P4"), false};
  full.total_score = 52;
  full.assessed_on = Day("2025-03-01");
  full.valid_until = Day("2025-09-01");
  full.assessor = OrgRef{std::string("91350100M000100Y43"), std::nullopt, "评估中心", "310115"};
  records.push_back({MakeRecordId("310000", RecordKind::kAssessment, "A1"), 2,
                     RecordStatus::kActive, full, Prov("shanghai/assessment")});
  Assessment sparse;  // every optional unset
  sparse.native = {"GBT42195", "0", "能力完好"};
  sparse.assessed_on = Day("2024-02-29");
  records.push_back({MakeRecordId("330000", RecordKind::kAssessment, "A2"), 1,
                     RecordStatus::kRetracted, sparse, Prov("zhejiang/assessment")});
  CaregiverQualification caregiver;
  caregiver.person = Person(9);
  caregiver.native = {"NATIONAL_SKILL", "4", "四级/中级工"};
  caregiver.pivot = PivotLevel{4, std::nullopt, std::nullopt, true};
  Hmac256 certificate{};
  certificate.fill(0xAB);
  caregiver.certificate_token = certificate;
  caregiver.issued_on = Day("2021-06-30");
  caregiver.employer = OrgRef{std::nullopt, std::string("RCHE-0042"), "Happy Home", "810000"};
  records.push_back({MakeRecordId("320000", RecordKind::kCaregiver, "C1"), 1,
                     RecordStatus::kRevoked, caregiver, Prov("jiangsu/caregiver")});
  FacilityRating facility;
  facility.facility = {std::string("51310115MJ0000001X"), std::nullopt, "浦东颐养院", "310115"};
  facility.native = {"GBT37276", "4", "四级"};
  facility.pivot = PivotLevel{4, std::nullopt, std::nullopt, true};
  facility.comparable = true;
  facility.beds = 320;
  facility.rated_on = Day("2023-11-11");
  records.push_back({MakeRecordId("310000", RecordKind::kFacility, "F1"), 1, RecordStatus::kActive,
                     facility, Prov("shanghai/facility")});
  SanctionNotice sanction;
  sanction.subject_kind = SubjectKind::kPerson;
  sanction.subject_person = Person(11);
  sanction.sanction_type = SanctionType::kBlacklist;
  sanction.native = {"AH_CREDIT", "blacklist", "黑名单"};
  sanction.legal_basis = "沪府规〔2019〕26号 第十五条";
  sanction.decided_on = Day("2025-01-15");
  sanction.ends_on = Day("2028-01-14");
  sanction.issuing_region = "340100";
  records.push_back({MakeRecordId("340000", RecordKind::kSanction, "S1"), 1, RecordStatus::kActive,
                     sanction, Prov("anhui/sanction")});
  return records;
}

TEST(CodecTest, EveryKindRoundTripsThroughSingleObjectEncoding) {
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

TEST(CodecTest, NewerWriterSchemaWithAnAddedOptionalFieldResolves) {
  std::string newer = SchemaFor(RecordKind::kFacility).json;
  const std::string anchor = R"("name": "comparable")";
  const auto pos = newer.find(anchor);
  ASSERT_NE(pos, std::string::npos);
  newer.insert(newer.rfind('{', pos),
               R"({"name": "accessible_rooms", "type": ["null", "int"], "default": null}, )");
  const std::uint64_t fingerprint = RegisterWriterSchema(newer);
  EXPECT_NE(fingerprint, SchemaFor(RecordKind::kFacility).fingerprint);
  EXPECT_EQ(SchemaJsonByFingerprint(fingerprint), newer);
  const CanonicalRecord original = SampleRecords()[3];
  // Hand-build the newer encoding: same body with the extra union (branch 1, zigzag 7) inserted
  // right after the pivot; easier: encode with python3-avro when present, else splice.
  std::string body;
  EncodeBody(original, body);
  TempDir dir;
  std::ofstream(dir / "newer.avsc") << newer;
  const std::string script = R"(
import avro.schema, avro.io, io, sys, json
old = avro.schema.parse(open(sys.argv[2]).read())
new = avro.schema.parse(open(sys.argv[1]).read())
body = open(sys.argv[3], 'rb').read()
rec = avro.io.DatumReader(old, old).read(avro.io.BinaryDecoder(io.BytesIO(body)))
rec['accessible_rooms'] = 12
out = io.BytesIO()
avro.io.DatumWriter(new).write(rec, avro.io.BinaryEncoder(out))
sys.stdout.buffer.write(out.getvalue())
)";
  std::ofstream(dir / "rewrite.py") << script;
  std::ofstream(dir / "old.avsc") << SchemaFor(RecordKind::kFacility).json;
  std::ofstream(dir / "body.bin", std::ios::binary) << body;
  std::string newer_body;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "rewrite.py").string() + " " +
                           (dir / "newer.avsc").string() + " " + (dir / "old.avsc").string() + " " +
                           (dir / "body.bin").string(),
                       &newer_body),
            0);
  ASSERT_GT(newer_body.size(), body.size());
  std::string single = "\xC3\x01";
  for (int i = 0; i < 8; ++i) single.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xff));
  single += newer_body;
  EXPECT_EQ(DecodeSingleObject(single), original);
}

TEST(CodecTest, PythonAvroDecodesOurBodies) {
  TempDir dir;
  const CanonicalRecord record = SampleRecords()[0];
  std::string body;
  EncodeBody(record, body);
  std::ofstream(dir / "s.avsc") << SchemaFor(RecordKind::kAssessment).json;
  std::ofstream(dir / "body.bin", std::ios::binary) << body;
  std::ofstream(dir / "read.py") << R"(
import avro.schema, avro.io, io, sys
s = avro.schema.parse(open(sys.argv[1]).read())
r = avro.io.DatumReader(s).read(avro.io.BinaryDecoder(io.BytesIO(open(sys.argv[2], 'rb').read())))
print(r['record_id'], r['version'], r['native']['label'], r['pivot']['level'], r['total_score'],
      r['assessed_on'], r['provenance']['source_row'], len(r['person']['tokens']))
)";
  std::string out;
  ASSERT_EQ(RunCommand("/usr/bin/python3 " + (dir / "read.py").string() + " " +
                           (dir / "s.avsc").string() + " " + (dir / "body.bin").string(),
                       &out),
            0);
  EXPECT_EQ(out, record.record_id + " 2 照护三级 2 52 2025-03-01 17 2\n");
}

TEST(CodecTest, GarbageNeverCrashesTheDecoder) {
  std::mt19937_64 random(42);
  const std::string valid = EncodeSingleObject(SampleRecords()[0]);
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = valid.substr(0, random() % (valid.size() + 1));
    if (bytes.size() > 10 && i % 2 == 0) bytes[10 + random() % (bytes.size() - 10)] ^= 0x5A;
    try {
      (void)DecodeSingleObject(bytes);
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_THROW(DecodeSingleObject("xx"), Error);
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
