// The route table of the HTTP API and the small handlers (health, metrics, OpenAPI, peers,
// quarantine). Every route declares its access here; docs/API.md and hub/http/openapi.json list the
// same routes (a test checks both directions).
#include <Poco/JSON/Array.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "hub/exchange/peers.h"
#include "hub/http/router.h"
#include "hub/store/forks.h"
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
      {"POST", "/v1/quarantine/replay", Access::kWriteOwn, HandleQuarantineReplay},
      {"GET", "/v1/records", Access::kRead, HandleRecordList},
      {"GET", "/v1/records/{record_id}", Access::kRead, HandleRecordGet},
      {"POST", "/v1/recognitions", Access::kRead, HandleRecognitions},
      {"GET", "/v1/peers", Access::kRead, HandlePeers},
      {"GET", "/v1/catalog", Access::kPublic, HandleCatalog},
      {"GET", "/v1/datasets", Access::kPublic, HandleDatasetList},
      {"GET", "/v1/datasets/{dataset_id}", Access::kPublic, HandleDatasetGet},
      {"GET", "/v1/datasets/series/{series}", Access::kPublic, HandleSeriesGet},
      {"GET", "/v1/datasets/{dataset_id}/files/{name}", Access::kPublic, HandleDatasetFile,
       /*rest_param=*/true},
      {"GET", "/v1/rules", Access::kPublic, HandleRulesCatalog},
      {"GET", "/v1/rules/decision", Access::kPublic, HandleRulesDecision},
      {"GET", "/v1/whoami", Access::kPublic, HandleWhoAmI},
      {"GET", "/v1/tokens", Access::kWriteOwn, HandleTokenList},
      {"GET", "/v1/metrics/lag", Access::kRead, HandleLagHistory},
      {"GET", "/v1/audit", Access::kAudit, HandleAudit},
  };
  return kRoutes;
}

bool ReturnsPersonalData(const Route& route) {
  static const std::set<std::string> kPersonal = {"GET /v1/records", "GET /v1/records/{record_id}",
                                                  "GET /v1/quarantine", "POST /v1/recognitions",
                                                  "GET /v1/audit"};
  return kPersonal.count(route.method + " " + route.pattern) > 0;
}

std::string_view OpenApiJson() {
  return embedded_openapi::kFileCount > 0 ? embedded_openapi::kFiles[0].content
                                          : std::string_view();
}

void HandleHealth(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  // A cheap query proves the store answers.
  call.hub.store.db().QueryInt("SELECT 1");
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("status", "ok");
  json.set("region", call.shared.region);
  if (call.shared.options.store_check) {
    json.set("store", call.shared.options.store_check().sound ? "sound" : "damaged");
  }
  // Open fork evidence (hub/store/forks.h): origins held until an operator resolves them.
  Poco::JSON::Array::Ptr held = new Poco::JSON::Array;
  for (const std::string& origin : HeldOrigins(call.hub.store.db())) held->add(origin);
  json.set("forks_open", ListForkEvidence(call.hub.store.db(), true).size());
  json.set("fork_held_origins", held);
  call.SendJson(200, json);
}

void HandleOpenApi(ApiCall& call) {
  call.AllowQuery({});
  call.SendBytes(200, "application/json", std::string(OpenApiJson()));
}

