// The files of an open-data release, rendered in memory (aggregates are small): per research
// table one CSV (UTF-8, header, RFC 4180) and one Avro Object Container File; the codebook as
// CSV and JSON (every column, its meaning, code lists in Chinese and English, region names, the
// crosswalk of native scales to the pivot, the privacy parameters and expected errors); and a
// README.txt. Deterministic: same tables and release information, same bytes.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/publish/budget.h"
#include "hub/publish/privacy.h"
#include "hub/publish/research_tables.h"

namespace carehub {

// One file of a release: its bytes and what the catalog says about it.
struct ReleaseFile {
  std::string bytes;
  std::string title;
  std::string media_type;  // IANA media type, e.g. "text/csv"
  std::string format;      // short format name: CSV, Avro, JSON, TXT
};
// Path inside the release -> file, in path order.
using ReleaseFileMap = std::map<std::string, ReleaseFile>;

// A research table after bounding, noise and post-processing.
struct PublishedTable {
  TableInput input;
  TrueCounts truth;  // never written anywhere; kept for the fingerprint and for tests
  TableNoise noise;
  NoisyTable noisy;
};

// What the files say about the release itself.
struct ReleaseInfo {
  std::string hub_region;
  std::optional<std::string> origin;
  std::string series;
  std::string release;  // known once the files are named (catalog only)
  ReleaseSlot slot;
  std::int64_t rho_micro = 0;  // spent by this release
  double delta = 1e-6;         // for the (epsilon, delta) statement only
  std::string base_url;
  std::string licence;
  std::string contact;
};

// `<table>.csv` and `<table>.avro` for every table.
void AddTableFiles(const std::vector<PublishedTable>& tables, ReleaseFileMap& files);
// codebook.csv and codebook.json.
void AddCodebook(const std::vector<PublishedTable>& tables, const ReleaseInfo& info,
                 ReleaseFileMap& files);
// README.txt.
void AddReadme(const std::vector<PublishedTable>& tables, const ReleaseInfo& info,
               ReleaseFileMap& files);

// The key and value columns of a table's files, in order.
std::vector<std::string> TableColumns(const TableSpec& spec);
// The meaning of a column of a table, for the codebook and the Avro schema.
std::string ColumnMeaning(const TableSpec& spec, const std::string& column);
// The Avro schema of a table's OCF file.
std::string TableAvroSchema(const TableSpec& spec);

// Lowercase hex SHA-256 (libsodium).
std::string Sha256Hex(std::string_view bytes);

// RFC 4180 row with CRLF.
void AppendCsvRow(std::string& out, const std::vector<std::string>& cells);

}  // namespace carehub
