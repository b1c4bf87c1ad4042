#include "hub/store/report_json.h"

namespace carehub {

Poco::JSON::Object::Ptr IngestSummaryJson(const IngestSummary& summary) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("run_id", summary.run_id);
  json->set("profile", summary.profile);
  json->set("read", summary.read);
  json->set("accepted", summary.accepted);
  json->set("quarantined", summary.quarantined);
  json->set("inserted", summary.inserted);
  json->set("updated", summary.updated);
  json->set("unchanged", summary.unchanged);
  if (summary.resumed_after_row > 0) json->set("resumed_after_row", summary.resumed_after_row);
  return json;
}

Poco::JSON::Object::Ptr QuarantineRowJson(const QuarantineRow& row, bool with_raw) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("id", row.id);
  json->set("run_id", row.run_id);
  json->set("file", row.file);
  json->set("row", row.row);
  json->set("field", row.field);
  json->set("reason", row.reason);
  if (with_raw) json->set("raw", row.raw);
  json->set("at_ms", row.at_ms);
  json->set("state", row.resolved_at_ms ? "resolved" : "open");
  if (row.resolved_at_ms) {
    json->set("resolved_at_ms", *row.resolved_at_ms);
    json->set("resolved_run", row.resolved_run);
  }
  return json;
}

}  // namespace carehub