namespace {

// Records, open quarantine rows and signed heads: what the store itself says.
void AppendStoreMetrics(std::string& out, Store& store, const std::string& hub) {
  out += "# HELP carehub_records Records held by this hub, by origin region and kind.\n";
  out += "# TYPE carehub_records gauge\n";
  for (const RecordCount& c : store.CountRecords()) {
    out += "carehub_records{" + hub + ",origin=\"" + PromLabel(c.origin) + "\",kind=\"" +
           std::string(KindName(c.kind)) + "\"} " + std::to_string(c.count) + "\n";
  }
  out +=
      "# HELP carehub_quarantine_rows Rows of this hub's own files open in quarantine (not "
      "resolved by a later ingest), by reason code.\n";
  out += "# TYPE carehub_quarantine_rows gauge\n";
  sqlite::Statement stmt(store.db(),
                         "SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, "
                         "instr(reason, ':') - 1) ELSE reason END AS code, count(*) FROM "
                         "quarantine WHERE resolved_at IS NULL GROUP BY code ORDER BY code");
  while (stmt.Step()) {
    out += "carehub_quarantine_rows{" + hub + ",reason=\"" + PromLabel(stmt.ColumnText(0)) +
           "\"} " + std::to_string(stmt.ColumnInt64(1)) + "\n";
  }
  const std::vector<ForkEvidence> forks = ListForkEvidence(store.db(), false);
  const auto open = std::count_if(forks.begin(), forks.end(),
                                  [](const ForkEvidence& e) { return !e.resolved_ms; });
  out += "# HELP carehub_fork_evidence_total Fork evidence recorded (conflicting signed heads).\n";
  out += "# TYPE carehub_fork_evidence_total counter\n";
  out += "carehub_fork_evidence_total{" + hub + "} " + std::to_string(forks.size()) + "\n";
  out += "# HELP carehub_fork_evidence_open Fork evidence not resolved yet (origins held).\n";
  out += "# TYPE carehub_fork_evidence_open gauge\n";
  out += "carehub_fork_evidence_open{" + hub + "} " + std::to_string(open) + "\n";
  out += "# HELP carehub_origin_head_seq Latest signed change-log seq held per origin.\n";
  out += "# TYPE carehub_origin_head_seq gauge\n";
  for (const SignedHead& head : store.Heads()) {
    out += "carehub_origin_head_seq{" + hub + ",origin=\"" + PromLabel(head.origin) + "\"} " +
           std::to_string(head.seq) + "\n";
  }
}

// Sync lag per member and origin and link state: known only while the exchange runs in this
// process.
void AppendLinkMetrics(std::string& out, ApiCall& call, const std::string& hub) {
  std::map<std::string, std::int64_t> applied;
  for (const SignedHead& head : call.hub.store.Heads()) applied[head.origin] = head.seq;
  out +=
      "# HELP carehub_sync_lag_entries Change-log entries a member holds that this hub has "
      "not applied yet, per member and origin.\n";
  out += "# TYPE carehub_sync_lag_entries gauge\n";
  const std::vector<PeerLinkState> links = call.shared.options.live_peers();
  for (const PeerLinkState& state : links) {
    for (const auto& [origin, seq] : state.advertised) {
      const auto it = applied.find(origin);
      const std::int64_t held = it == applied.end() ? 0 : it->second;
      out += "carehub_sync_lag_entries{" + hub + ",peer=\"" + PromLabel(state.name) +
             "\",origin=\"" + PromLabel(origin) + "\"} " +
             std::to_string(std::max<std::int64_t>(0, seq - held)) + "\n";
    }
  }
  out += "# HELP carehub_peer_connected 1 when the member link answers.\n";
  out += "# TYPE carehub_peer_connected gauge\n";
  for (const PeerLinkState& state : links) {
    out += "carehub_peer_connected{" + hub + ",peer=\"" + PromLabel(state.name) + "\"} " +
           (state.connected ? "1" : "0") + "\n";
  }
}

// The background store check of `carehub serve` (issue 17).
void AppendStoreCheckMetrics(std::string& out, const StoreCheckState& check,
                             const std::string& hub) {
  out += "# HELP carehub_store_problems Problems the last background store check found.\n";
  out += "# TYPE carehub_store_problems gauge\n";
  out += "carehub_store_problems{" + hub + "} " + std::to_string(check.problems) + "\n";
  out += "# HELP carehub_store_check_passes_total Full background store checks completed.\n";
  out += "# TYPE carehub_store_check_passes_total counter\n";
  out += "carehub_store_check_passes_total{" + hub + "} " + std::to_string(check.passes) + "\n";
  out += "# HELP carehub_store_check_slices_total Slices the background store check took.\n";
  out += "# TYPE carehub_store_check_slices_total counter\n";
  out += "carehub_store_check_slices_total{" + hub + "} " + std::to_string(check.slices) + "\n";
  out +=
      "# HELP carehub_store_check_slices_busy_total Of them, taken at the slower pace while "
      "serving or applying batches.\n";
  out += "# TYPE carehub_store_check_slices_busy_total counter\n";
  out += "carehub_store_check_slices_busy_total{" + hub + "} " +
         std::to_string(check.slices_while_busy) + "\n";
  out += "# HELP carehub_store_repairs_total Repairs of damaged logs or records.\n";
  out += "# TYPE carehub_store_repairs_total counter\n";
  out += "carehub_store_repairs_total{" + hub + "} " + std::to_string(check.repairs) + "\n";
  out +=
      "# HELP carehub_refused_checks_total REFUSED from members (protocol version 7): the "
      "range checked and found damaged (repaired) or sound, or not checked (dropped).\n";
  out += "# TYPE carehub_refused_checks_total counter\n";
  for (const auto& [outcome, n] :
       {std::pair{"damaged", check.refused_damaged}, std::pair{"sound", check.refused_sound},
        std::pair{"dropped", check.refused_dropped}}) {
    out += "carehub_refused_checks_total{" + hub + ",outcome=\"" + outcome + "\"} " +
           std::to_string(n) + "\n";
  }
  out += "# HELP carehub_store_sound 1 when the last check and every batch served since verify.\n";
  out += "# TYPE carehub_store_sound gauge\n";
  out += "carehub_store_sound{" + hub + "} " + (check.sound ? "1" : "0") + "\n";
}

// The exchange loop's step times (issue 17: a long step delays every member's answers).
void AppendLoopMetrics(std::string& out, const ExchangeLoopLoad& load, const std::string& hub) {
  out += "# HELP carehub_exchange_loop_steps_total Steps of the exchange loop.\n";
  out += "# TYPE carehub_exchange_loop_steps_total counter\n";
  out += "carehub_exchange_loop_steps_total{" + hub + "} " + std::to_string(load.steps) + "\n";
  out +=
      "# HELP carehub_exchange_loop_longest_step_seconds The longest exchange loop step, labelled "
      "with the part that took most of it.\n";
  out += "# TYPE carehub_exchange_loop_longest_step_seconds gauge\n";
  out += "carehub_exchange_loop_longest_step_seconds{" + hub + ",part=\"" +
         std::string(LoopPartName(load.longest_step_part)) + "\"} " +
         std::to_string(load.longest_step_seconds) + "\n";
  out += "# HELP carehub_exchange_loop_busy_seconds_total Exchange loop time per part.\n";
  out += "# TYPE carehub_exchange_loop_busy_seconds_total counter\n";
  for (int i = 0; i < kLoopParts; ++i) {
    out += "carehub_exchange_loop_busy_seconds_total{" + hub + ",part=\"" +
           std::string(LoopPartName(static_cast<LoopPart>(i))) + "\"} " +
           std::to_string(load.busy_seconds[i]) + "\n";
  }
}

}  // namespace

