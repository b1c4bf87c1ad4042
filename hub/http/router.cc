#include "hub/http/router.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/URI.h>
#include <sodium.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "hub/http/connection_guard.h"
#include "hub/http/web_assets.h"
#include "hub/store/access_log.h"
#include "schemas/error.h"

namespace carehub::http {
namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

// Matches the raw (still percent-encoded) path against a pattern; parameters are decoded.
bool Match(const Route& route, const std::vector<std::string>& raw,
           std::map<std::string, std::string>& params) {
  const std::vector<std::string> pattern = Split(route.pattern);
  if (route.rest_param ? raw.size() < pattern.size() : raw.size() != pattern.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      std::string value;
      if (route.rest_param && i + 1 == pattern.size()) {
        std::string joined;
        for (std::size_t j = i; j < raw.size(); ++j) {
          std::string part;
          Poco::URI::decode(raw[j], part);
          if (!joined.empty()) joined += '/';
          joined += part;
        }
        value = joined;
      } else {
        Poco::URI::decode(raw[i], value);
      }
      found[p.substr(1, p.size() - 2)] = value;
    } else if (p != raw[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::string ErrorBody(int status, const std::string& code, const std::string& message,
                      const std::string& field) {
  Poco::JSON::Object::Ptr error = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  error->set("status", status);
  error->set("code", code);
  error->set("message", message);
  if (!field.empty()) error->set("field", field);
  Poco::JSON::Object root(Poco::JSON_PRESERVE_KEY_ORDER);
  root.set("error", error);
  std::ostringstream out;
  root.stringify(out);
  return out.str();
}

// Request framing refused with 400 and a closed connection: two framings (Content-Length with
// Transfer-Encoding, or two lengths) are how requests are smuggled past a proxy, and a length
// that is no byte count leaves the next request's start unknown.
std::optional<std::string> FramingError(const HTTPServerRequest& request) {
  int lengths = 0;
  std::string length;
  for (const auto& [name, value] : request) {
    if (Poco::icompare(name, "Content-Length") != 0) continue;
    ++lengths;
    length = value;
  }
  const bool transfer_encoding = request.has("Transfer-Encoding");
  if (lengths > 1) return "more than one Content-Length";
  if (lengths == 1 && transfer_encoding) return "both Content-Length and Transfer-Encoding";
  if (lengths == 1 && (length.empty() || length.size() > 18 ||
                       length.find_first_not_of("0123456789") != std::string::npos)) {
    return "Content-Length is not a byte count";
  }
  if (transfer_encoding &&
      Poco::icompare(Poco::trim(request.get("Transfer-Encoding")), "chunked") != 0) {
    return "Transfer-Encoding other than chunked";
  }
  return std::nullopt;
}

// The request's headers are read: the guard's deadline now covers its body.
void StartBodyDeadline(const HTTPServerRequest& request, std::uint64_t max_body) {
  std::uint64_t body = 0;
  if (request.getChunkedTransferEncoding()) {
    body = max_body;
  } else if (request.hasContentLength() && request.getContentLength64() > 0) {
    body = static_cast<std::uint64_t>(request.getContentLength64());
  }
  RequestHeadersRead(body);
}

void SendError(HTTPServerResponse& response, int status, const std::string& code,
               const std::string& message, const std::string& field = "") {
  if (response.sent()) return;  // too late: the connection is closed by Poco
  const std::string body = ErrorBody(status, code, message, field);
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  if (status == 401) response.set("WWW-Authenticate", "Bearer realm=\"carehub\"");
  response.sendBuffer(body.data(), body.size());
}

// An error answered before the handler read the request body: the unread body would be parsed as
// the next request of a kept-alive connection. Read and drop up to kDrainLimit bytes of it (wiped:
// it may hold an identifier); past that, close the connection instead.
constexpr std::int64_t kDrainLimit = 1 << 20;
void DiscardBody(HTTPServerRequest& request, HTTPServerResponse& response) {
  const bool chunked = request.getChunkedTransferEncoding();
  const std::int64_t length = request.hasContentLength() ? request.getContentLength64() : 0;
  if (!chunked && length <= 0) return;
  if (length > kDrainLimit) {
    response.setKeepAlive(false);
    return;
  }
  try {
    std::istream& in = request.stream();
    char buffer[8192];
    std::int64_t total = 0;
    while (in && total <= kDrainLimit) {
      in.read(buffer, sizeof buffer);
      total += in.gcount();
    }
    sodium_memzero(buffer, sizeof buffer);
    if (total > kDrainLimit) response.setKeepAlive(false);
    RequestBodyRead();
  } catch (const std::exception&) {
    response.setKeepAlive(false);
  }
}

int StatusOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput:
    case ErrorKind::kProtocol:
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kUnauthorized:
      return 401;
    case ErrorKind::kCorruption:
    case ErrorKind::kIoError:
      return 500;
  }
  return 500;
}

// Returns the leased context to the pool even when the handler throws.
class Lease {
 public:
  explicit Lease(ApiShared& shared) : shared_(shared), context_(shared.Lease()) {}
  ~Lease() {
    if (context_) shared_.Return(std::move(context_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  HubContext& operator*() { return *context_; }

 private:
  ApiShared& shared_;
  std::unique_ptr<HubContext> context_;
};

// The one request handler: match, authenticate, check the route's access, run the handler,
// and turn every exception into an error response (shared/style.md §2 and §8).
class ApiRequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ApiRequestHandler(ApiShared& shared, int route, std::map<std::string, std::string> params)
      : shared_(shared), route_(route), params_(std::move(params)) {}

  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const auto start = std::chrono::steady_clock::now();
    const Route& route = ApiRoutes()[static_cast<std::size_t>(route_)];
    SetSecurityHeaders(response, route.access != Access::kPublic);
    int status = 500;
    std::string token_id;
    try {
      Lease lease(shared_);
      const Principal principal = Authenticate(request, (*lease).verifier);
      token_id = principal.token_id;
      Admit(route, principal);
      ApiCall call(request, response, shared_, *lease, principal,
                   route.method + " " + route.pattern, params_,
                   Poco::URI(request.getURI()).getQueryParameters());
      if (ReturnsPersonalData(route)) call.TakeRate(shared_.bulk_reads, "reads of personal data");
      route.handler(call);
      status = static_cast<int>(response.getStatus());
    } catch (const HttpError& e) {
      status = e.status();
      if (status == 413) {
        response.setKeepAlive(false);  // the unread rest of the body would follow
      } else {
        DiscardBody(request, response);
      }
      SendError(response, status, e.code(), e.what(), e.field());
    } catch (const Error& e) {
      status = StatusOf(e.kind());
      const bool internal = status >= 500;
      DiscardBody(request, response);
      if (internal) LogLine("carehub http: " + route.pattern + ": " + e.what());
      SendError(response, status, internal ? "internal" : std::string(ErrorKindName(e.kind())),
                internal ? "internal error (see the server log)" : e.what());
    } catch (const Poco::Net::NetException& e) {
      status = 499;  // the client went away; nothing to answer
    } catch (const std::exception& e) {
      LogLine("carehub http: " + route.pattern + ": " + e.what());
      status = 500;
      DiscardBody(request, response);
      SendError(response, status, "internal", "internal error (see the server log)");
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    shared_.metrics.Observe(route_, status, seconds);
    if (shared_.options.access_log) {
      LogLine(route.method + " " + route.pattern + " " + std::to_string(status) + " " +
              std::to_string(static_cast<long long>(seconds * 1000)) +
              "ms token=" + (token_id.empty() ? "-" : token_id));
    }
    ResponseSent();
  }

 private:
  // 401 without a (valid) identity on a non-public route, 403 when the role may not use it.
  void Admit(const Route& route, const Principal& principal) const {
    switch (CheckAccess(route.access, principal, shared_.region)) {
      case AccessDecision::kAllowed:
        return;
      case AccessDecision::kUnauthenticated:
        throw HttpError(401, "unauthorized", "this route needs a bearer token");
      case AccessDecision::kForbidden:
        throw HttpError(403, "forbidden",
                        "role " + std::string(RoleName(principal.role)) +
                            (principal.region ? " of region " + *principal.region : "") +
                            " may not use " + route.method + " " + route.pattern);
    }
  }

  // One whole line on stderr: lines of concurrent requests never interleave.
  void LogLine(const std::string& text) {
    const std::string line = text + "\n";
    std::lock_guard lock(shared_.log_mutex);
    std::cerr.write(line.data(), static_cast<std::streamsize>(line.size()));
    std::cerr.flush();
  }

  static Principal Authenticate(const HTTPServerRequest& request, TokenVerifier& verifier) {
    if (!request.has("Authorization")) return {};
    const std::string& header = request.get("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() <= kBearer.size() ||
        Poco::icompare(header.substr(0, kBearer.size()), std::string(kBearer)) != 0) {
      throw HttpError(401, "unauthorized", "Authorization must be 'Bearer <token>'");
    }
    auto principal = verifier.Verify(std::string_view(header).substr(kBearer.size()));
    if (!principal) throw HttpError(401, "unauthorized", "unknown or revoked token");
    return *principal;
  }

  ApiShared& shared_;
  int route_;
  std::map<std::string, std::string> params_;
};

// Requests that match no route: 404, or 405 when the path exists with another method.
class NoRouteHandler : public Poco::Net::HTTPRequestHandler {
 public:
  NoRouteHandler(ApiShared& shared, std::string allow)
      : shared_(shared), allow_(std::move(allow)) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    const auto start = std::chrono::steady_clock::now();
    int status = 404;
    SetSecurityHeaders(response, true);
    try {
      DiscardBody(request, response);
      if (allow_.empty()) {
        SendError(response, 404, "not_found",
                  "no route " + request.getMethod() + " " + Poco::URI(request.getURI()).getPath());
      } else {
        status = 405;
        response.set("Allow", allow_);
        SendError(response, 405, "method_not_allowed",
                  request.getMethod() + " is not allowed here (allowed: " + allow_ + ")");
      }
    } catch (const std::exception&) {
      status = 499;
    }
    shared_.metrics.Observe(
        -1, status,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ResponseSent();
  }

 private:
  ApiShared& shared_;
  std::string allow_;
};

// Runs a handler that knows nothing of the connection guard, then starts the deadline for the
// connection's next request (as ApiRequestHandler does itself).
class RearmAfterResponse : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RearmAfterResponse(Poco::Net::HTTPRequestHandler* inner) : inner_(inner) {}
  void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
    inner_->handleRequest(request, response);
    ResponseSent();
  }

 private:
  std::unique_ptr<Poco::Net::HTTPRequestHandler> inner_;
};

// Requests refused before routing: framing (FramingError, 400) or cut by the deadline (408).
// The connection is closed: where the next request would start is unknown.
class BadFramingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  BadFramingHandler(int status, std::string code, std::string message)
      : status_(status), code_(std::move(code)), message_(std::move(message)) {}
  void handleRequest(HTTPServerRequest&, HTTPServerResponse& response) override {
    SetSecurityHeaders(response, true);
    response.setKeepAlive(false);
    try {
      SendError(response, status_, code_, message_);
    } catch (const std::exception&) {
    }
  }

 private:
  int status_;
  std::string code_;
  std::string message_;
};

}  // namespace

