#include "hub/publish/privacy.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace carehub {

double TableNoise::SigmaTotals() const {
  return std::sqrt(static_cast<double>(sigma2_totals.num) / static_cast<double>(sigma2_totals.den));
}
double TableNoise::SigmaCells() const {
  return std::sqrt(static_cast<double>(sigma2_cells.num) / static_cast<double>(sigma2_cells.den));
}

TableNoise NoiseFor(const TableSpec& spec, std::int64_t rho_micro) {
  // Each half gets rho/2; the discrete Gaussian with variance s^2 on a query of squared L2
  // sensitivity D is D/(2 s^2)-zCDP, so s^2 = D / (2 * rho/2) = D / rho.
  const auto sensitivity2 = static_cast<Uint128>(spec.SquaredSensitivity());
  const Rational sigma2{sensitivity2 * kRhoScale, static_cast<Uint128>(rho_micro)};
  return {rho_micro, sigma2, sigma2};
}

std::int64_t EstimateTotal(std::int64_t noisy_total, std::int64_t noisy_cell_sum, std::size_t n,
                           double sigma2_totals, double sigma2_cells) {
  const double w_total = 1.0 / sigma2_totals;
  const double w_cells = 1.0 / (static_cast<double>(n) * sigma2_cells);
  const double estimate =
      (w_total * static_cast<double>(noisy_total) + w_cells * static_cast<double>(noisy_cell_sum)) /
      (w_total + w_cells);
  return std::max<std::int64_t>(0, std::llround(estimate));
}

std::vector<std::int64_t> FitToTotal(const std::vector<std::int64_t>& noisy, std::int64_t total) {
  std::vector<std::int64_t> out(noisy.size(), 0);
  if (noisy.empty() || total <= 0) return out;
  // Projection onto the simplex (Held, Wolfe & Crowder 1974; Duchi et al. 2008): subtract the
  // one theta that makes the positive parts sum to `total`.
  std::vector<double> sorted(noisy.begin(), noisy.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  double prefix = 0;
  double theta = 0;
  for (std::size_t j = 0; j < sorted.size(); ++j) {
    prefix += sorted[j];
    const double candidate = (prefix - static_cast<double>(total)) / static_cast<double>(j + 1);
    if (sorted[j] - candidate > 0) theta = candidate;
  }
  std::vector<double> fitted(noisy.size());
  std::int64_t floors = 0;
  for (std::size_t i = 0; i < noisy.size(); ++i) {
    fitted[i] = std::max(0.0, static_cast<double>(noisy[i]) - theta);
    out[i] = static_cast<std::int64_t>(std::floor(fitted[i]));
    floors += out[i];
  }
  // Largest remainders get the missing units; ties to the lower index.
  std::vector<std::size_t> order(noisy.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return fitted[a] - std::floor(fitted[a]) > fitted[b] - std::floor(fitted[b]);
  });
  for (std::size_t i = 0; floors < total; i = (i + 1) % order.size()) {
    ++out[order[i]];
    ++floors;
  }
  while (floors > total) {  // only through rounding error: take from the largest cell
    --*std::max_element(out.begin(), out.end());
    --floors;
  }
  return out;
}

NoisyTable Privatize(const TableInput& table, const TrueCounts& counts, const TableNoise& noise,
                     const NoiseKey& key, const std::string& release_label) {
  NoisyTable out;
  const std::string prefix = release_label + "|" + table.spec->name + "|";
  const double sigma2_totals =
      static_cast<double>(noise.sigma2_totals.num) / static_cast<double>(noise.sigma2_totals.den);
  const double sigma2_cells =
      static_cast<double>(noise.sigma2_cells.num) / static_cast<double>(noise.sigma2_cells.den);
  for (std::size_t g = 0; g < table.groups.size(); ++g) {
    const std::string group_label = prefix + std::to_string(g) + "|";
    KeyedStream total_bits(key, group_label + "total");
    const std::int64_t noisy_total =
        counts.totals[g] + DiscreteGaussian(total_bits, noise.sigma2_totals);
    std::vector<std::int64_t> noisy_cells(counts.cells[g].size());
    std::int64_t cell_sum = 0;
    for (std::size_t c = 0; c < noisy_cells.size(); ++c) {
      KeyedStream cell_bits(key, group_label + std::to_string(c));
      noisy_cells[c] = counts.cells[g][c] + DiscreteGaussian(cell_bits, noise.sigma2_cells);
      cell_sum += noisy_cells[c];
    }
    const std::int64_t total =
        EstimateTotal(noisy_total, cell_sum, noisy_cells.size(), sigma2_totals, sigma2_cells);
    out.totals.push_back(total);
    out.cells.push_back(FitToTotal(noisy_cells, total));
  }
  return out;
}

double EpsilonFor(double rho, double delta) {
  return rho + 2 * std::sqrt(rho * std::log(1 / delta));
}

}  // namespace carehub
