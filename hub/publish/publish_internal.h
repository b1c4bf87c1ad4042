// The steps of Publish (hub/publish/publish.h), each callable on its own so tests can check one
// step: count the records per detailed cell, build and suppress the tree of totals, render the
// files in memory, name the release, render the catalog, write the release folder atomically,
// register it in the store. Publish runs them in this order. Not part of the public API.
// Thread-safety: pure functions except CountCells/RegisterRelease (use the Store exclusively)
// and WriteRelease (the file system).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hub/publish/publish.h"
#include "hub/publish/suppress.h"
#include "hub/store/store.h"

namespace carehub::publish_internal {

// One file of a release: its bytes and what the catalog says about it.
struct ReleaseFile {
  std::string bytes;
  std::string title;
  std::string media_type;
  std::string format;
  std::string conforms_to = {};  // schema file, for Avro
};
// Path inside the release -> file, in path order.
using ReleaseFiles = std::map<std::string, ReleaseFile>;

// Detailed cell key (the nine columns joined by '\x1f') -> records.
using CellCounts = std::map<std::string, std::int64_t>;

// A row of the totals table: kind, region ("all"), class dimension, class ("all") and its node.
struct SummaryRow {
  std::string kind, region, class_dim, class_value;
  int node;
};

// The suppressed tree: kind -> kind x region -> kind x region x class -> detailed cells.
struct Aggregates {
  SuppressionTree tree;
  std::vector<std::pair<std::vector<std::string>, int>> detail;  // columns, node
  std::vector<SummaryRow> summary_rows;
  std::set<std::string> quarters;
  std::set<std::string> regions;
};

// Throws Error::InvalidInput for a threshold below 1 or a bad release name.
void CheckOptions(const PublishOptions& options);

// Counts the records that are not retracted (of `origin`, if given) per detailed cell, in one
// pass over one snapshot; adds the records counted to `records`.
CellCounts CountCells(Store& store, const std::optional<std::string>& origin,
                      std::int64_t& records);

// Builds the tree of totals over the cells and suppresses it with `threshold`.
Aggregates BuildSuppressedTotals(const CellCounts& cells, std::int64_t threshold);

// counts.csv and the Hive-partitioned Avro files of the detailed cells.
void AddCountFiles(const Aggregates& aggregates, ReleaseFiles& files);
// summary.csv, summary.avro and the four per-kind CSV views of the totals.
void AddSummaryFiles(const Aggregates& aggregates, ReleaseFiles& files);
// The Avro schemas of the counts partitions and of summary.avro.
void AddSchemaFiles(ReleaseFiles& files);

// `options.release`, else "r" + 12 hex digits of SHA-256 over every file and the threshold.
std::string ReleaseName(const ReleaseFiles& files, const PublishOptions& options);

// catalog.json (DCAT) listing every file of `files` with its size and SHA-256.
std::string RenderCatalog(const Store& store, const PublishOptions& options,
                          const PublishSummary& summary, const Aggregates& aggregates,
                          const ReleaseFiles& files);

// Writes `files` into `path` through a temporary sibling folder renamed into place. Returns
// true when `path` already held exactly these files (unchanged); throws Error::InvalidInput when
// it holds other content, Error::IoError on write errors.
bool WriteRelease(const std::filesystem::path& path, const ReleaseFiles& files);

// Records the release in published_releases and its files with their SHA-256 in published_files
// (the HTTP API serves only those).
void RegisterRelease(Store& store, const std::string& release, const std::filesystem::path& path,
                     const std::string& catalog_sha256, const ReleaseFiles& files,
                     std::int64_t now_ms);

std::string Sha256Hex(std::string_view bytes);

}  // namespace carehub::publish_internal
