// The privacy-loss budget of each dataset series, kept in the store (tables dataset_series,
// dataset_spends, migration 8; published_releases, published_files). A series is a
// sequence of releases of the same tables; its total rho (zCDP) is fixed when it starts and
// every release spends its rho before any noisy output exists (so a crash can waste budget but
// never publish unaccounted output). A release is identified by its data fingerprint: publishing
// the same data again reuses its spend and gives the same bytes (the noise is keyed by it).
// Thread-safety: uses the Store exclusively; concurrent processes serialise on BEGIN IMMEDIATE.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/store.h"
#include "schemas/record.h"

namespace carehub {

// rho is held in millionths (kRhoScale in privacy.h) so that budgets add up exactly.
struct SeriesBudget {
  std::string series;
  std::int64_t budget_micro = 0;
  std::int64_t spent_micro = 0;
  std::int64_t remaining_micro() const { return budget_micro - spent_micro; }
};

// The place of a release in its series, decided when its budget is spent.
struct ReleaseSlot {
  int seq = 0;                                  // 1 for the first release of the series
  Date issued{};                                // day of first publication of this data
  bool reused = false;                          // the same data was published before
  std::optional<std::string> release;           // its name, when it was published before
  std::optional<std::string> previous_release;  // the series' release before this one
  SeriesBudget budget;  // spent = through this release (so a republish says the same)
};

// Spends `rho_micro` of `series` for the release whose data has `fingerprint`, in one
// transaction. The series is created with `budget_micro` (required then) on its first release;
// for an existing series `budget_micro`, if given, must equal its budget. Reuses the slot of a
// release with the same fingerprint without spending again. Throws Error::InvalidInput when the
// spend would exceed the budget, saying how much is left, or on a budget mismatch.
ReleaseSlot SpendBudget(Store& store, const std::string& series, const std::string& fingerprint,
                        std::int64_t rho_micro, std::optional<std::int64_t> budget_micro,
                        std::int64_t now_ms);

// The budget of a series (nullopt when it has no release yet).
std::optional<SeriesBudget> ReadBudget(Store& store, const std::string& series);

// Registers a written release in one transaction: its name on the spend, the release
// (published_releases) and every file with its SHA-256 (published_files,
// hub/store/published_files.h), which the HTTP API serves and checks.
void RecordRelease(Store& store, const std::string& series, int seq, const std::string& release,
                   const std::filesystem::path& path, const std::string& catalog_sha256,
                   const std::map<std::string, std::string_view>& files, std::int64_t now_ms);

// Rho in millionths as text: 500000 -> "0.5".
std::string RhoText(std::int64_t rho_micro);

}  // namespace carehub
