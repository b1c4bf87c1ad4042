// `carehub schemas list|show` through the real binary.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "schemas/codec.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::CarehubBinary;
using testing::RunCommand;

std::string Hex(std::uint64_t fingerprint) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return hex;
}

TEST(SchemasCommandTest, ListPrintsNameFingerprintAndFieldCount) {
  std::string out;
  ASSERT_EQ(RunCommand(CarehubBinary() + " schemas list", &out), 0);
  std::string expected;
  for (const SchemaInfo& info : BuiltinSchemas()) {
    expected += info.name + "\t" + Hex(info.fingerprint) + "\t" + std::to_string(info.field_count) +
                " fields\t" + std::string(KindName(info.kind)) + "\n";
  }
  EXPECT_EQ(out, expected);
  EXPECT_NE(out.find("carehub.v1.Assessment\t0fce374e53246f6a\t11 fields"), std::string::npos);

  std::string json;  // RunCommand appends
  ASSERT_EQ(RunCommand(CarehubBinary() + " schemas list --json", &json), 0);
  auto array = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(array->size(), BuiltinSchemas().size());
  for (std::size_t i = 0; i < array->size(); ++i) {
    auto object = array->getObject(static_cast<unsigned>(i));
    EXPECT_EQ(object->getValue<std::string>("name"), BuiltinSchemas()[i].name);
    EXPECT_EQ(object->getValue<std::string>("fingerprint"), Hex(BuiltinSchemas()[i].fingerprint));
    EXPECT_EQ(object->getValue<int>("fields"), BuiltinSchemas()[i].field_count);
  }
}

TEST(SchemasCommandTest, ShowAcceptsSimpleFullAndKindNames) {
  const std::string& json = SchemaFor(RecordKind::kCaregiver).json;
  for (const char* name :
       {"CaregiverQualification", "carehub.v1.CaregiverQualification", "caregiver"}) {
    std::string out;
    ASSERT_EQ(RunCommand(CarehubBinary() + " schemas show " + name, &out), 0) << name;
    EXPECT_EQ(out.substr(0, json.size()), json) << name;
    EXPECT_NE(out.find("\"pii\": true"), std::string::npos);
  }
  std::string canonical;
  ASSERT_EQ(RunCommand(CarehubBinary() + " schemas show facility --canonical", &canonical), 0);
  EXPECT_EQ(canonical, SchemaFor(RecordKind::kFacility).canonical + "\n");
  EXPECT_NE(RunCommand(CarehubBinary() + " schemas show Nothing 2>/dev/null"), 0);
  EXPECT_NE(RunCommand(CarehubBinary() + " schemas frobnicate 2>/dev/null"), 0);
}

}  // namespace
}  // namespace carehub
