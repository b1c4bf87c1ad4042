// The hub's HTTP API as a component: HttpApi serves one hub directory with Poco::Net::HTTPServer
// (routes, roles, paging and errors: docs/API.md; OpenAPI description: hub/http/openapi.json).
// `carehub serve --http HOST:PORT` and `carehub http` start it; tests start it on port 0.
// Thread-safety: Start/Stop from one thread; requests run on the server's thread pool, each on
// its own Store connection leased from a pool (one connection per thread, SQLite WAL).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub/exchange/exchange.h"

namespace carehub {

struct HttpOptions {
  int max_threads = 16;  // server threads = concurrent requests; each leases a Store
  // Open connections (served + waiting for a thread) in total and from one client address; the
  // excess is answered 503 and closed at accept time. Keep max_connections_per_address below
  // max_threads, so one address cannot hold every thread (behind a reverse proxy every client
  // has the proxy's address: raise it there and let the proxy limit clients).
  int max_connections = 256;
  int max_connections_per_address = 8;
  // Time to read one request's headers and body (an upload also gets its Content-Length at
  // min_upload_bytes_per_second); then the connection's read side is shut, freeing its thread.
  int request_timeout_ms = 10000;
  std::uint64_t min_upload_bytes_per_second = 1 << 20;
  // Poco serves a kept-alive connection on one thread until it closes, so with more clients than
  // threads the extra connections would wait for ever: a connection is closed after this many
  // requests (the client reconnects and queues behind the waiting ones) or this idle time.
  int max_keep_alive_requests = 100;
  int keep_alive_timeout_ms = 2000;
  // TLS (Poco NetSSL, OpenSSL): PEM certificate chain and key; with client_ca every client must
  // present a certificate signed by it. Unset: plain HTTP.
  std::optional<std::filesystem::path> tls_cert = std::nullopt;
  std::optional<std::filesystem::path> tls_key = std::nullopt;
  std::optional<std::filesystem::path> tls_client_ca = std::nullopt;
  // Largest request body of an ingest upload; bigger uploads get 413 before being read.
  std::uint64_t max_upload_bytes = 256ull << 20;
  // Largest JSON request body (recognitions); small on purpose.
  std::uint64_t max_json_bytes = 64ull << 10;
  // Per-token rate limits (token buckets): reads of routes that return personal data (records,
  // quarantine, recognitions, audit) and, stricter, recognitions asked by raw identifier (a
  // lookup from ID number to records). Excess: 429 with Retry-After. <= 0 disables a limit.
  double bulk_reads_per_minute = 600;
  double bulk_read_burst = 120;
  double identifier_lookups_per_hour = 30;
  double identifier_lookup_burst = 5;
  int default_page_size = 100;
  int max_page_size = 1000;
  // Rule files replacing the compiled-in recognition rules (as `carehub recognize --rules`).
  std::optional<std::filesystem::path> rules_dir = std::nullopt;
  // Connector profiles (<dir>/<region>/<kind>.json) replacing the compiled-in ones for uploads
  // and quarantine replays: a profile fix deployed as data (`carehub http --profiles`).
  std::optional<std::filesystem::path> profiles_dir = std::nullopt;
  // One whole line per request on stderr: method, route template, status, milliseconds and the
  // token id (never the query string or body).
  bool access_log = false;
  // Live state of the peer exchange running in the same process (`carehub serve --http`):
  // member links and rejected batches for /v1/peers and /metrics. Unset: only what the store
  // knows (members, applied seqs) is reported. Called from server threads: must be thread-safe.
  std::function<std::vector<PeerLinkState>()> live_peers = nullptr;
  std::function<std::int64_t()> batches_rejected = nullptr;
  // The exchange's background store check (issue 17): /metrics carehub_store_* and the
  // "store" field of /health. Unset: neither is reported.
  std::function<StoreCheckState()> store_check = nullptr;
  // The exchange loop's step times: /metrics carehub_exchange_loop_*. Unset: not reported.
  std::function<ExchangeLoopLoad()> loop_load = nullptr;
  // With live_peers: how often the lag of every member is sampled for the last hour's chart
  // (GET /v1/metrics/lag; 240 points an hour by default).
  int lag_sample_interval_ms = 15000;
};

// One route as the server has it: used by the OpenAPI check and docs.
struct RouteInfo {
  std::string method;   // "GET", "POST"
  std::string pattern;  // "/v1/records/{record_id}" (OpenAPI path syntax)
  std::string access;   // "public", "read", "write-own-region"
};

class HttpApi {
 public:
  // Opens `dir` (throws Error::NotFound when it is not a hub) and loads the rule book.
  HttpApi(std::filesystem::path dir, HttpOptions options = {});
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds host:port (port 0 = any free port) and starts serving. Throws Error::IoError when
  // the address cannot be bound.
  void Start(const std::string& host, std::uint16_t port);
  // Stops accepting, lets running requests finish. Idempotent; the destructor calls it.
  void Stop();
  std::uint16_t port() const;                // the bound port (after Start)
  std::int64_t connections_refused() const;  // refused by the connection caps since Start
  const std::string& region() const;

  static std::vector<RouteInfo> Routes();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "127.0.0.1:8080" -> ("127.0.0.1", 8080), "[::1]:8080" -> ("::1", 8080), "localhost:0" ->
// (the address it resolves to, 0); throws Error::InvalidInput naming `option`.
std::pair<std::string, std::uint16_t> ParseListenAddress(const std::string& text,
                                                         const std::string& option);

// "http://127.0.0.1:8080/", "http://[::1]:8080/" (an IPv6 host in brackets); https:// with tls.
std::string HttpUrl(const std::string& host, std::uint16_t port, bool tls = false);

}  // namespace carehub
