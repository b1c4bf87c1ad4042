// The route table of the HTTP API and the small handlers (health, metrics, OpenAPI, peers,
// quarantine). Every route declares its access here; docs/API.md and hub/openapi.json list the
// same routes (a test checks both directions).
#include <Poco/JSON/Array.h>

#include <chrono>

#include "hub/http_router.h"
#include "schemas/embedded.h"

namespace carehub::embedded_openapi {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_openapi

namespace carehub::http {

const std::vector<Route>& ApiRoutes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/health", Access::kPublic, HandleHealth},
      {"GET", "/openapi.json", Access::kPublic, HandleOpenApi},
      {"GET", "/metrics", Access::kRead, HandleMetrics},
      {"POST", "/v1/ingest", Access::kWriteOwn, HandleIngest},
      {"GET", "/v1/quarantine", Access::kRead, HandleQuarantine},
      {"GET", "/v1/records", Access::kRead, HandleRecordList},
      {"GET", "/v1/records/{record_id}", Access::kRead, HandleRecordGet},
      {"POST", "/v1/recognitions", Access::kRead, HandleRecognitions},
      {"GET", "/v1/peers", Access::kRead, HandlePeers},
      {"GET", "/v1/datasets", Access::kPublic, HandleDatasetList},
      {"GET", "/v1/datasets/{dataset_id}", Access::kPublic, HandleDatasetGet},
      {"GET", "/v1/datasets/{dataset_id}/files/{name}", Access::kPublic, HandleDatasetFile,
       /*rest_param=*/true},
  };
  return kRoutes;
}

std::string_view OpenApiJson() {
  return embedded_openapi::kFileCount > 0 ? embedded_openapi::kFiles[0].content
                                          : std::string_view();
}

namespace {

bool TableExists(Store& store, std::string_view table) {
  sqlite::Statement stmt(store.db(), "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  stmt.Bind(1, table);
  return stmt.Step();
}

}  // namespace

void HandleHealth(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  // A cheap query proves the store answers.
  call.hub.store.db().QueryInt("SELECT 1");
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("status", "ok");
  json.set("region", call.shared.region);
  call.SendJson(200, json);
}

void HandleOpenApi(ApiCall& call) {
  call.AllowQuery({});
  call.SendBytes(200, "application/json", std::string(OpenApiJson()));
}

void HandleMetrics(ApiCall& call) {
  call.AllowQuery({});
  Store& store = call.hub.store;
  std::string out;
  const std::string hub = "hub=\"" + PromLabel(call.shared.region) + "\"";
  out += "# HELP carehub_records Records held by this hub, by origin region and kind.\n";
  out += "# TYPE carehub_records gauge\n";
  for (const RecordCount& c : store.CountRecords()) {
    out += "carehub_records{" + hub + ",origin=\"" + PromLabel(c.origin) + "\",kind=\"" +
           std::string(KindName(c.kind)) + "\"} " + std::to_string(c.count) + "\n";
  }
  out +=
      "# HELP carehub_quarantine_rows Rows of this hub's own files held in quarantine, by "
      "reason code.\n";
  out += "# TYPE carehub_quarantine_rows gauge\n";
  {
    sqlite::Statement stmt(store.db(),
                           "SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, "
                           "instr(reason, ':') - 1) ELSE reason END AS code, count(*) FROM "
                           "quarantine GROUP BY code ORDER BY code");
    while (stmt.Step()) {
      out += "carehub_quarantine_rows{" + hub + ",reason=\"" + PromLabel(stmt.ColumnText(0)) +
             "\"} " + std::to_string(stmt.ColumnInt64(1)) + "\n";
    }
  }
  out += "# HELP carehub_origin_head_seq Latest signed change-log seq held per origin.\n";
  out += "# TYPE carehub_origin_head_seq gauge\n";
  for (const SignedHead& head : store.Heads()) {
    out += "carehub_origin_head_seq{" + hub + ",origin=\"" + PromLabel(head.origin) + "\"} " +
           std::to_string(head.seq) + "\n";
  }
  // Sync lag and rejected batches come from the exchange's tables when this hub has them.
  if (TableExists(store, "sync_state")) {
    out +=
        "# HELP carehub_sync_lag_entries Change-log entries a peer announced that this hub "
        "has not applied yet, per peer and origin.\n";
    out += "# TYPE carehub_sync_lag_entries gauge\n";
    try {
      sqlite::Statement stmt(store.db(),
                             "SELECT peer, origin, max(0, announced_seq - applied_seq) FROM "
                             "sync_state ORDER BY peer, origin");
      while (stmt.Step()) {
        out += "carehub_sync_lag_entries{" + hub + ",peer=\"" + PromLabel(stmt.ColumnText(0)) +
               "\",origin=\"" + PromLabel(stmt.ColumnText(1)) + "\"} " +
               std::to_string(stmt.ColumnInt64(2)) + "\n";
      }
    } catch (const Error&) {
      // Another layout than expected: leave the family empty rather than fail the scrape.
    }
  }
  out +=
      "# HELP carehub_batches_rejected_total Relayed batches refused (bad chain or "
      "signature).\n";
  out += "# TYPE carehub_batches_rejected_total counter\n";
  std::int64_t rejected = 0;
  if (TableExists(store, "sync_state")) {
    try {
      rejected =
          store.db().QueryInt("SELECT coalesce(sum(rejected), 0) FROM sync_state").value_or(0);
    } catch (const Error&) {
    }
  }
  out += "carehub_batches_rejected_total{" + hub + "} " + std::to_string(rejected) + "\n";
  call.shared.metrics.Render(out);
  call.SendBytes(200, "text/plain; version=0.0.4; charset=utf-8", out);
}

void HandlePeers(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  Store& store = call.hub.store;
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"peers"});
  const std::string after = DecodeCursor(call.Query("cursor"), digest).value_or("");

  // Federation members (the exchange's peers table) and every origin this hub holds a head for.
  struct Member {
    std::string name, region;
    std::optional<std::string> endpoint;
  };
  std::vector<Member> peers;
  if (TableExists(store, "peers")) {
    sqlite::Statement stmt(store.db(), "SELECT name, region, endpoint FROM peers ORDER BY name");
    while (stmt.Step()) {
      peers.push_back({stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnOptionalText(2)});
    }
  }
  std::map<std::string, const Member*> by_region;
  for (const Member& p : peers) by_region[p.region] = &p;
  std::map<std::string, SignedHead> heads;
  for (SignedHead& h : store.Heads()) heads[h.origin] = std::move(h);

  // Members by name, then origins without a member (this hub's own region).
  std::vector<Poco::JSON::Object::Ptr> items;
  std::vector<std::string> keys;
  auto head_json = [&](const std::string& region, Poco::JSON::Object& json) {
    const auto it = heads.find(region);
    json.set("head_seq", it == heads.end() ? 0 : it->second.seq);
  };
  for (const Member& p : peers) {
    Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    json->set("name", p.name);
    json->set("region", p.region);
    json->set("self", false);
    json->set("endpoint", p.endpoint ? Poco::Dynamic::Var(*p.endpoint) : Poco::Dynamic::Var());
    json->set("dialled", p.endpoint.has_value());
    head_json(p.region, *json);
    keys.push_back("1" + p.name);
    items.push_back(json);
  }
  for (const auto& [origin, head] : heads) {
    if (by_region.count(origin)) continue;
    Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    json->set("name", origin == call.shared.region ? std::string("self") : origin);
    json->set("region", origin);
    json->set("self", origin == call.shared.region);
    json->set("endpoint", Poco::Dynamic::Var());
    json->set("dialled", false);
    head_json(origin, *json);
    keys.push_back("2" + origin);
    items.push_back(json);
  }
  Poco::JSON::Array::Ptr page = new Poco::JSON::Array;
  std::string last;
  bool more = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!after.empty() && keys[i] <= after) continue;
    if (static_cast<int>(page->size()) == limit) {
      more = true;
      break;
    }
    page->add(items[i]);
    last = keys[i];
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("region", call.shared.region);
  json.set("items", page);
  json.set("next_cursor",
           more ? Poco::Dynamic::Var(EncodeCursor(last, digest)) : Poco::Dynamic::Var());
  call.SendJson(200, json);
}