HubContext::HubContext(const std::filesystem::path& dir)
    : store(Store::Open(dir)), verifier(store) {}

ApiShared::ApiShared(std::filesystem::path dir_in, HttpOptions options_in)
    : dir(std::move(dir_in)),
      options(std::move(options_in)),
      metrics([] {
        std::vector<std::string> labels;
        for (const Route& r : ApiRoutes()) labels.push_back(r.method + " " + r.pattern);
        return labels;
      }()),
      bulk_reads(options.bulk_reads_per_minute, options.bulk_read_burst),
      identifier_lookups(options.identifier_lookups_per_hour / 60.0,
                         options.identifier_lookup_burst) {
  auto first = std::make_unique<HubContext>(dir);
  region = first->store.region();
  pool_.push_back(std::move(first));
  std::optional<std::string> rules;
  if (options.rules_dir) rules = options.rules_dir->string();
  book = std::make_unique<mapping::RuleBook>(mapping::RuleBook::Load(rules));
}

std::unique_ptr<HubContext> ApiShared::Lease() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      auto context = std::move(pool_.back());
      pool_.pop_back();
      return context;
    }
  }
  return std::make_unique<HubContext>(dir);
}

void ApiShared::Return(std::unique_ptr<HubContext> context) {
  std::lock_guard lock(pool_mutex_);
  pool_.push_back(std::move(context));
}

