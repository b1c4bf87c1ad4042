// Handlers the department console needs beside the record routes (docs/API.md): who the bearer
// token belongs to (sign-in), the API tokens of this hub (never their secrets) and the sync lag
// of the last hour (hub/http/lag_history.h).
#include <Poco/JSON/Array.h>

#include "hub/http/router.h"

namespace carehub::http {
namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

}  // namespace

void HandleWhoAmI(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  const Principal& who = call.principal;
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("role", std::string(RoleName(who.role)));
  json.set("region", who.region ? Var(*who.region) : Var());
  json.set("hub_region", call.shared.region);
  // What the console may show: reads for auditors and departments, writes for own departments.
  json.set("can_read",
           CheckAccess(Access::kRead, who, call.shared.region) == AccessDecision::kAllowed);
  json.set("can_write",
           CheckAccess(Access::kWriteOwn, who, call.shared.region) == AccessDecision::kAllowed);
  call.SendJson(200, json);
}

void HandleTokenList(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  Array::Ptr items = new Array;
  for (const TokenInfo& info : ListApiTokens(call.hub.store)) {
    Object::Ptr item = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("id", info.id);
    item->set("role", std::string(RoleName(info.role)));
    item->set("region", info.region ? Var(*info.region) : Var());
    item->set("created_at_ms", info.created_at_ms);
    item->set("revoked_at_ms", info.revoked_at_ms ? Var(*info.revoked_at_ms) : Var());
    item->set("current", info.id == call.principal.token_id);
    items->add(item);
  }
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("items", items);
  json.set("next_cursor", Var());
  call.SendJson(200, json);
}

void HandleLagHistory(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  Array::Ptr samples = new Array;
  for (const LagSample& sample : call.shared.lag_history.Samples()) {
    Object::Ptr item = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("at_ms", sample.at_ms);
    Object::Ptr lag = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [peer, entries] : sample.lag) lag->set(peer, entries);
    item->set("lag", lag);
    samples->add(item);
  }
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("exchange", call.shared.options.live_peers ? "running" : "not running in this process");
  json.set("interval_seconds", call.shared.options.lag_sample_interval_ms / 1000.0);
  json.set("samples", samples);
  call.SendJson(200, json);
}

}  // namespace carehub::http
