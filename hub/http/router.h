// Inside the HTTP API (hub/http/server.h): the route table, the per-request call object handed
// to route handlers, the shared server state, and the one place where exceptions become status
// codes (ApiRequestHandler). Handlers throw HttpError (or carehub::Error) and never write an
// error response themselves. Not a public interface of carehub_hub.
// Thread-safety: ApiShared is shared by all server threads (immutable or internally locked);
// an ApiCall and its leased HubContext belong to one request thread.
#pragma once

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/connector.h"
#include "hub/http/api_tokens.h"
#include "hub/http/lag_history.h"
#include "hub/http/metrics.h"
#include "hub/http/rate_limit.h"
#include "hub/http/server.h"
#include "hub/store/recognitions.h"
#include "hub/store/store.h"
#include "mapping/rule_book.h"

namespace carehub::http {

// An error response: status, stable machine code, message, and the offending field if any.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, std::string code, const std::string& message, std::string field = "")
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }

  // 400 naming the parameter or JSON field.
  static HttpError BadParameter(const std::string& field, const std::string& message) {
    return {400, "invalid_parameter", field + ": " + message, field};
  }
  static HttpError NotFound(const std::string& message) { return {404, "not_found", message}; }

 private:
  int status_;
  std::string code_;
  std::string field_;
};

// Per-thread resources: one Store connection and what is built on it. Leased for one request.
struct HubContext {
  explicit HubContext(const std::filesystem::path& dir);
  Store store;
  TokenVerifier verifier;
  // Built on first use and rebuilt when another connection changed the database (the
  // sanctions index would be stale otherwise).
  std::unique_ptr<Recognizer> recognizer;
  std::int64_t recognizer_version = -1;
};

struct ApiShared;

class ApiCall;
using RouteHandler = void (*)(ApiCall& call);

struct Route {
  std::string method;
  std::string pattern;  // OpenAPI syntax; a trailing "{name}" of the files route takes the rest
  Access access;
  RouteHandler handler;
  bool rest_param = false;  // the last parameter matches the rest of the path (slashes too)
};

const std::vector<Route>& ApiRoutes();
// Routes whose answers hold personal data: never cached, rate-limited per token (bulk reads),
// and every answer with data is written to the access log.
bool ReturnsPersonalData(const Route& route);

// Everything the server threads share.
struct ApiShared {
  std::filesystem::path dir;
  std::string region;
  HttpOptions options;
  std::unique_ptr<mapping::RuleBook> book;
  RequestMetrics metrics;
  LagHistory lag_history{std::chrono::hours(1)};  // filled by server.cc's LagSampler
  std::mutex ingest_mutex;  // one upload is ingested at a time (SQLite has one writer anyway)
  RateLimiter bulk_reads;   // per token, on every route that returns personal data
  RateLimiter identifier_lookups;  // per token, recognitions asked by raw identifier
  std::mutex log_mutex;            // whole lines in the human-readable request log

  ApiShared(std::filesystem::path dir_in, HttpOptions options_in);
  // Leases a HubContext (opening a new Store connection when none is free).
  std::unique_ptr<HubContext> Lease();
  void Return(std::unique_ptr<HubContext> context);

 private:
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<HubContext>> pool_;
};

enum class MediaType { kJson, kAvro };

class ApiCall {
 public:
  ApiCall(Poco::Net::HTTPServerRequest& request_in, Poco::Net::HTTPServerResponse& response_in,
          ApiShared& shared_in, HubContext& hub_in, Principal principal_in, std::string route_in,
          std::map<std::string, std::string> params,
          std::vector<std::pair<std::string, std::string>> query)
      : request(request_in),
        response(response_in),
        shared(shared_in),
        hub(hub_in),
        principal(std::move(principal_in)),
        route(std::move(route_in)),
        params_(std::move(params)),
        query_(std::move(query)) {}

  Poco::Net::HTTPServerRequest& request;
  Poco::Net::HTTPServerResponse& response;
  ApiShared& shared;
  HubContext& hub;
  const Principal principal;
  const std::string route;  // "GET /v1/records"