std::optional<std::string> ApiCall::Query(const std::string& name) const {
  std::optional<std::string> value;
  for (const auto& [key, v] : query_) {
    if (key != name) continue;
    if (value) throw HttpError::BadParameter(name, "given more than once");
    value = v;
  }
  return value;
}

void ApiCall::AllowQuery(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, v] : query_) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (!known) throw HttpError::BadParameter(key, "unknown query parameter");
  }
}

int ApiCall::Limit() const {
  const auto text = Query("limit");
  if (!text) return shared.options.default_page_size;
  int value = 0;
  const bool digits = !text->empty() && text->size() <= 6 &&
                      text->find_first_not_of("0123456789") == std::string::npos;
  if (digits) value = std::stoi(*text);
  if (!digits || value < 1 || value > shared.options.max_page_size) {
    throw HttpError::BadParameter(
        "limit", "expected an integer from 1 to " + std::to_string(shared.options.max_page_size));
  }
  return value;
}

MediaType ApiCall::Negotiate(std::initializer_list<MediaType> offered) const {
  const MediaType fallback = *offered.begin();
  if (!request.has("Accept")) return fallback;
  // Pick the acceptable type with the highest q; ties keep the client's order.
  std::optional<MediaType> best;
  double best_q = 0;
  std::istringstream items(request.get("Accept"));
  std::string item;
  while (std::getline(items, item, ',')) {
    std::string type = Poco::trim(item.substr(0, item.find(';')));
    Poco::toLowerInPlace(type);
    double q = 1;
    const auto qpos = item.find("q=");
    if (qpos != std::string::npos) q = std::atof(item.c_str() + qpos + 2);
    std::optional<MediaType> candidate;
    if (type == "application/json") candidate = MediaType::kJson;
    if (type == "application/avro" || type == "avro/binary") candidate = MediaType::kAvro;
    if (type == "*/*" || type == "application/*") candidate = fallback;
    if (!candidate || q <= 0) continue;
    bool is_offered = false;
    for (MediaType m : offered) is_offered = is_offered || m == *candidate;
    if (is_offered && q > best_q) {
      best = candidate;
      best_q = q;
    }
  }
  if (!best) {
    throw HttpError(406, "not_acceptable",
                    offered.size() > 1 ? "this route answers application/json or application/avro"
                                       : "this route answers application/json");
  }
  return *best;
}

