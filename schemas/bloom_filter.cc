#include "schemas/bloom_filter.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace carehub {
namespace {

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // 2^64 / φ, odd

// Calls f(word, mask) for each of the kProbes bits of `key` inside its block.
template <typename F>
void ForEachBit(std::uint64_t key, F&& f) {
  const std::uint64_t bits = key * kGolden;
  for (int p = 0; p < BloomFilter::kProbes; ++p) {
    const unsigned bit = static_cast<unsigned>(bits >> (64 - 9 * (p + 1))) & 511u;
    f(bit >> 6, std::uint64_t{1} << (bit & 63));
  }
}

}  // namespace

BloomFilter::BloomFilter(std::size_t blocks) : blocks_(std::max<std::size_t>(blocks, 1)) {
  assert(blocks_.size() < (std::size_t{1} << 32));
}

std::size_t BloomFilter::BlocksFor(std::size_t keys, double bits_per_key) {
  const double bits = static_cast<double>(keys) * bits_per_key;
  return std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(bits / kBlockBits)));
}

double BloomFilter::FalsePositiveRate(double bits_per_key) {
  // Sum over the keys n in a block (Poisson, mean λ) of the chance that kProbes bits are set.
  const double lambda = static_cast<double>(kBlockBits) / bits_per_key;
  const double clear_per_probe = 1.0 - 1.0 / static_cast<double>(kBlockBits);
  double p_n = std::exp(-lambda);
  double rate = 0;
  for (int n = 0; n < 20 * static_cast<int>(lambda) + 100; ++n) {
    if (n > 0) p_n *= lambda / n;
    rate += p_n * std::pow(1.0 - std::pow(clear_per_probe, kProbes * n), kProbes);
  }
  return rate;
}

void BloomFilter::Insert(std::uint64_t key) {
  assert(!empty());
  Block& block = blocks_[BlockIndex(key)];
  ForEachBit(key, [&](unsigned word, std::uint64_t mask) { block.words[word] |= mask; });
}

bool BloomFilter::MayContain(std::uint64_t key) const {
  if (empty()) return false;
  const Block& block = blocks_[BlockIndex(key)];
  bool all = true;
  ForEachBit(key, [&](unsigned word, std::uint64_t mask) {
    all = all && (block.words[word] & mask) != 0;
  });
  return all;
}

}  // namespace carehub