void HandleQuarantine(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"quarantine"});
  const auto after = DecodeCursor(call.Query("cursor"), digest);
  std::int64_t after_id = 0;
  if (after) {
    try {
      after_id = std::stoll(*after);
    } catch (const std::exception&) {
      throw HttpError::BadParameter("cursor", "not a cursor of this API");
    }
  }
  // Raw rows may hold personal data of this hub's people: only its own departments see them.
  const bool with_raw = CheckAccess(Access::kWriteOwn, call.principal, call.shared.region) ==
                        AccessDecision::kAllowed;
  sqlite::Statement stmt(call.hub.store.db(),
                         "SELECT id, run_id, file, row, field, reason, raw, at FROM quarantine "
                         "WHERE id > ? ORDER BY id LIMIT ?");
  stmt.Bind(1, after_id).Bind(2, limit + 1);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  std::int64_t last = 0;
  bool more = false;
  while (stmt.Step()) {
    if (static_cast<int>(items->size()) == limit) {
      more = true;
      break;
    }
    Poco::JSON::Object::Ptr row = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    last = stmt.ColumnInt64(0);
    row->set("id", last);
    row->set("run_id", stmt.ColumnInt64(1));
    row->set("file", stmt.ColumnText(2));
    row->set("row", stmt.ColumnInt64(3));
    row->set("field", stmt.ColumnText(4));
    row->set("reason", stmt.ColumnText(5));
    if (with_raw) row->set("raw", stmt.ColumnText(6));
    row->set("at_ms", stmt.ColumnInt64(7));
    items->add(row);
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("total", call.hub.store.QuarantineCount());
  json.set("items", items);
  json.set("next_cursor", more ? Poco::Dynamic::Var(EncodeCursor(std::to_string(last), digest))
                               : Poco::Dynamic::Var());
  call.SendJson(200, json);
}

}  // namespace carehub::http
