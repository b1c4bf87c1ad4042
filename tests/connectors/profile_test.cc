#include "connectors/profile.h"

#include <gtest/gtest.h>

#include <set>

#include "schemas/error.h"

namespace carehub {
namespace {

TEST(ProfileTest, BuiltinProfilesLoadAndAreNamedByPath) {
  const std::vector<Profile>& all = BuiltinProfiles();
  ASSERT_FALSE(all.empty());
  std::set<std::string> names;
  for (const Profile& p : all) {
    EXPECT_TRUE(names.insert(p.name).second) << p.name;
    EXPECT_EQ(p.name, std::string(p.RegionName()) + "/" + std::string(KindName(p.kind)));
  }
}

TEST(ProfileTest, AllSevenRegionsTimesFourKinds) {
  for (const char* region :
       {"shanghai", "jiangsu", "zhejiang", "anhui", "guangdong", "hongkong", "macau"}) {
    for (RecordKind kind : kAllKinds) {
      std::string name = std::string(region) + "/" + std::string(KindName(kind));
      const Profile* p = FindBuiltinProfile(name);
      ASSERT_NE(p, nullptr) << name;
      EXPECT_EQ(p->kind, kind);
      for (const std::string& code : p->region_codes) EXPECT_EQ(code.size(), 6u) << name;
    }
  }
  EXPECT_EQ(BuiltinProfiles().size(), 28u);
}

TEST(ProfileTest, RegionsDifferAsInLife) {
  EXPECT_EQ(FindBuiltinProfile("jiangsu/assessment")->scale.code, "MZT039");
  EXPECT_EQ(FindBuiltinProfile("zhejiang/assessment")->format, FileFormat::kXml);
  EXPECT_EQ(FindBuiltinProfile("anhui/assessment")->scale.code, "NHSA_LTCI");
  EXPECT_TRUE(FindBuiltinProfile("guangdong/assessment")->bom);
  EXPECT_EQ(FindBuiltinProfile("guangdong/assessment")->delimiter, ';');
  EXPECT_EQ(FindBuiltinProfile("guangdong/caregiver")->delimiter, ',');
  EXPECT_EQ(FindBuiltinProfile("hongkong/assessment")->id_scheme, IdScheme::kHkId);
  EXPECT_EQ(FindBuiltinProfile("hongkong/caregiver")->encoding, TextEncoding::kBig5Hkscs);
  EXPECT_EQ(FindBuiltinProfile("macau/assessment")->id_scheme, IdScheme::kMoId);
  for (const LevelEntry& l : FindBuiltinProfile("hongkong/facility")->scale.levels) {
    EXPECT_FALSE(l.comparable);
    EXPECT_FALSE(l.pivot);
  }
  // Only the GB/T 42195 identity is a documented crosswalk.
  for (const Profile& p : BuiltinProfiles()) {
    for (const LevelEntry& l : p.scale.levels) {
      EXPECT_EQ(l.documented, p.scale.code == "GBT42195") << p.name << " " << l.native;
    }
  }
}

TEST(ProfileTest, ShanghaiAssessmentIsGbkCsvWithCareLevels) {
  const Profile* p = FindBuiltinProfile("shanghai/assessment");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->format, FileFormat::kCsv);
  EXPECT_EQ(p->encoding, TextEncoding::kGbk);
  EXPECT_EQ(p->region, "310000");
  EXPECT_EQ(p->scale.code, "SH_CARE_NEEDS");
  ASSERT_EQ(p->scale.levels.size(), 7u);
  EXPECT_EQ(p->scale.levels[3].native, "照护三级");
  EXPECT_EQ(p->scale.levels[3].pivot, 2);
  const FieldSpec* id = p->FindField(CanonicalField::kPersonId);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->name, "身份证号");
  EXPECT_TRUE(id->required);
  EXPECT_EQ(FindBuiltinProfile("shanghai/nothing"), nullptr);
}

TEST(ProfileTest, RejectsBrokenProfiles) {
  EXPECT_THROW(LoadProfile("not json"), Error);
  EXPECT_THROW(LoadProfile(R"({"name":"x/assessment"})"), Error);
  const char* dup = R"({"name":"x/assessment","region":"310000","kind":"assessment",
    "format":"csv","fields":[{"name":"a","field":"source_id"},{"name":"a","field":"level"}],
    "scale":{"code":"S","levels":[{"native":"1"}]}})";
  EXPECT_THROW(LoadProfile(dup), Error);
  const char* ok = R"({"name":"x/facility","region":"310000","kind":"facility",
    "format":"csv","fields":[{"name":"id","field":"source_id"},{"name":"g","field":"level"},
    {"name":"d","field":"event_date"},{"name":"n","field":"org_name","required":true}],
    "scale":{"code":"S","levels":[{"native":"一级","code":"1","pivot":1}]}})";
  Profile p = LoadProfile(ok);
  EXPECT_TRUE(p.fields[0].required);
  EXPECT_TRUE(p.scale.levels[0].comparable);
  EXPECT_EQ(p.region_codes, std::vector<std::string>{"310000"});
}

}  // namespace
}  // namespace carehub
