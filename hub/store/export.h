// Export of the records of one kind (optionally one origin) from the store to a file: Avro OCF
// (the canonical records exactly as stored, schema embedded; person tokens stay, they are
// keyed HMACs) or a flat table as CSV (UTF-8, header) / NDJSON. The flat formats leave out every
// field marked "pii" in the schemas (person tokens, birth year, certificate token) and the
// local source file/row; docs/STORE.md lists the columns per kind.
// Streams record by record (constant memory). Thread-safety: uses its Store exclusively.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/store/store.h"

namespace carehub {

enum class ExportFormat { kAvro, kCsv, kNdjson };
std::optional<ExportFormat> ParseExportFormat(std::string_view name);

struct ExportOptions {
  RecordKind kind = RecordKind::kAssessment;
  std::optional<std::string> origin = std::nullopt;  // all origins when empty
  ExportFormat format = ExportFormat::kAvro;
  std::string codec = "null";  // Avro block codec: null, deflate or snappy
  // An existing symbolic link at the output path is replaced (the link itself, never its
  // target) only with this set; without it the export refuses.
  bool replace_symlink = false;
};

struct ExportSummary {
  std::int64_t records = 0;
  std::uint64_t bytes = 0;
};

// Writes to `out_path` (replaced atomically: written to a new temporary file beside it, then
// renamed). Refuses (Error::InvalidInput, before writing anything) when the path is a symbolic
// link and options.replace_symlink is not set, and always when it is a device, pipe, socket or
// directory: only regular files are ever replaced.
// Throws Error::InvalidInput for an unknown codec, Error::IoError when writing fails,
// Error::Corruption for a stored body that does not decode.
ExportSummary ExportRecords(Store& store, const ExportOptions& options,
                            const std::string& out_path);
// The same export streamed to `out` (e.g. standard output). CSV and NDJSON go straight out;
// an Avro file is written to a temporary file under $TMPDIR first (its header needs the whole
// file written by Avro C), then copied to `out` and removed.
ExportSummary ExportRecordsToStream(Store& store, const ExportOptions& options, std::ostream& out);

// The flat columns of one kind, in order (the CSV header / NDJSON keys).
std::vector<std::string> FlatColumns(RecordKind kind);

}  // namespace carehub
