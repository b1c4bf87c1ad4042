// bench_publish_accuracy --dir HUB [--trials N]: the accuracy a researcher should expect from
// `carehub publish` on this hub. Runs Publish's steps (collect, bound, noise, post-process)
// N times with fresh random noise keys, nothing written or spent, and compares every published
// cell and group total with the true bounded count. Prints per table: rows, the stated 95%
// margin of a cell, the measured mean absolute error, the 95th percentile of the absolute
// error and the share within the stated margin, for cells and group totals, and for cells
// whose true count is at least 100 the median relative error. Not part of ctest.
#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "hub/publish/publish_internal.h"

namespace {

using namespace carehub;

struct Errors {
  std::vector<double> absolute;
  std::vector<double> relative_large;  // true >= 100
  std::size_t within = 0;
  void Add(std::int64_t published, std::int64_t truth, double margin) {
    const double error = std::abs(static_cast<double>(published - truth));
    absolute.push_back(error);
    within += error <= margin ? 1 : 0;
    if (truth >= 100) relative_large.push_back(error / static_cast<double>(truth));
  }
  static double Quantile(std::vector<double> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
  }
  void Print(const char* what, double margin) const {
    double sum = 0;
    for (double e : absolute) sum += e;
    std::printf("    %-12s margin95 %6.2f  mean|err| %6.2f  p95|err| %6.1f  within %5.1f%%", what,
                margin, sum / static_cast<double>(absolute.size()), Quantile(absolute, 0.95),
                100.0 * static_cast<double>(within) / static_cast<double>(absolute.size()));
    if (!relative_large.empty()) {
      std::printf("  (%zu with true >= 100: median rel.err %.2f%%)", relative_large.size(),
                  100 * Quantile(relative_large, 0.5));
    }
    std::printf("\n");
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  int trials = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--trials") == 0) trials = std::atoi(argv[i + 1]);
  }
  if (dir.empty() || trials < 1 || sodium_init() < 0) {
    std::fprintf(stderr, "usage: bench_publish_accuracy --dir HUB [--trials N]\n");
    return 2;
  }
  Store store = Store::Open(dir);
  std::int64_t records = 0;
  std::vector<TableInput> tables = publish_internal::CollectTables(store, std::nullopt, records);
  std::vector<TrueCounts> truths;
  for (TableInput& table : tables) truths.push_back(BoundContributions(table));
  std::printf("%lld records, rho %.2f per release (default), %d trials\n",
              static_cast<long long>(records),
              static_cast<double>(kDefaultReleaseRhoMicro) / kRhoScale, trials);
  std::vector<Errors> cells(tables.size()), totals(tables.size());
  std::vector<double> cell_margin(tables.size()), total_margin(tables.size());
  for (int trial = 0; trial < trials; ++trial) {
    NoiseKey key;
    randombytes_buf(key.data(), key.size());
    const auto published = publish_internal::PrivatizeTables(
        tables, truths, SplitRho(PublishOptions{}), key, "accuracy");
    for (std::size_t t = 0; t < published.size(); ++t) {
      const PublishedTable& table = published[t];
      cell_margin[t] = 1.959964 * table.noise.SigmaCells();
      total_margin[t] = 1.959964 * table.noise.SigmaTotals();
      for (std::size_t g = 0; g < table.truth.totals.size(); ++g) {
        totals[t].Add(table.noisy.totals[g], table.truth.totals[g], total_margin[t]);
        for (std::size_t c = 0; c < table.truth.cells[g].size(); ++c) {
          cells[t].Add(table.noisy.cells[g][c], table.truth.cells[g][c], cell_margin[t]);
        }
      }
    }
  }
  for (std::size_t t = 0; t < tables.size(); ++t) {
    std::printf("  %s: %zu rows, %zu groups, %lld contributions dropped by the bound\n",
                tables[t].spec->name.c_str(), cells[t].absolute.size() / trials,
                totals[t].absolute.size() / trials,
                static_cast<long long>(truths[t].contributions_dropped));
    cells[t].Print("cells", cell_margin[t]);
    totals[t].Print("group totals", total_margin[t]);
  }
  return 0;
}
