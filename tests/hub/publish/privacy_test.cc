// The privacy machinery of open datasets: the exact discrete Gaussian sampler (Canonne, Kamath,
// Steinke 2020) has the distribution it claims, its keyed random stream is deterministic per
// key and label, the noise scale follows rho and the sensitivity, post-processing gives
// non-negative integers adding up to the total, and the budget of a series is accounted
// exactly in the store.
#include "hub/publish/privacy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>

#include "hub/publish/budget.h"
#include "hub/publish/discrete_gaussian.h"
#include "hub/store/published_files.h"
#include "hub/store/store.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

NoiseKey Key(std::uint8_t fill) {
  NoiseKey key;
  key.fill(fill);
  return key;
}

TEST(DiscreteGaussianTest, KeyedStreamIsDeterministicPerKeyAndLabel) {
  KeyedStream a(Key(1), "release|table|0|1");
  KeyedStream b(Key(1), "release|table|0|1");
  KeyedStream other_label(Key(1), "release|table|0|2");
  KeyedStream other_key(Key(2), "release|table|0|1");
  for (int i = 0; i < 100; ++i) {  // across several ChaCha20 chunks
    const std::uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    EXPECT_NE(x, other_label.Next64());
    EXPECT_NE(x, other_key.Next64());
  }
}

TEST(DiscreteGaussianTest, BernoulliExpMinusHasProbabilityExpMinusGamma) {
  KeyedStream bits(Key(3), "bernoulli");
  constexpr int kDraws = 20000;
  for (const Rational gamma : {Rational{1, 2}, Rational{23, 10}, Rational{0, 1}}) {
    int ones = 0;
    for (int i = 0; i < kDraws; ++i) ones += BernoulliExpMinus(bits, gamma) ? 1 : 0;
    const double p = std::exp(-static_cast<double>(gamma.num) / static_cast<double>(gamma.den));
    const double sd = std::sqrt(p * (1 - p) / kDraws) + 1e-9;
    EXPECT_NEAR(static_cast<double>(ones) / kDraws, p, 5 * sd + 1e-9);
  }
}

TEST(DiscreteGaussianTest, SamplesHaveMeanZeroAndTheRequestedVariance) {
  for (const Rational sigma2 : {Rational{4, 1}, Rational{61, 2}, Rational{1, 4}}) {
    KeyedStream bits(Key(4), "gaussian");
    constexpr int kDraws = 20000;
    double sum = 0, squares = 0;
    std::map<std::int64_t, int> histogram;
    for (int i = 0; i < kDraws; ++i) {
      const std::int64_t x = DiscreteGaussian(bits, sigma2);
      sum += static_cast<double>(x);
      squares += static_cast<double>(x * x);
      ++histogram[x];
    }
    const double variance = static_cast<double>(sigma2.num) / static_cast<double>(sigma2.den);
    const double mean = sum / kDraws;
    EXPECT_NEAR(mean, 0, 5 * std::sqrt(variance / kDraws) + 0.01);
    // The discrete Gaussian's variance is slightly below sigma^2 for small sigma (CKS Fact 18).
    EXPECT_NEAR(squares / kDraws, variance, 0.05 * variance + 0.05);
    // Symmetric: P(1) ~ P(-1).
    EXPECT_NEAR(histogram[1], histogram[-1], 6 * std::sqrt(histogram[1] + 1.0));
  }
}

TEST(DiscreteGaussianTest, UniformBelowStaysInRange) {
  KeyedStream bits(Key(5), "uniform");
  std::map<std::uint64_t, int> seen;
  for (int i = 0; i < 6000; ++i) {
    const auto x = static_cast<std::uint64_t>(UniformBelow(bits, 6));
    ASSERT_LT(x, 6u);
    ++seen[x];
  }
  EXPECT_EQ(seen.size(), 6u);
  for (const auto& [value, n] : seen) EXPECT_NEAR(n, 1000, 150) << value;
}

TEST(PrivacyTest, NoiseScalesWithSensitivityOverRho) {
  TableSpec spec;
  spec.max_contributions = 6;
  spec.one_per_group = true;
  const TableNoise noise = NoiseFor(spec, 200000);  // rho 0.2: sigma^2 = 6 / 0.2 = 30
  EXPECT_NEAR(noise.SigmaCells(), std::sqrt(30.0), 1e-9);
  EXPECT_NEAR(noise.SigmaTotals(), std::sqrt(30.0), 1e-9);
  spec.one_per_group = false;
  spec.max_contributions = 2;  // L2 sensitivity 2: sigma^2 = 4 / 0.2 = 20
  EXPECT_NEAR(NoiseFor(spec, 200000).SigmaCells(), std::sqrt(20.0), 1e-9);
  // 1-zCDP is (1 + 2 sqrt(ln 1e6), 1e-6)-DP.
  EXPECT_NEAR(EpsilonFor(1.0, 1e-6), 1 + 2 * std::sqrt(std::log(1e6)), 1e-9);
}

