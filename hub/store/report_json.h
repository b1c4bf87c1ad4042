// The JSON shapes of the store's reports that more than one front end prints: an ingest run's
// summary (`carehub ingest --json`, the HTTP upload, a quarantine replay that stores its file)
// and a quarantined row (`carehub quarantine --json`, GET /v1/quarantine). One shape each, so a
// script written against the command line reads the API's answer too. Raw rows (personal data)
// are included only when the caller says so; the caller checks the right to see them.
#pragma once

#include <Poco/JSON/Object.h>

#include "hub/store/ingest.h"
#include "hub/store/store.h"

namespace carehub {

// run_id, profile, read, accepted, quarantined, inserted, updated, unchanged and, when an
// interrupted run was resumed, resumed_after_row; in that order. Not the file: over HTTP it is a
// path on the hub's machine, so each front end names its input its own way.
Poco::JSON::Object::Ptr IngestSummaryJson(const IngestSummary& summary);

// id, run_id, file, row, field, reason, raw (with_raw only), at_ms, state ("open" or
// "resolved") and, when resolved, resolved_at_ms and resolved_run; in that order.
Poco::JSON::Object::Ptr QuarantineRowJson(const QuarantineRow& row, bool with_raw);

}  // namespace carehub