  const std::string& Param(const std::string& name) const { return params_.at(name); }
  // A query parameter; 400 when given twice.
  std::optional<std::string> Query(const std::string& name) const;
  // Rejects query parameters outside `allowed` (400 naming the first unknown one).
  void AllowQuery(std::initializer_list<std::string_view> allowed) const;
  // limit (1..max_page_size, default default_page_size).
  int Limit() const;
  // What the client accepts among `offered` (first = default); 406 when nothing fits.
  MediaType Negotiate(std::initializer_list<MediaType> offered) const;
  // The request body, at most `max_bytes` (413 beyond, checked on Content-Length first).
  std::string ReadBody(std::uint64_t max_bytes);
  // 400 "incomplete_body" (connection closed) when `received` differs from Content-Length: the
  // client went away or lied; nothing of such a body may be used.
  void CheckBodyLength(std::uint64_t received);
  // The request body as a JSON object (400 "invalid_json" otherwise).
  Poco::JSON::Object::Ptr ReadJsonObject();

  // Writes what this answer shows to the store's access log (hub/store/access_log.h) before it
  // is sent: the caller's token id and role, this route, the record ids and person tokens.
  void LogAccess(std::int64_t count, std::vector<std::string> record_ids,
                 std::vector<Hmac256> person_tokens,
                 std::optional<std::string> purpose = std::nullopt);
  // 429 with Retry-After when `limiter` has nothing left for this caller's token.
  void TakeRate(RateLimiter& limiter, const std::string& what);

  void SendJson(int status, const Poco::Dynamic::Var& json);
  void SendBytes(int status, const std::string& content_type, const std::string& bytes);
  void SendFile(const std::filesystem::path& path, const std::string& content_type);

 private:
  std::map<std::string, std::string> params_;
  std::vector<std::pair<std::string, std::string>> query_;
};

// Poco's factory: one handler per request; unknown paths get the 404 handler.
class ApiHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit ApiHandlerFactory(ApiShared& shared) : shared_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest& request) override;

 private:
  ApiShared& shared_;
};

// The security headers of every answer, API and web pages alike (router.cc says which).
void SetSecurityHeaders(Poco::Net::HTTPServerResponse& response, bool personal_data);

// Opaque paging cursors: base64url of {"a": position, "q": digest of the query}, so a cursor
// used with other filters is refused (400 naming "cursor").
std::string EncodeCursor(const std::string& position, const std::string& query_digest);
// nullopt without a cursor; throws HttpError 400 for a malformed or foreign one.
std::optional<std::string> DecodeCursor(const std::optional<std::string>& cursor,
                                        const std::string& query_digest);
std::string QueryDigest(std::initializer_list<std::string_view> parts);

// Handlers (one function per route), defined in http_routes.cc, http_records.cc and
// http_datasets.cc.
void HandleHealth(ApiCall& call);
void HandleMetrics(ApiCall& call);
void HandleOpenApi(ApiCall& call);
void HandlePeers(ApiCall& call);
void HandleQuarantine(ApiCall& call);        // quarantine.cc
void HandleQuarantineReplay(ApiCall& call);  // quarantine.cc
void HandleIngest(ApiCall& call);
void HandleRecordList(ApiCall& call);
void HandleRecordGet(ApiCall& call);
void HandleRecognitions(ApiCall& call);
void HandleDatasetList(ApiCall& call);
void HandleDatasetGet(ApiCall& call);
void HandleDatasetFile(ApiCall& call);
void HandleCatalog(ApiCall& call);
void HandleSeriesGet(ApiCall& call);
// web_rules.cc (public rules explorer) and web_console.cc (console helpers).
void HandleRulesCatalog(ApiCall& call);
void HandleRulesDecision(ApiCall& call);
void HandleWhoAmI(ApiCall& call);
void HandleTokenList(ApiCall& call);
void HandleLagHistory(ApiCall& call);
void HandleAudit(ApiCall& call);

// The connector engine options of this hub (its region, key and HttpOptions::profiles_dir).
EngineOptions HubEngineOptions(ApiCall& call);
// Removes the kept uploads (<dir>/uploads) whose runs are complete and have no open quarantine
// row left. Call with ApiShared::ingest_mutex held, so no upload is between receipt and ingest.
void RemoveSettledUploads(ApiCall& call);

// The OpenAPI document compiled into the binary (hub/http/openapi.json).
std::string_view OpenApiJson();

}  // namespace carehub::http
