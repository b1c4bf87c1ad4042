// IdSet: the reader's duplicate-id set answers exactly as a set would, before and after its
// table spills into the sorted temporary file, and its memory does not grow with the ids spilled.
#include "connectors/id_set.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

namespace carehub {
namespace {

TEST(IdSetTest, AnswersAsASetAcrossSpills) {
  IdSet set(1000);  // spills every 1000 table keys
  std::unordered_set<std::uint64_t> reference;
  std::mt19937_64 random(7);
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 20000; ++i) keys.push_back(random());
  keys.push_back(0);
  keys.push_back(~std::uint64_t{0});
  keys.push_back(1);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    // Every third insert repeats an earlier key: spilled long ago, recently, or in the table.
    const std::uint64_t key = (i % 3 == 2) ? keys[(i * 7919) % i] : keys[i];
    EXPECT_EQ(set.Insert(key), reference.insert(key).second) << "insert " << i;
  }
  EXPECT_GT(set.spilled(), 10000u);
  EXPECT_EQ(set.size(), reference.size());
  for (std::uint64_t key : reference) EXPECT_FALSE(set.Insert(key)) << key;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t fresh = random();
    EXPECT_EQ(set.Insert(fresh), reference.insert(fresh).second);
  }
  EXPECT_EQ(set.size(), reference.size());
}

TEST(IdSetTest, KeysSharingAShardAndNeighboursOfSpilledKeysStayDistinct) {
  IdSet set(64);
  std::vector<std::uint64_t> keys;
  for (std::uint64_t i = 1; i <= 5000; ++i) keys.push_back((std::uint64_t{0xab} << 56) | (i * 2));
  for (std::uint64_t key : keys) EXPECT_TRUE(set.Insert(key));
  EXPECT_GT(set.spilled(), 4000u);
  for (std::uint64_t key : keys) {
    EXPECT_FALSE(set.Insert(key));
    EXPECT_TRUE(set.Insert(key + 1));  // odd neighbours were never inserted
  }
}

}  // namespace
}  // namespace carehub