void HandleMetrics(ApiCall& call) {
  call.AllowQuery({});
  std::string out;
  const std::string hub = "hub=\"" + PromLabel(call.shared.region) + "\"";
  AppendStoreMetrics(out, call.hub.store, hub);
  if (call.shared.options.live_peers) AppendLinkMetrics(out, call, hub);
  if (call.shared.options.batches_rejected) {
    out +=
        "# HELP carehub_batches_rejected_total Relayed batches refused (bad chain or "
        "signature).\n";
    out += "# TYPE carehub_batches_rejected_total counter\n";
    out += "carehub_batches_rejected_total{" + hub + "} " +
           std::to_string(call.shared.options.batches_rejected()) + "\n";
  }
  if (call.shared.options.store_check) {
    AppendStoreCheckMetrics(out, call.shared.options.store_check(), hub);
  }
  if (call.shared.options.loop_load) AppendLoopMetrics(out, call.shared.options.loop_load(), hub);
  call.shared.metrics.Render(out);
  call.SendBytes(200, "text/plain; version=0.0.4; charset=utf-8", out);
}

namespace {

using AppliedSeqs = std::map<std::string, std::int64_t>;  // origin -> seq applied here

std::int64_t AppliedSeq(const AppliedSeqs& applied, const std::string& origin) {
  const auto it = applied.find(origin);
  return it == applied.end() ? std::int64_t{0} : it->second;
}

// Per origin: the seq applied here, the seq the member holds (when known) and the lag.
Poco::JSON::Array::Ptr OriginsJson(const AppliedSeqs& applied, const PeerLinkState* state) {
  std::map<std::string, std::optional<std::int64_t>> origins;
  for (const auto& [origin, seq] : applied) origins[origin] = std::nullopt;
  if (state) {
    for (const auto& [origin, seq] : state->advertised) origins[origin] = seq;
  }
  Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
  for (const auto& [origin, peer_seq] : origins) {
    const std::int64_t here = AppliedSeq(applied, origin);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("origin", origin);
    o->set("applied_seq", here);
    o->set("peer_seq", peer_seq ? Poco::Dynamic::Var(*peer_seq) : Poco::Dynamic::Var());
    o->set("lag", peer_seq ? Poco::Dynamic::Var(std::max<std::int64_t>(0, *peer_seq - here))
                           : Poco::Dynamic::Var());
    array->add(o);
  }
  return array;
}

Poco::JSON::Object::Ptr SelfPeerJson(const std::string& region, const AppliedSeqs& applied,
                                     const std::set<std::string>& held) {
  Poco::JSON::Object::Ptr self = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  self->set("name", "self");
  self->set("region", region);
  self->set("self", true);
  self->set("endpoint", Poco::Dynamic::Var());
  self->set("dialled", false);
  self->set("connected", Poco::Dynamic::Var());
  self->set("last_heard_seconds", Poco::Dynamic::Var());
  self->set("head_seq", AppliedSeq(applied, region));
  self->set("origins", OriginsJson(applied, nullptr));
  self->set("fork_held", held.count(region) > 0);
  return self;
}

// `running`: the exchange runs in this process, so `state` (null: no link) is known.
Poco::JSON::Object::Ptr MemberJson(const Peer& p, const PeerLinkState* state, bool running,
                                   const AppliedSeqs& applied, const std::set<std::string>& held) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("name", p.name);
  json->set("region", p.region);
  json->set("self", false);
  json->set("endpoint", p.endpoint ? Poco::Dynamic::Var(*p.endpoint) : Poco::Dynamic::Var());
  json->set("dialled", p.endpoint.has_value());
  // null: no exchange runs in this process, so the link state is unknown.
  json->set("connected", running ? Poco::Dynamic::Var(state != nullptr && state->connected)
                                 : Poco::Dynamic::Var());
  json->set("last_heard_seconds", state && state->last_heard_seconds >= 0
                                      ? Poco::Dynamic::Var(state->last_heard_seconds)
                                      : Poco::Dynamic::Var());
  json->set("head_seq", AppliedSeq(applied, p.region));
  json->set("origins", OriginsJson(applied, state));
  // Open fork evidence for this member's origin: nothing of it is applied until resolved.
  json->set("fork_held", held.count(p.region) > 0);
  return json;
}

}  // namespace

