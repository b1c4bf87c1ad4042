#include "hub/store/quarantine_replay.h"

#include <Poco/JSON/Array.h>

#include <filesystem>
#include <map>

#include "connectors/profile.h"
#include "hub/store/ingest.h"
#include "hub/store/report_json.h"
#include "hub/store/sqlite_db.h"
#include "schemas/error.h"

namespace carehub {
namespace {

IngestRunInfo LoadRun(Store& store, std::int64_t run_id) {
  std::optional<IngestRunInfo> run = FindIngestRun(store, run_id);
  if (!run) throw Error::NotFound("no ingest run " + std::to_string(run_id));
  return std::move(*run);
}

// The run's open rows by row number.
std::map<std::int64_t, ReplayedRow> OpenRows(Store& store, std::int64_t run_id) {
  sqlite::Statement stmt(store.db(),
                         "SELECT row, field, reason FROM quarantine WHERE run_id = ? AND "
                         "resolved_at IS NULL ORDER BY row");
  stmt.Bind(1, run_id);
  std::map<std::int64_t, ReplayedRow> rows;
  while (stmt.Step()) {
    ReplayedRow r;
    r.row = stmt.ColumnInt64(0);
    r.field_before = stmt.ColumnText(1);
    r.reason_before = stmt.ColumnText(2);
    rows.emplace(r.row, std::move(r));
  }
  return rows;
}

// Keeps the outcome of the rows being replayed; the others are read and dropped.
class ReplaySink : public RecordSink {
 public:
  explicit ReplaySink(std::map<std::int64_t, ReplayedRow>& rows) : rows_(rows) {}
  void Accept(CanonicalRecord&& record) override {
    auto it = rows_.find(record.provenance.source_row);
    if (it != rows_.end()) it->second.accepted_now = true;
  }
  void Reject(Rejection&& rejection) override {
    auto it = rows_.find(rejection.row);
    if (it == rows_.end()) return;
    it->second.field_now = std::move(rejection.field);
    it->second.reason_now = std::move(rejection.reason);
  }

 private:
  std::map<std::int64_t, ReplayedRow>& rows_;
};

}  // namespace

std::optional<IngestRunInfo> FindIngestRun(Store& store, std::int64_t run_id) {
  sqlite::Statement stmt(store.db(),
                         "SELECT file, file_sha256, profile FROM ingest_runs WHERE id = ?");
  stmt.Bind(1, run_id);
  if (!stmt.Step()) return std::nullopt;
  return IngestRunInfo{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2)};
}

QuarantineReplay ReplayQuarantine(Store& store, const ConnectorEngine& engine, std::int64_t run_id,
                                  bool store_rows) {
  const IngestRunInfo run = LoadRun(store, run_id);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(run.file, ec)) {
    throw Error::InvalidInput("run " + std::to_string(run_id) + ": " + run.file +
                              " is gone; replay needs the file the run read");
  }
  if (FileSha256(run.file) != run.sha256) {
    throw Error::InvalidInput("run " + std::to_string(run_id) + ": " + run.file +
                              " changed since the run (SHA-256 differs); ingest it again instead");
  }
  std::map<std::int64_t, ReplayedRow> rows = OpenRows(store, run_id);
  ReplaySink sink(rows);
  engine.Read(run.file, engine.FindProfile(run.profile), sink);

  QuarantineReplay replay;
  replay.run_id = run_id;
  replay.file = run.file;
  replay.profile = run.profile;
  for (auto& [row, r] : rows) {
    if (r.accepted_now) {
      ++replay.now_accepted;
    } else if (r.reason_now != r.reason_before || r.field_now != r.field_before) {
      ++replay.reason_changed;
    } else {
      ++replay.unchanged;
    }
    replay.rows.push_back(std::move(r));
  }
  if (store_rows) {
    IngestOptions options;
    options.profile = run.profile;
    replay.stored = Ingester(store, engine).IngestFile(run.file, options);
  }
  replay.open_after = store.QuarantineCount(QuarantineState::kOpen);
  return replay;
}

Poco::JSON::Object QuarantineReplayJson(const QuarantineReplay& r) {
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("run", r.run_id);
  json.set("file", r.file);
  json.set("profile", r.profile);
  json.set("now_accepted", r.now_accepted);
  json.set("reason_changed", r.reason_changed);
  json.set("unchanged", r.unchanged);
  json.set("open_after", r.open_after);
  Poco::JSON::Array::Ptr rows = new Poco::JSON::Array;
  for (const ReplayedRow& row : r.rows) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("row", row.row);
    o->set("field_before", row.field_before);
    o->set("before", row.reason_before);
    o->set("field_now", row.accepted_now ? std::string() : row.field_now);
    o->set("now", row.accepted_now ? std::string("accepted") : row.reason_now);
    rows->add(o);
  }
  json.set("rows", rows);
  if (r.stored) {
    json.set("stored", IngestSummaryJson(*r.stored));
  }
  return json;
}

}  // namespace carehub
