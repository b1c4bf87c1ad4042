// The connector engine: reads one region's native export file (CSV, JSON/NDJSON or XML; GBK,
// Big5 or UTF-8) as declared by a region profile (connectors/profiles/<region>/<kind>.json),
// validates each row and normalises it into a CanonicalRecord, or rejects it with a reason.
// Streams in constant memory whatever the file size. Raw identifiers and names are used only to
// validate and to compute person tokens; they never leave the engine except inside
// Rejection::raw (which the hub keeps in its local quarantine only).
// Thread-safety: an engine is immutable after construction; Read may run concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "schemas/record.h"

namespace carehub {

// A row that was not accepted. `row` is the 1-based data row (CSV: header excluded; JSON:
// array element / NDJSON line; XML: record element), `field` the native field name ("" for the
// whole row), `reason` a stable machine-readable code followed by ": " and a human explanation,
// e.g. "bad_check_digit: 身份证号 check character is 7, expected X".
struct Rejection {
  std::string file;
  std::int64_t row = 0;
  std::string field;
  std::string reason;
  std::string raw;  // the row as found (decoded to UTF-8); kept in this hub's quarantine only
  // MakeRecordId of the row's source id when the row got as far as having one (checks 3..12),
  // "" otherwise: a later accepted ingest of the same record resolves the quarantined row.
  std::string record_id;
};

// Receives the outcome of every row, in file order. Exactly one call per row read.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void Accept(CanonicalRecord&& record) = 0;
  virtual void Reject(Rejection&& rejection) = 0;
};

struct ReadStats {
  std::int64_t read = 0;
  std::int64_t accepted = 0;
  std::int64_t quarantined = 0;  // invariant: read == accepted + quarantined
};

struct Profile;  // connectors/profile.h

// What one file may hold (docs/connectors.md "Limits"). Each bounds memory: a row is never held
// beyond max_row_bytes, a field value beyond max_field_bytes. Beyond a limit a row is quarantined
// as malformed_row naming the row and field; a file beyond max_file_bytes is refused whole.
struct ReadLimits {
  std::size_t max_field_bytes = 64u << 10;  // one field's value after decoding
  std::size_t max_row_bytes = 1u << 20;     // one CSV record / JSON element / XML record as found
  std::uint64_t max_file_bytes = std::uint64_t{16} << 30;
  int max_depth = 32;  // nesting of JSON arrays/objects and of XML elements
};

struct EngineOptions {
  std::string origin_region;                 // the hub's own region (GB/T 2260), e.g. "310000"
  std::vector<std::uint8_t> federation_key;  // secret behind person tokens (32 bytes)
  std::function<std::int64_t()> now_ms;      // clock seam: ingested_at and "not in the future"
  // Load the profiles from <profiles_dir>/<region>/<kind>.json instead of the built-in ones.
  std::string profiles_dir;
  // Parse, validate and build records on a worker thread while the sink runs on the calling
  // thread. Pays only with a spare core: on the shared 2-core build machine it was slower
  // (cross-thread frees), so it is off by default.
  bool pipelined = false;
  ReadLimits limits;
};

// "<file> row <row> field <field>: <reason>" (or "... row <row>: <reason>" for a whole row),
// for people reading a quarantine report. Never contains the raw row.
std::string DescribeRejection(const Rejection& rejection);

class ConnectorEngine {
 public:
  explicit ConnectorEngine(EngineOptions options);
  ~ConnectorEngine();

  // Profile by name ("shanghai/assessment"); the built-in (compiled-in) profiles, or those under
  // `profiles_dir` when given. Throws Error::NotFound for an unknown name.
  const Profile& FindProfile(const std::string& name) const;
  // Guesses the profile of a file from the hub region and the file's header/root element;
  // throws Error::InvalidInput when no profile matches.
  const Profile& DetectProfile(const std::string& path) const;
  std::vector<std::string> ProfileNames() const;

  // Reads the whole file through `sink`. Throws Error::IoError when the file cannot be opened or
  // read, Error::InvalidInput when it is not of the profile's format at all (e.g. no header).
  // `on_progress(bytes_done, bytes_total)` is called now and then when given.
  ReadStats Read(const std::string& path, const Profile& profile, RecordSink& sink,
                 const std::function<void(std::uint64_t, std::uint64_t)>& on_progress = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub
