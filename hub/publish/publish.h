// Open datasets for researchers (`carehub publish`): counts of the records a hub holds by
// prefecture-level region, kind, quarter, pivot and native level, sanction type, 5-year age
// band and sex, plus totals by region and grade/level/type, with small-cell and complementary
// suppression (hub/publish/suppress.h). Written as one immutable release OUT/<release>/:
// catalog.json (DCAT), CSV files, Avro OCF in Hive-style partitions and the Avro schemas.
// No token, identifier, name, birth date, organisation or source row reaches any file.
// Same data -> same bytes (no timestamps in files, content-derived OCF sync markers).
// docs/DATASETS.md describes the layout. Thread-safety: uses its Store exclusively.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "hub/store/store.h"

namespace carehub {

struct PublishOptions {
  std::filesystem::path out_dir;
  // Release folder name; by default "r" + 12 hex digits of the content hash, so unchanged
  // data maps to the same release.
  std::optional<std::string> release = std::nullopt;
  std::int64_t threshold = 10;                       // counts 1..threshold-1 are suppressed
  std::optional<std::string> origin = std::nullopt;  // only records of this origin
  std::string licence = "https://creativecommons.org/licenses/by/4.0/";
};

struct PublishSummary {
  std::string release;
  std::filesystem::path path;
  bool unchanged = false;    // the release existed already with exactly these bytes
  std::int64_t records = 0;  // records counted (retracted ones are left out)
  std::int64_t cells = 0;    // published cells (detailed and totals)
  std::int64_t suppressed_primary = 0;
  std::int64_t suppressed_secondary = 0;
  int files = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
};

// Aggregates in one streaming pass, suppresses, writes the release into a temporary folder and
// renames it into place, then registers it in the hub (table published_releases) so the HTTP
// API serves it. Throws Error::InvalidInput for a bad release name or threshold, or when the
// release exists with other content (releases are immutable); Error::Corruption for a record
// body that does not decode (nothing is written then); Error::IoError on write errors. A
// concurrent publish of the same data into the same folder is not an error (unchanged).
PublishSummary Publish(Store& store, const PublishOptions& options, std::int64_t now_ms);

// Release names: 1-64 characters of [A-Za-z0-9._-], not starting with '.'.
bool IsValidReleaseName(std::string_view name);

}  // namespace carehub
