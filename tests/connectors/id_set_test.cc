// IdSet: the reader's duplicate-id set answers exactly as a set would, before and after its
// table spills into the sorted temporary file, and its memory does not grow with the ids spilled.
#include "connectors/id_set.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

namespace carehub {
namespace {

// The same checks with a filter grown at each spill and with a fixed one (4 KiB: 20000 keys
// give it under 2 bits a key, so many lookups pass the filter and go to the file).
class IdSetFilterTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(IdSetFilterTest, AnswersAsASetAcrossSpills) {
  IdSet set(1000, GetParam());  // spills every 1000 table keys
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
    // A caller's hint a few keys ahead (empty shards at first, the filter after a spill)
    // changes no answer.
    set.Prefetch(keys[(i + 4) % keys.size()]);
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

INSTANTIATE_TEST_SUITE_P(GrownAndFixed, IdSetFilterTest, ::testing::Values(0, 4096));

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

// A shard never grows past its share of spill_at: keys that all share one shard spill long
// before the table holds spill_at of them, and the set stays exact.
TEST(IdSetTest, OneFullShardSpillsTheTable) {
  IdSet set(1 << 16, 4096);  // a shard's share: 256 keys, 512 slots
  std::vector<std::uint64_t> keys;
  for (std::uint64_t i = 1; i <= 2000; ++i) keys.push_back((std::uint64_t{0x17} << 56) | (i * 3));
  for (std::uint64_t key : keys) EXPECT_TRUE(set.Insert(key));
  EXPECT_GE(set.spilled(), 1500u);
  EXPECT_EQ(set.size(), keys.size());
  for (std::uint64_t key : keys) EXPECT_FALSE(set.Insert(key));
  EXPECT_LE(set.memory_bytes(), 256 * 512 * 8 + 512 * 8 + 4096 + 8 * (2000 / 512 + 1));
}

// Issue 16 (peak RSS flat from 1M to 5M rows): with a fixed filter the set's memory after
// 20x its first spill is what it was at the first spill, but for the block index (8 bytes per
// 512 spilled keys); a grown filter takes 10 bits more for every key spilled.
TEST(IdSetTest, FixedFilterMemoryDoesNotGrowWithTheKeys) {
  constexpr std::size_t kSpillAt = 4096;
  constexpr std::size_t kFilter = 64 * 1024;
  IdSet fixed(kSpillAt, kFilter);
  IdSet grown(kSpillAt);
  std::mt19937_64 random(11);
  std::size_t at_first_spill = 0;
  for (int i = 0; i < 20 * static_cast<int>(kSpillAt); ++i) {
    const std::uint64_t key = random();
    EXPECT_TRUE(fixed.Insert(key));
    EXPECT_TRUE(grown.Insert(key));
    if (at_first_spill == 0 && fixed.spilled() > 0) at_first_spill = fixed.memory_bytes();
  }
  ASSERT_GT(at_first_spill, kFilter);
  EXPECT_LE(fixed.memory_bytes(), at_first_spill + 8 * (fixed.spilled() / 512 + 1));
  EXPECT_GE(grown.memory_bytes(), fixed.memory_bytes() - kFilter + grown.spilled() * 10 / 8);
}

// A fixed filter that would fall below 6 bits a key is remade at 10 bits a key: its false
// positives (a pread each) stay bounded and the memory grows from then on, exact throughout.
TEST(IdSetTest, FixedFilterIsRemadeBelowSixBitsAKey) {
  IdSet set(1024, 1024);  // 8192 bits: kept up to 1365 keys
  std::unordered_set<std::uint64_t> reference;
  std::mt19937_64 random(5);
  std::size_t at_first_spill = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t key = (i % 4 == 3) ? *reference.begin() : random();
    EXPECT_EQ(set.Insert(key), reference.insert(key).second) << "insert " << i;
    if (at_first_spill == 0 && set.spilled() > 0) at_first_spill = set.memory_bytes();
  }
  EXPECT_EQ(set.size(), reference.size());
  // 15000 keys at 10 bits: ~18.7 KB of filter instead of 1 KiB.
  EXPECT_GT(set.memory_bytes(), at_first_spill + set.spilled() * 10 / 8 / 2);
}

}  // namespace
}  // namespace carehub
