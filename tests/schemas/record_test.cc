#include "schemas/record.h"

#include <gtest/gtest.h>

namespace carehub {
namespace {

TEST(RecordTest, RecordIdIsStableHexAndDependsOnEveryPart) {
  const std::string id = MakeRecordId("310000", RecordKind::kAssessment, "SH-0001");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id, MakeRecordId("310000", RecordKind::kAssessment, "SH-0001"));
  EXPECT_NE(id, MakeRecordId("320000", RecordKind::kAssessment, "SH-0001"));
  EXPECT_NE(id, MakeRecordId("310000", RecordKind::kCaregiver, "SH-0001"));
  EXPECT_NE(id, MakeRecordId("310000", RecordKind::kAssessment, "SH-0002"));
}

TEST(RecordTest, IsoDatesRoundTripAndRejectImpossibleDays) {
  auto date = ParseIsoDate("2024-02-29");
  ASSERT_TRUE(date.has_value());
  EXPECT_EQ(FormatIsoDate(*date), "2024-02-29");
  EXPECT_EQ(date->time_since_epoch().count(), 19782);
  EXPECT_FALSE(ParseIsoDate("2023-02-29").has_value());
  EXPECT_FALSE(ParseIsoDate("2023-13-01").has_value());
  EXPECT_FALSE(ParseIsoDate("2023-1-01").has_value());
}

TEST(RecordTest, KindNamesRoundTrip) {
  for (RecordKind kind : kAllKinds) EXPECT_EQ(ParseKind(KindName(kind)), kind);
  EXPECT_FALSE(ParseKind("penalty").has_value());
}

}  // namespace
}  // namespace carehub
