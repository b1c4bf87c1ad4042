// BloomFilter: no false negatives, and the false-positive rate measured on keys never inserted
// is the one the header states for its bits per key.
#include "schemas/bloom_filter.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <vector>

namespace carehub {
namespace {

std::vector<std::uint64_t> RandomKeys(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::uint64_t> keys(n);
  for (auto& key : keys) key = random();
  return keys;
}

// The measured rate of false positives over `probes` keys not inserted, at `bits_per_key`.
double MeasuredRate(double bits_per_key, std::size_t keys, std::size_t probes) {
  BloomFilter filter(BloomFilter::BlocksFor(keys, bits_per_key));
  const auto inserted = RandomKeys(keys, 1);
  for (std::uint64_t key : inserted) filter.Insert(key);
  for (std::uint64_t key : inserted) EXPECT_TRUE(filter.MayContain(key)) << key;
  const std::unordered_set<std::uint64_t> set(inserted.begin(), inserted.end());
  std::size_t hits = 0, asked = 0;
  for (std::uint64_t key : RandomKeys(probes, 2)) {
    if (set.count(key) != 0) continue;
    ++asked;
    hits += filter.MayContain(key) ? 1 : 0;
  }
  return static_cast<double>(hits) / static_cast<double>(asked);
}

TEST(BloomFilterTest, HasNoFalseNegatives) {
  for (double bits : {4.0, 10.0, 32.0}) {
    BloomFilter filter(BloomFilter::BlocksFor(300000, bits));
    const auto keys = RandomKeys(300000, 3);
    for (std::uint64_t key : keys) filter.Insert(key);
    std::size_t missing = 0;
    for (std::uint64_t key : keys) missing += filter.MayContain(key) ? 0 : 1;
    EXPECT_EQ(missing, 0u) << bits << " bits per key";
  }
  // Keys sharing their top bits (one block) and their low bits, and the extremes.
  BloomFilter one(1);
  std::vector<std::uint64_t> odd = {0, 1, ~std::uint64_t{0}, std::uint64_t{1} << 63};
  for (std::uint64_t i = 0; i < 64; ++i) odd.push_back(0xabcd'0000'0000'0000ull | (i << 20));
  for (std::uint64_t key : odd) one.Insert(key);
  for (std::uint64_t key : odd) EXPECT_TRUE(one.MayContain(key)) << key;
}

TEST(BloomFilterTest, FalsePositiveRateIsTheStatedOne) {
  // The header's table (the formula), then the rate measured on 2M keys never inserted.
  EXPECT_NEAR(BloomFilter::FalsePositiveRate(10), 0.0096, 0.0001);
  EXPECT_NEAR(BloomFilter::FalsePositiveRate(16), 0.00099, 0.00001);
  EXPECT_NEAR(BloomFilter::FalsePositiveRate(32), 0.000026, 0.000001);
  for (double bits : {8.0, 10.0, 16.0}) {
    const double stated = BloomFilter::FalsePositiveRate(bits);
    const double measured = MeasuredRate(bits, 200000, 2000000);
    EXPECT_GT(measured, stated * 0.85) << bits << " bits per key";
    EXPECT_LT(measured, stated * 1.15) << bits << " bits per key";
  }
  // At 32 bits per key false positives are rare: 2.6e-5 is ~52 in 2M probes.
  const double measured = MeasuredRate(32, 200000, 2000000);
  EXPECT_LT(measured, BloomFilter::FalsePositiveRate(32) * 2);
}

TEST(BloomFilterTest, AnEmptyFilterHoldsNothingAndSizesItsBlocks) {
  const BloomFilter empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.MayContain(42));
  EXPECT_EQ(BloomFilter::BlocksFor(0, 10), 1u);
  EXPECT_EQ(BloomFilter::BlocksFor(1000, 10), 20u);  // 10,000 bits in 512-bit blocks
  const BloomFilter filter(20);
  EXPECT_EQ(filter.bytes(), 20u * 64);
  EXPECT_FALSE(filter.MayContain(42));
}

}  // namespace
}  // namespace carehub
