// Person-level zero-concentrated differential privacy for the research tables (Bun & Steinke
// 2016; Canonne, Kamath & Steinke 2020): every group total and every cell gets independent
// discrete Gaussian noise scaled to the table's L2 sensitivity (research_tables.h bounds what
// one unit contributes), then post-processing, which never weakens the guarantee, makes the
// output non-negative integers whose cells add up to their published group total.
// Noise is drawn from a KeyedStream under the hub's secret noise key and a label naming the
// release, table, group and cell: the same release gives the same bytes (no averaging by
// republishing), and nobody without the key can predict or remove the noise.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "hub/publish/discrete_gaussian.h"
#include "hub/publish/research_tables.h"

namespace carehub {

using NoiseKey = std::array<std::uint8_t, 32>;

// rho is held in millionths so budgets add up exactly.
constexpr std::int64_t kRhoScale = 1000000;

struct TableNoise {
  std::int64_t rho_micro = 0;  // this table's share of the release's rho
  Rational sigma2_totals;      // variance of the noise on each group total
  Rational sigma2_cells;       // variance of the noise on each cell
  double SigmaTotals() const;
  double SigmaCells() const;
};

// Half of the table's rho for the totals, half for the cells: sigma^2 = sensitivity^2 / rho.
TableNoise NoiseFor(const TableSpec& spec, std::int64_t rho_micro);

struct NoisyTable {
  std::vector<std::int64_t> totals;              // per group, >= 0
  std::vector<std::vector<std::int64_t>> cells;  // per group, >= 0, summing to the total
};

// Adds noise to every total and cell (of every group of the domain, zero or not) and
// post-processes. `release_label` identifies the release (series and data fingerprint).
NoisyTable Privatize(const TableInput& table, const TrueCounts& counts, const TableNoise& noise,
                     const NoiseKey& key, const std::string& release_label);

// Post-processing steps, public for tests.
// The inverse-variance weighted estimate of a group total from its noisy total and the sum of
// its n noisy cells, rounded to the nearest non-negative integer.
std::int64_t EstimateTotal(std::int64_t noisy_total, std::int64_t noisy_cell_sum, std::size_t n,
                           double sigma2_totals, double sigma2_cells);
// The non-negative integers closest (Euclidean projection onto {x >= 0, sum x = total}, then
// largest-remainder rounding, ties to the lower index) to `noisy` that sum to `total`.
std::vector<std::int64_t> FitToTotal(const std::vector<std::int64_t>& noisy, std::int64_t total);

// zCDP -> (epsilon, delta)-DP (Bun & Steinke 2016, Prop. 1.3): rho + 2 sqrt(rho ln(1/delta)).
double EpsilonFor(double rho, double delta);

}  // namespace carehub
