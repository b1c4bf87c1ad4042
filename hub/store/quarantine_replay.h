// `carehub quarantine replay` and POST /v1/quarantine/replay: re-runs the open quarantined rows
// of one ingest run through the current profile (after a profile fix, e.g. a new level text) and
// reports, row by row, what would happen now. It reads the run's file again, so the file must
// still be there with the same SHA-256. By default it writes nothing; with `store` it then
// ingests the file again as a new run (hub/store/ingest.h), so the rows accepted now are stored
// and their quarantine rows resolve. Uses its Store and engine exclusively while it runs.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "hub/store/ingest.h"
#include "hub/store/store.h"

namespace carehub {

struct ReplayedRow {
  std::int64_t row = 0;
  std::string field_before;
  std::string reason_before;
  bool accepted_now = false;
  std::string field_now;   // when still rejected
  std::string reason_now;  // when still rejected
};

struct QuarantineReplay {
  std::int64_t run_id = 0;
  std::string file;
  std::string profile;
  std::vector<ReplayedRow> rows;  // the run's open rows, in row order
  std::int64_t now_accepted = 0;
  std::int64_t reason_changed = 0;      // still rejected, for another reason
  std::int64_t unchanged = 0;           // still rejected, same reason
  std::optional<IngestSummary> stored;  // with `store`: the new run that stored the file again
  std::int64_t open_after = 0;          // the store's open quarantine rows afterwards
};

// What the store remembers of an ingest run: the file read (its path on this machine), its
// SHA-256 then and the profile used. nullopt for an unknown run.
struct IngestRunInfo {
  std::string file;
  std::string sha256;
  std::string profile;
};
std::optional<IngestRunInfo> FindIngestRun(Store& store, std::int64_t run_id);

// Throws Error::NotFound for an unknown run, Error::InvalidInput when the run's file is gone or
// changed since the run (its SHA-256 differs) or the run's profile is unknown now.
QuarantineReplay ReplayQuarantine(Store& store, const ConnectorEngine& engine, std::int64_t run_id,
                                  bool store_rows = false);

// The one JSON form of a replay, for `carehub quarantine replay --json` and the HTTP route:
// {"run", "file", "profile", "now_accepted", "reason_changed", "unchanged", "open_after",
//  "rows": [{"row", "field_before", "before", "field_now", "now"}], "stored": {...} | absent}.
// "now" is "accepted" or the reason still given. Holds no raw row.
Poco::JSON::Object QuarantineReplayJson(const QuarantineReplay& replay);

}  // namespace carehub
