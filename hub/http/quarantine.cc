// The quarantine routes: GET /v1/quarantine (the rows this hub rejected, filtered and paged) and
// POST /v1/quarantine/replay (re-runs a run's open rows through the current profile, optionally
// storing the rows accepted now: hub/store/quarantine_replay.h). Also the upload files an ingest
// keeps while they have open rows (a replay reads them again).
#include <Poco/JSON/Array.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "hub/http/router.h"
#include "hub/http/write_authority.h"
#include "hub/store/quarantine_replay.h"
#include "hub/store/report_json.h"
#include "schemas/error.h"

namespace carehub::http {

namespace {

// The id after which a quarantine page starts (0 without a cursor).
std::int64_t QuarantineCursor(ApiCall& call, const std::string& digest) {
  const auto after = DecodeCursor(call.Query("cursor"), digest);
  if (!after) return 0;
  try {
    return std::stoll(*after);
  } catch (const std::exception&) {
    throw HttpError::BadParameter("cursor", "not a cursor of this API");
  }
}

// One row of `SELECT id, run_id, file, row, field, reason, raw, at, resolved_at, resolved_run`;
// raw only when the caller may see it.
QuarantineRow QuarantineRowOf(sqlite::Statement& stmt, bool with_raw) {
  QuarantineRow row;
  row.id = stmt.ColumnInt64(0);
  row.run_id = stmt.ColumnInt64(1);
  row.file = stmt.ColumnText(2);
  row.row = stmt.ColumnInt64(3);
  row.field = stmt.ColumnText(4);
  row.reason = stmt.ColumnText(5);
  if (with_raw) row.raw = stmt.ColumnText(6);
  row.at_ms = stmt.ColumnInt64(7);
  row.resolved_at_ms = stmt.ColumnOptionalInt64(8);
  if (row.resolved_at_ms) row.resolved_run = stmt.ColumnInt64(9);
  return row;
}

}  // namespace

void HandleQuarantine(ApiCall& call) {
  call.AllowQuery({"limit", "cursor", "reason", "field", "file", "state"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  // Filters (the console's quarantine review): a reason code ("invalid_id" matches
  // "invalid_id: ..."), a field name, a file name; "" or absent = any. state: open rows only
  // (default) or all, the ones a later ingest resolved included (issue 14).
  const std::string reason = call.Query("reason").value_or("");
  const std::string field = call.Query("field").value_or("");
  const std::string file = call.Query("file").value_or("");
  const std::string state = call.Query("state").value_or("open");
  if (state != "open" && state != "all") {
    throw HttpError::BadParameter("state", "expected open (default) or all");
  }
  const bool all = state == "all";
  const std::string digest = QueryDigest({"quarantine", reason, field, file, state});
  const std::int64_t after_id = QuarantineCursor(call, digest);
  // Raw rows may hold personal data of this hub's people: only its own departments see them.
  const bool with_raw = CheckAccess(Access::kWriteOwn, call.principal, call.shared.region) ==
                        AccessDecision::kAllowed;
  constexpr const char* kFilter =
      "(?1 = '' OR reason = ?1 OR substr(reason, 1, length(?1) + 1) = ?1 || ':') AND "
      "(?2 = '' OR field = ?2) AND (?3 = '' OR file = ?3) AND (?6 OR resolved_at IS NULL)";
  sqlite::Statement stmt(call.hub.store.db(),
                         std::string("SELECT id, run_id, file, row, field, reason, raw, at, "
                                     "resolved_at, resolved_run FROM quarantine WHERE ") +
                             kFilter + " AND id > ?4 ORDER BY id LIMIT ?5");
  stmt.Bind(1, reason)
      .Bind(2, field)
      .Bind(3, file)
      .Bind(4, after_id)
      .Bind(5, limit + 1)
      .Bind(6, all ? 1 : 0);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  std::vector<std::string> shown;  // quarantine rows whose raw text is in the answer
  std::int64_t last = 0;
  bool more = false;
  while (stmt.Step()) {
    if (static_cast<int>(items->size()) == limit) {
      more = true;
      break;
    }
    last = stmt.ColumnInt64(0);
    if (with_raw) shown.push_back("quarantine:" + std::to_string(last));
    items->add(QuarantineRowJson(QuarantineRowOf(stmt, with_raw), with_raw));
  }
  stmt.Reset();  // no read transaction may stay open: the access log below writes
  if (!shown.empty()) {
    const auto count = static_cast<std::int64_t>(shown.size());
    call.LogAccess(count, std::move(shown), {});
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("total",
           call.hub.store.QuarantineCount(all ? QuarantineState::kAll : QuarantineState::kOpen));
  sqlite::Statement matched(call.hub.store.db(),
                            std::string("SELECT count(*) FROM quarantine WHERE ") + kFilter);
  matched.Bind(1, reason).Bind(2, field).Bind(3, file).Bind(6, all ? 1 : 0);
  json.set("matched", matched.Step() ? matched.ColumnInt64(0) : 0);
  json.set("items", items);
  json.set("next_cursor", more ? Poco::Dynamic::Var(EncodeCursor(std::to_string(last), digest))
                               : Poco::Dynamic::Var());
  call.SendJson(200, json);
}

namespace {

std::int64_t RunParam(ApiCall& call) {
  const auto text = call.Query("run");
  if (!text) throw HttpError::BadParameter("run", "give the ingest run whose rows to replay");
  std::int64_t run = 0;
  try {
    std::size_t used = 0;
    run = std::stoll(*text, &used);
    if (used != text->size()) run = 0;
  } catch (const std::exception&) {
    run = 0;
  }
  if (run < 1) throw HttpError::BadParameter("run", "expected an ingest run id (1, 2, ...)");
  return run;
}

bool StoreParam(ApiCall& call) {
  const std::string text = call.Query("store").value_or("false");
  if (text != "true" && text != "false") {
    throw HttpError::BadParameter("store", "expected true or false");
  }
  return text == "true";
}

}  // namespace

void HandleQuarantineReplay(ApiCall& call) {
  call.AllowQuery({"run", "store"});
  call.Negotiate({MediaType::kJson});
  const std::int64_t run_id = RunParam(call);
  const bool store_rows = StoreParam(call);
  const std::optional<IngestRunInfo> run = FindIngestRun(call.hub.store, run_id);
  if (!run) throw HttpError::NotFound("no ingest run " + std::to_string(run_id));
  const ConnectorEngine engine(HubEngineOptions(call));
  // The same authority as an upload of the file: the run's profile must be the token's region's
  // (403), and what --store writes must lie within the token's area.
  const Profile& profile = AuthorizedProfile(call.principal, engine, run->profile, "");
  std::lock_guard lock(call.shared.ingest_mutex);
  QuarantineReplay replay;
  try {
    if (store_rows && std::filesystem::is_regular_file(run->file)) {
      CheckRecordsWithinArea(call.principal, call.hub.store, engine, profile, run->file);
    }
    replay = ReplayQuarantine(call.hub.store, engine, run_id, store_rows);
  } catch (const Error& e) {
    // The run's file is gone or changed: nothing to replay, the caller uploads it again.
    if (e.kind() == ErrorKind::kInvalidInput) {
      throw HttpError(409, "cannot_replay", e.what(), "run");
    }
    throw;
  }
  if (store_rows) {
    call.hub.recognizer.reset();  // our own commit does not move our data_version
    RemoveSettledUploads(call);
  }
  call.SendJson(200, QuarantineReplayJson(replay));
}

EngineOptions HubEngineOptions(ApiCall& call) {
  EngineOptions options = EngineOptionsFor(call.hub.store);
  if (call.shared.options.profiles_dir) {
    options.profiles_dir = call.shared.options.profiles_dir->string();
  }
  return options;
}

void RemoveSettledUploads(ApiCall& call) {
  namespace fs = std::filesystem;
  const fs::path uploads = call.hub.store.dir() / "uploads";
  std::error_code ec;
  if (!fs::is_directory(uploads, ec)) return;
  sqlite::Statement open_rows(call.hub.store.db(),
                              "SELECT EXISTS(SELECT 1 FROM quarantine WHERE file = ?1 AND "
                              "resolved_at IS NULL), EXISTS(SELECT 1 FROM ingest_runs WHERE "
                              "file = ?1 AND complete = 1)");
  std::vector<fs::path> settled;
  for (const fs::directory_entry& entry : fs::directory_iterator(uploads, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".upload-") || !entry.is_regular_file(ec)) continue;
    open_rows.Bind(1, entry.path().string());
    const bool keep =
        !open_rows.Step() || open_rows.ColumnInt64(0) != 0 || open_rows.ColumnInt64(1) == 0;
    open_rows.Reset();
    if (!keep) settled.push_back(entry.path());
  }
  for (const fs::path& path : settled) fs::remove(path, ec);
}

}  // namespace carehub::http
