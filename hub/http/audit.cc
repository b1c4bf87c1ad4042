// GET /v1/audit: the access log for auditors (hub/store/access_log.h). With person_token, only
// the accesses that returned that person's records ("who read my records", asked by the
// department serving the resident); the first page also says whether the hash chain verifies.
#include <Poco/JSON/Array.h>
#include <sodium.h>

#include "connectors/person_token.h"
#include "hub/http/router.h"
#include "hub/store/access_log.h"

namespace carehub::http {
namespace {

using Poco::Dynamic::Var;

Hmac256 ParsePersonToken(const std::string& text) {
  const auto token = ParseTokenHex(text);
  if (!token) throw HttpError::BadParameter("person_token", "expected 64 hex digits");
  return *token;
}

}  // namespace

void HandleAudit(ApiCall& call) {
  call.AllowQuery({"person_token", "limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  const auto person = call.Query("person_token");
  std::vector<Hmac256> persons;
  if (person) persons.push_back(ParsePersonToken(*person));
  const std::string digest = QueryDigest({"audit", person.value_or("")});
  std::int64_t after = 0;
  const auto position = DecodeCursor(call.Query("cursor"), digest);
  if (position) {
    try {
      after = std::stoll(*position);
    } catch (const std::exception&) {
      throw HttpError::BadParameter("cursor", "not a cursor of this API");
    }
  }
  std::vector<AccessEntry> entries = ListAccess(call.hub.store, persons, after, limit + 1);
  const bool more = static_cast<int>(entries.size()) > limit;
  if (more) entries.pop_back();
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const AccessEntry& e : entries) items->add(AccessEntryJson(e));
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  if (!position) {
    const AccessLogCheck check = VerifyAccessLog(call.hub.store);
    Poco::JSON::Object::Ptr chain = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    chain->set("entries", check.entries);
    chain->set("ok", check.ok());
    if (!check.ok()) chain->set("first_bad_seq", *check.first_bad_seq);
    json.set("chain", chain);
  }
  json.set("items", items);
  json.set("next_cursor",
           more ? Var(EncodeCursor(std::to_string(entries.back().seq), digest)) : Var());
  call.SendJson(200, json);
}

}  // namespace carehub::http