void HandlePeers(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  Store& store = call.hub.store;
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"peers"});
  const std::string after = DecodeCursor(call.Query("cursor"), digest).value_or("");

  // Applied seq per origin (the signed heads this hub holds) and, when the exchange runs in
  // this process, what each member says it holds.
  AppliedSeqs applied;
  for (const SignedHead& h : store.Heads()) applied[h.origin] = h.seq;
  std::map<std::string, PeerLinkState> live;
  const bool running = static_cast<bool>(call.shared.options.live_peers);
  if (running) {
    for (PeerLinkState& state : call.shared.options.live_peers()) {
      live[state.name] = std::move(state);
    }
  }
  std::vector<std::pair<std::string, Poco::JSON::Object::Ptr>> items;  // (cursor key, item)
  const std::set<std::string> held = HeldOrigins(store.db());
  items.emplace_back("0", SelfPeerJson(call.shared.region, applied, held));
  for (const Peer& p : ListPeers(store.db())) {
    const auto it = live.find(p.name);
    items.emplace_back("1" + p.name, MemberJson(p, it == live.end() ? nullptr : &it->second,
                                                running, applied, held));
  }
  Poco::JSON::Array::Ptr page = new Poco::JSON::Array;
  std::string last;
  bool more = false;
  for (const auto& [key, item] : items) {
    if (!after.empty() && key <= after) continue;
    if (static_cast<int>(page->size()) == limit) {
      more = true;
      break;
    }
    page->add(item);
    last = key;
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("region", call.shared.region);
  json.set("exchange", running ? "running" : "not running in this process");
  json.set("items", page);
  json.set("next_cursor",
           more ? Poco::Dynamic::Var(EncodeCursor(last, digest)) : Poco::Dynamic::Var());
  call.SendJson(200, json);
}

}  // namespace carehub::http
