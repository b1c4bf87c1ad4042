#include "connectors/identifiers.h"

#include <gtest/gtest.h>

namespace carehub {
namespace {

// Worked examples from /work/shared/domain.md §3.
TEST(IdentifiersTest, PrcResidentIdKnownValid) {
  for (const char* id :
       {"11010519491231002X", "440524188001010014", "34052419800101001X", "810000195001010010"}) {
    EXPECT_EQ(CheckPrcResidentId(id), IdCheck::kOk) << id;
  }
  EXPECT_EQ(PrcCheckCharacter("11010519491231002"), 'X');
  EXPECT_EQ(PrcCheckCharacter("44052418800101001"), '4');
}

TEST(IdentifiersTest, PrcResidentIdInvalid) {
  EXPECT_EQ(CheckPrcResidentId("110105194912310021"), IdCheck::kBadCheckDigit);
  EXPECT_EQ(CheckPrcResidentId("440524188001010015"), IdCheck::kBadCheckDigit);
  EXPECT_EQ(CheckPrcResidentId("34052419800101001"), IdCheck::kBadFormat);   // 17 chars
  EXPECT_EQ(CheckPrcResidentId("34052419800101001Y"), IdCheck::kBadFormat);  // not X
  EXPECT_EQ(CheckPrcResidentId("3405241980010100XX"), IdCheck::kBadFormat);
  EXPECT_EQ(CheckPrcResidentId("340524198002300010"), IdCheck::kBadFormat);  // 30 Feb
  EXPECT_EQ(CheckPrcResidentId("990524198001010010"), IdCheck::kBadFormat);  // no province 99
  EXPECT_EQ(CheckPrcResidentId(NormaliseIdentifier("34052419800101001x")), IdCheck::kOk);
}

TEST(IdentifiersTest, PrcDetailsGiveBirthAndSex) {
  auto f = PrcIdDetails("11010519491231002X");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->year, 1949);
  EXPECT_EQ(f->month, 12u);
  EXPECT_EQ(f->day, 31u);
  EXPECT_EQ(f->sex, Sex::kFemale);                                 // 17th digit 2
  EXPECT_EQ(PrcIdDetails("440524188001010014")->sex, Sex::kMale);  // 1
}

TEST(IdentifiersTest, HkIdKnownValidWithAndWithoutParentheses) {
  for (const char* id : {"A123456(3)", "E364912(5)", "AB123456(9)", "D288754(2)", "AB987654(3)",
                         "a123456(3)", "A1234563", "A 123456 (3)"}) {
    EXPECT_EQ(CheckHkId(NormaliseIdentifier(id)), IdCheck::kOk) << id;
  }
  EXPECT_EQ(HkIdCheckCharacter("A123456"), '3');
}

TEST(IdentifiersTest, HkIdInvalid) {
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("A123456(4)")), IdCheck::kBadCheckDigit);
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("AB987654(A)")), IdCheck::kBadCheckDigit);
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("A12345(3)")), IdCheck::kBadFormat);
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("ABC123456(3)")), IdCheck::kBadFormat);
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("1123456(3)")), IdCheck::kBadFormat);
  EXPECT_EQ(CheckHkId(NormaliseIdentifier("A123456(B)")), IdCheck::kBadFormat);
}

TEST(IdentifiersTest, MacauIdFormatOnly) {
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("1234567(8)")), IdCheck::kOk);
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("5215299(8)")), IdCheck::kOk);
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("7123456(0)")), IdCheck::kOk);
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("2234567(8)")), IdCheck::kBadFormat);
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("123456(8)")), IdCheck::kBadFormat);
  EXPECT_EQ(CheckMoId(NormaliseIdentifier("1234567(X)")), IdCheck::kBadFormat);
}

TEST(IdentifiersTest, Uscc) {
  EXPECT_TRUE(IsValidUscc("91350100M000100Y43"));
  EXPECT_EQ(UsccCheckCharacter("91350100M000100Y4"), '3');
  EXPECT_FALSE(IsValidUscc("91350100M000100Y44"));
  EXPECT_FALSE(IsValidUscc("91350100M000100Y4"));
  EXPECT_FALSE(IsValidUscc("91350100I000100Y43"));  // I is not in the charset
}

TEST(IdentifiersTest, RegionCodes) {
  for (const char* c : {"310000", "310115", "320104", "330100", "340100", "440300", "440400",
                        "810000", "820000", "310230", "710000"}) {
    EXPECT_TRUE(IsValidRegionCode(c)) << c;
  }
  for (const char* c : {"31011", "3101150", "990000", "00000A", "810001", "160000", ""}) {
    EXPECT_FALSE(IsValidRegionCode(c)) << c;
  }
}

TEST(IdentifiersTest, NormaliseStripsFullWidthParentheses) {
  EXPECT_EQ(NormaliseIdentifier("a123456（3）"), "A1234563");
  EXPECT_EQ(NormaliseIdentifier(" 1234567(8) "), "12345678");
}

}  // namespace
}  // namespace carehub