std::string ApiCall::ReadBody(std::uint64_t max_bytes) {
  if (request.hasContentLength() && request.getContentLength64() >= 0 &&
      static_cast<std::uint64_t>(request.getContentLength64()) > max_bytes) {
    throw HttpError(413, "payload_too_large",
                    "request body larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string body;
  std::istream& in = request.stream();
  char buffer[64 * 1024];
  while (in) {
    in.read(buffer, sizeof buffer);
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (body.size() > max_bytes) {
      sodium_memzero(body.data(), body.size());
      throw HttpError(413, "payload_too_large",
                      "request body larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  CheckBodyLength(body.size());
  return body;
}

void ApiCall::CheckBodyLength(std::uint64_t received) {
  if (request.hasContentLength() &&
      static_cast<std::uint64_t>(request.getContentLength64()) != received) {
    response.setKeepAlive(false);
    throw HttpError(400, "incomplete_body",
                    "request body: received " + std::to_string(received) +
                        " bytes, Content-Length says " +
                        std::to_string(request.getContentLength64()),
                    "body");
  }
  RequestBodyRead();
}

Poco::JSON::Object::Ptr ApiCall::ReadJsonObject() {
  std::string body = ReadBody(shared.options.max_json_bytes);
  Poco::JSON::Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    const Poco::Dynamic::Var parsed = parser.parse(body);
    if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
      object = parsed.extract<Poco::JSON::Object::Ptr>();
    }
  } catch (const Poco::Exception&) {
  }
  // The body may hold an identifier: wipe our copy whatever happened.
  sodium_memzero(body.data(), body.size());
  if (!object) throw HttpError(400, "invalid_json", "request body: expected a JSON object", "body");
  return object;
}

void ApiCall::LogAccess(std::int64_t count, std::vector<std::string> record_ids,
                        std::vector<Hmac256> person_tokens, std::optional<std::string> purpose) {
  AccessEntry entry;
  entry.actor = "token:" + principal.token_id;
  entry.role = std::string(RoleName(principal.role));
  entry.route = route;
  entry.purpose = std::move(purpose);
  entry.count = count;
  entry.record_ids = std::move(record_ids);
  entry.person_tokens = std::move(person_tokens);
  AppendAccess(hub.store, std::move(entry));
}

void ApiCall::TakeRate(RateLimiter& limiter, const std::string& what) {
  if (const auto wait = limiter.Take(principal.token_id)) {
    response.set("Retry-After", std::to_string(*wait));
    throw HttpError(
        429, "rate_limited",
        "too many " + what + " for this token; retry in " + std::to_string(*wait) + " s");
  }
}

Poco::Net::HTTPRequestHandler* ApiHandlerFactory::createRequestHandler(
    const HTTPServerRequest& request) {
  if (RequestExpired()) {
    return new BadFramingHandler(408, "request_timeout",
                                 "the request was not received within the server's deadline");
  }
  if (const auto framing = FramingError(request)) {
    return new BadFramingHandler(400, "bad_request", "request framing refused: " + *framing);
  }
  StartBodyDeadline(request,
                    std::max(shared_.options.max_upload_bytes, shared_.options.max_json_bytes));
  const std::string& uri = request.getURI();
  const std::vector<std::string> raw =
      Split(std::string_view(uri).substr(0, uri.find_first_of("?#")));
  const auto& routes = ApiRoutes();
  std::string allow;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    std::map<std::string, std::string> params;
    if (!Match(routes[i], raw, params)) continue;
    if (routes[i].method == request.getMethod()) {
      return new ApiRequestHandler(shared_, static_cast<int>(i), std::move(params));
    }
    allow += (allow.empty() ? "" : ", ") + routes[i].method;
  }
  // Not an API route: the web pages (web/, docs/WEB.md) answer GET and HEAD.
  if (allow.empty() && (request.getMethod() == "GET" || request.getMethod() == "HEAD")) {
    if (const auto asset = FindWebAsset(uri.substr(0, uri.find_first_of("?#")))) {
      return new RearmAfterResponse(NewWebAssetHandler(shared_, *asset));
    }
  }
  return new NoRouteHandler(shared_, allow);
}

}  // namespace carehub::http
