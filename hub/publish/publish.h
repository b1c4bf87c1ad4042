// Open datasets for researchers (`carehub publish`): five research tables (research_tables.h)
// under person-level zero-concentrated differential privacy (privacy.h), each as one CSV and
// one Avro file, with a codebook (CSV + JSON), a README.txt and a DCAT-AP 3.0 catalog
// (dcat.h). Every release belongs to a series whose privacy-loss budget lives in the store
// (budget.h); a release spends from it and is refused when the budget would be exceeded.
// Written as one immutable release OUT/<release>/. No token, identifier, name, birth date,
// organisation or source row reaches any file. Same data and same hub key -> same bytes.
// docs/DATASETS.md describes tables, method and files. Thread-safety: uses its Store
// exclusively.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/publish/privacy.h"
#include "hub/store/store.h"

namespace carehub {

// Defaults: rho 1 per release out of a series budget of 4 (four releases).
constexpr std::int64_t kDefaultReleaseRhoMicro = 1000000;
constexpr std::int64_t kDefaultSeriesBudgetMicro = 4000000;

struct PublishOptions {
  std::filesystem::path out_dir;
  // Release folder name; by default "r" + 12 hex digits of the content hash, so unchanged
  // data maps to the same release.
  std::optional<std::string> release = std::nullopt;
  std::optional<std::string> origin = std::nullopt;  // only records of this origin
  // Dataset series; by default "hub-<region>" (+ "-origin-<origin>").
  std::optional<std::string> series = std::nullopt;
  std::int64_t rho_micro = kDefaultReleaseRhoMicro;  // spent by this release (millionths)
  // How rho_micro is split between the tables: table file stem -> share (millionths; only the
  // ratios matter, e.g. 2:1:1:1:1). Empty: equal shares. When given, every table needs a positive
  // share. A table's rho is rho_micro * share / (sum of shares), rounded so that the tables' rho
  // add up to rho_micro exactly (SplitRho); more rho means less noise on that table.
  std::map<std::string, std::int64_t> rho_shares_micro = {};
  // Total budget of a new series (millionths); default kDefaultSeriesBudgetMicro. For an
  // existing series it must equal the stored budget when given.
  std::optional<std::int64_t> budget_micro = std::nullopt;
  // Public base URL of the hub's HTTP API; IRIs and download URLs are built from it.
  std::string base_url = "http://127.0.0.1:8080";
  std::string licence = "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0";
  std::string contact = "";  // mailto: or https: IRI of the open-data desk
  // The secret the noise is drawn from; by default the hub's (keys/dataset_noise.secret,
  // created on first use).
  std::optional<NoiseKey> noise_key = std::nullopt;
};

struct PublishSummary {
  std::string release;
  std::string series;
  std::filesystem::path path;
  bool unchanged = false;     // the release existed already with exactly these bytes
  bool reused_spend = false;  // the same data was published before: no budget spent again
  int seq = 0;                // position in the series
  std::int64_t records = 0;   // records read (retracted ones are left out)
  std::int64_t contributions_dropped = 0;  // by contribution bounding (never published)
  std::int64_t rows = 0;                   // table rows (cells) over all tables
  std::int64_t rho_spent_micro = 0;        // by the series up to and including this release
  std::int64_t rho_remaining_micro = 0;
  int files = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

// Scans the store once, bounds contributions, spends the release's rho from its series (one
// transaction, before anything is written), adds noise, post-processes, writes the release
// into a temporary folder and renames it into place, then registers it and its files with
// their SHA-256 (published_files) for the HTTP API. Throws Error::InvalidInput for bad
// options, when the budget would be exceeded (saying how much is left; nothing is written), or
// when the release exists with other content; Error::Corruption for a record body that does not
// decode (nothing is written or spent then); Error::IoError on write errors.
PublishSummary Publish(Store& store, const PublishOptions& options, std::int64_t now_ms);

// The rho of each table (millionths), in ResearchTableSpecs() order: options.rho_micro split by
// options.rho_shares_micro (equal shares when empty), largest remainders rounded up, so that they
// add up to options.rho_micro exactly. Throws Error::InvalidInput naming the table for an unknown
// table, a missing one, a share that is not positive, or a table whose rho would round to 0.
std::vector<std::int64_t> SplitRho(const PublishOptions& options);

// Release and series names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'.
bool IsValidReleaseName(std::string_view name);

// The hub's noise key, <hub dir>/keys/dataset_noise.secret (64 hex digits, mode 0600),
// created with fresh random bytes when absent.
NoiseKey LoadOrCreateNoiseKey(const std::filesystem::path& hub_dir);

}  // namespace carehub
