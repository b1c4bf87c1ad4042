// The access log's one JSON form (AccessEntryJson), used by `carehub audit --json` and
// GET /v1/audit alike; the log itself is tested end to end in tests/hub/http/security_test.cc.
#include "hub/store/access_log.h"

#include <Poco/JSON/Array.h>
#include <gtest/gtest.h>

namespace carehub {
namespace {

TEST(AccessEntryJsonTest, CarriesEveryFieldOfTheEntry) {
  AccessEntry e;
  e.seq = 7;
  e.at_ms = 1767225600123;  // 2026-01-01T00:00:00.123Z
  e.actor = "token:abc";
  e.role = "department";
  e.route = "GET /v1/records";
  e.count = 2;
  e.record_ids = {"r1", "quarantine:4"};
  Hmac256 token{};
  token[0] = 0xAB;
  e.person_tokens = {token};
  Poco::JSON::Object::Ptr json = AccessEntryJson(e);
  EXPECT_EQ(json->getValue<std::int64_t>("seq"), 7);
  EXPECT_EQ(json->getValue<std::int64_t>("at_ms"), 1767225600123);
  EXPECT_EQ(json->getValue<std::string>("at"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(json->getValue<std::string>("actor"), "token:abc");
  EXPECT_EQ(json->getValue<std::string>("role"), "department");
  EXPECT_EQ(json->getValue<std::string>("route"), "GET /v1/records");
  EXPECT_TRUE(json->isNull("purpose"));
  EXPECT_EQ(json->getValue<std::int64_t>("count"), 2);
  EXPECT_EQ(json->getArray("record_ids")->getElement<std::string>(1), "quarantine:4");
  EXPECT_EQ(json->getArray("person_tokens")->getElement<std::string>(0),
            "ab" + std::string(62, '0'));
  e.purpose = "relocation";
  EXPECT_EQ(AccessEntryJson(e)->getValue<std::string>("purpose"), "relocation");
}

}  // namespace
}  // namespace carehub
