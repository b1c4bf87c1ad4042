// The steps of Publish (hub/publish/publish.h), each callable on its own so tests can check one
// step: collect the tables in one scan, bound the contributions, fingerprint the data, spend
// the budget, add noise, render the files, name the release, render the catalog, write the
// release folder atomically, register it. Publish runs them in this order. Not a public API.
// Thread-safety: CollectTables/RecordRelease use the Store exclusively, WriteRelease the file
// system; the rest are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "hub/publish/publish.h"
#include "hub/publish/release_files.h"
#include "hub/publish/research_tables.h"
#include "hub/store/store.h"

namespace carehub::publish_internal {

// Throws Error::InvalidInput for a bad release or series name, rho, rho split, budget or base URL.
void CheckOptions(const PublishOptions& options);
// The series of a release: options.series or "hub-<region>[-origin-<origin>]".
std::string SeriesName(const Store& store, const PublishOptions& options);

// One pass over the records that are not retracted (of `origin`, if given); adds the records
// read to `records`. Throws Error::Corruption for a body that does not decode.
std::vector<TableInput> CollectTables(Store& store, const std::optional<std::string>& origin,
                                      std::int64_t& records);

// SHA-256 over the bounded true counts of every table and the privacy parameters: the
// identity of a release's data (kept in the store only; it would confirm guessed data).
std::string DataFingerprint(const std::vector<TableInput>& tables,
                            const std::vector<TrueCounts>& truths, const PublishOptions& options);

// Noise and post-processing of every table; table t gets table_rho_micro[t] (SplitRho).
std::vector<PublishedTable> PrivatizeTables(std::vector<TableInput> tables,
                                            std::vector<TrueCounts> truths,
                                            const std::vector<std::int64_t>& table_rho_micro,
                                            const NoiseKey& key, const std::string& release_label);

// `options.release`, else "r" + 12 hex digits of SHA-256 over every file's path and SHA-256.
std::string ReleaseName(const ReleaseFileMap& files, const PublishOptions& options);

// Writes `files` into `path` through a temporary sibling folder renamed into place. Returns
// true when `path` already held exactly these files (unchanged); throws Error::InvalidInput when
// it holds other content, Error::IoError on write errors.
bool WriteRelease(const std::filesystem::path& path, const ReleaseFileMap& files);

}  // namespace carehub::publish_internal
