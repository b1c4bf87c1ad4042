// `carehub quarantine replay`: re-runs the open quarantined rows of one ingest run through the
// current profile (after a profile fix, e.g. a new level text) and reports, row by row, what
// would happen now. It reads the run's file again, so the file must still be there with the
// same SHA-256; it writes nothing (ingest the file again to store the rows: they then resolve).
// Uses its Store and engine exclusively while it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/connector.h"
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
  std::int64_t reason_changed = 0;  // still rejected, for another reason
  std::int64_t unchanged = 0;       // still rejected, same reason
};

// Throws Error::NotFound for an unknown run, Error::InvalidInput when the run's file is gone or
// changed since the run (its SHA-256 differs) or the run's profile is unknown now.
QuarantineReplay ReplayQuarantine(Store& store, const ConnectorEngine& engine, std::int64_t run_id);

}  // namespace carehub
