// Region codes: aliases, the city/province fallback chain, containment.
#include "mapping/region.h"

#include <gtest/gtest.h>

namespace carehub::mapping {
namespace {

TEST(Region, ParsesCodesAndAliases) {
  EXPECT_EQ(ParseRegion("440400")->code, 440400);
  EXPECT_EQ(ParseRegion("sh")->code, 310000);
  EXPECT_EQ(ParseRegion("GD")->code, 440000);
  EXPECT_EQ(ParseRegion("mo")->code, 820000);
  EXPECT_FALSE(ParseRegion("xx"));
  EXPECT_FALSE(ParseRegion("44040"));
  EXPECT_FALSE(ParseRegion("44040a"));
  EXPECT_FALSE(ParseRegion("000100"));
}

TEST(Region, ChainGoesFromDistrictToCityToProvince) {
  RegionCode chain[3];
  ASSERT_EQ(RegionChain(RegionCode{440402}, chain), 3);
  EXPECT_EQ(chain[1].code, 440400);
  EXPECT_EQ(chain[2].code, 440000);
  ASSERT_EQ(RegionChain(RegionCode{440400}, chain), 2);
  EXPECT_EQ(chain[1].code, 440000);
  ASSERT_EQ(RegionChain(RegionCode{810000}, chain), 1);
}

TEST(Region, Containment) {
  EXPECT_TRUE(RegionCode{440000}.Contains(RegionCode{440402}));
  EXPECT_TRUE(RegionCode{440400}.Contains(RegionCode{440402}));
  EXPECT_FALSE(RegionCode{440400}.Contains(RegionCode{440300}));
  EXPECT_FALSE(RegionCode{440402}.Contains(RegionCode{440400}));
  EXPECT_EQ(RegionCode{310115}.ToString(), "310115");
}

}  // namespace
}  // namespace carehub::mapping