TEST(PrivacyTest, FitToTotalGivesNonNegativeIntegersAddingUpToTheTotal) {
  EXPECT_EQ(FitToTotal({5, -3, 2}, 7), (std::vector<std::int64_t>{5, 0, 2}));
  EXPECT_EQ(FitToTotal({5, -3, 2}, 0), (std::vector<std::int64_t>{0, 0, 0}));
  EXPECT_EQ(FitToTotal({10, 10}, 21), (std::vector<std::int64_t>{11, 10}));  // ties: lower index
  EXPECT_EQ(FitToTotal({-4, -9, -1}, 2), (std::vector<std::int64_t>{0, 0, 2}));
  KeyedStream bits(Key(6), "fit");
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<std::int64_t> noisy(1 + trial % 9);
    for (auto& x : noisy) x = DiscreteGaussian(bits, {30, 1}) + trial % 7;
    const std::int64_t total = std::max<std::int64_t>(0, DiscreteGaussian(bits, {100, 1}) + 20);
    const auto fitted = FitToTotal(noisy, total);
    EXPECT_EQ(std::accumulate(fitted.begin(), fitted.end(), std::int64_t{0}), total);
    for (std::int64_t x : fitted) EXPECT_GE(x, 0);
  }
  // The total estimate weighs the measured total and the sum of the cells by their variance.
  EXPECT_EQ(EstimateTotal(100, 100, 4, 30, 30), 100);
  EXPECT_EQ(EstimateTotal(100, 140, 4, 30, 30), 108);  // (100/30 + 140/120) / (1/30 + 1/120)
  EXPECT_EQ(EstimateTotal(-8, -20, 4, 30, 30), 0);
}

TEST(BudgetTest, SpendsAddUpExactlyAndAreRefusedBeyondTheBudget) {
  testing::TempDir tmp;
  Store store = Store::Init(tmp / "hub", {.region = "sh"});
  EXPECT_FALSE(ReadBudget(store, "s"));
  EXPECT_THROW(SpendBudget(store, "s", "f1", 100000, std::nullopt, 0), Error);  // no budget
  const ReleaseSlot first = SpendBudget(store, "s", "f1", 100000, 300000, 86400000);
  EXPECT_EQ(first.seq, 1);
  EXPECT_FALSE(first.reused);
  EXPECT_EQ(FormatIsoDate(first.issued), "1970-01-02");
  for (int i = 2; i <= 3; ++i) {
    const ReleaseSlot slot =
        SpendBudget(store, "s", "f" + std::to_string(i), 100000, std::nullopt, 0);
    EXPECT_EQ(slot.seq, i);
  }
  EXPECT_EQ(ReadBudget(store, "s")->remaining_micro(), 0);  // 0.1 * 3 = 0.3 exactly
  try {
    SpendBudget(store, "s", "f4", 1, std::nullopt, 0);
    ADD_FAILURE() << "spent beyond the budget";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has rho 0.0 left of 0.3 (0.3 spent)"), std::string::npos)
        << e.what();
  }
  // The same data again: its slot, nothing spent.
  const ReleaseSlot again = SpendBudget(store, "s", "f1", 100000, std::nullopt, 999999999);
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.seq, 1);
  EXPECT_EQ(again.issued, first.issued);
  EXPECT_EQ(again.budget.spent_micro, 100000);  // through release 1
  RecordRelease(store, "s", 1, "r1", tmp / "out" / "r1", "abc", {{"a.csv", "ab"}}, 0);
  const ReleaseSlot third = SpendBudget(store, "s", "f3", 100000, std::nullopt, 0);
  EXPECT_EQ(third.previous_release, "r1");  // release 2 has no files: r1 is the last published
  EXPECT_EQ(FindPublishedFile(store.db(), "r1", "a.csv")->bytes, 2);
  EXPECT_EQ(RhoText(1500000), "1.5");
  EXPECT_EQ(RhoText(250), "0.00025");
}

}  // namespace
}  // namespace carehub
