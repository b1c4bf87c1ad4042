#include "hub/http/server.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>

#include <mutex>

#include "hub/http/connection_guard.h"
#include "hub/http/lag_history.h"
#include "hub/http/router.h"
#include "schemas/error.h"

namespace carehub {
namespace {

http::ConnectionLimits LimitsOf(const HttpOptions& options) {
  http::ConnectionLimits limits;
  limits.max_connections = std::max(1, options.max_connections);
  limits.max_per_address = std::max(1, options.max_connections_per_address);
  limits.request_timeout = std::chrono::milliseconds(std::max(1, options.request_timeout_ms));
  limits.idle_timeout = std::chrono::milliseconds(std::max(0, options.keep_alive_timeout_ms));
  limits.min_upload_bytes_per_second = options.min_upload_bytes_per_second;
  // Over TLS a refused connection cannot be answered without a handshake: it is closed.
  limits.answer_refused = !options.tls_cert;
  return limits;
}

// The server's TLS context: TLS 1.2 or later, the certificate and key from PEM files, and with
// a client CA, client certificates required and checked against it.
Poco::Net::Context::Ptr TlsContext(const HttpOptions& options) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { Poco::Net::initializeSSL(); });
  if (!options.tls_key) throw Error::InvalidInput("option --tls-cert needs --tls-key");
  for (const auto* file : {&options.tls_cert, &options.tls_key, &options.tls_client_ca}) {
    if (*file && !std::filesystem::is_regular_file(**file)) {
      throw Error::NotFound("TLS file " + (*file)->string() + " does not exist");
    }
  }
  Poco::Net::Context::Params params;
  params.certificateFile = options.tls_cert->string();
  params.privateKeyFile = options.tls_key->string();
  params.verificationMode = Poco::Net::Context::VERIFY_NONE;
  if (options.tls_client_ca) {
    params.caLocation = options.tls_client_ca->string();
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  }
  params.loadDefaultCAs = false;
  params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
  try {
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    // Poco's "extended verification" would compare a client certificate's name with the
    // client's IP address; a department's certificate names the department. The chain is still
    // verified by OpenSSL against the client CA.
    context->enableExtendedCertificateVerification(false);
    context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                              Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
    return context;
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput("TLS certificate or key: " + e.displayText());
  }
}

Poco::Net::ServerSocket Listen(const HttpOptions& options, const std::string& host,
                               std::uint16_t port) {
  try {
    Poco::Net::ServerSocket socket = options.tls_cert
                                         ? Poco::Net::SecureServerSocket(TlsContext(options))
                                         : Poco::Net::ServerSocket();
    socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true);
    socket.listen(std::max(64, options.max_connections));
    return socket;
  } catch (const Poco::Exception& e) {
    throw Error::IoError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                         e.displayText());
  }
}

}  // namespace

struct HttpApi::Impl {
  Impl(std::filesystem::path dir, HttpOptions options)
      : shared(std::move(dir), std::move(options)) {}
  http::ApiShared shared;
  std::unique_ptr<http::ConnectionGuard> guard;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::TCPServer> server;
  std::unique_ptr<LagSampler> lag_sampler;
  std::uint16_t port = 0;
};

namespace {

// Every member's lag now: entries it advertises beyond the signed head this hub holds, summed
// over origins (the same figure as carehub_sync_lag_entries in /metrics).
LagSample SampleLag(http::ApiShared& shared) {
  std::map<std::string, std::int64_t> applied;
  {
    std::unique_ptr<http::HubContext> context = shared.Lease();
    try {
      for (const SignedHead& head : context->store.Heads()) applied[head.origin] = head.seq;
    } catch (...) {
      shared.Return(std::move(context));
      throw;
    }
    shared.Return(std::move(context));
  }
  LagSample sample;
  sample.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  for (const PeerLinkState& state : shared.options.live_peers()) {
    std::int64_t behind = 0;
    for (const auto& [origin, seq] : state.advertised) {
      const auto it = applied.find(origin);
      behind += std::max<std::int64_t>(0, seq - (it == applied.end() ? 0 : it->second));
    }
    sample.lag[state.name] = behind;
  }
  return sample;
}

}  // namespace

HttpApi::HttpApi(std::filesystem::path dir, HttpOptions options)
    : impl_(std::make_unique<Impl>(std::move(dir), std::move(options))) {}

HttpApi::~HttpApi() { Stop(); }

void HttpApi::Start(const std::string& host, std::uint16_t port) {
  if (impl_->server) throw Error::InvalidInput("HTTP API already started");
  const HttpOptions& options = impl_->shared.options;
  Poco::Net::ServerSocket socket = Listen(options, host, port);
  impl_->port = socket.address().port();
  const int threads = std::max(1, options.max_threads);
  impl_->pool = std::make_unique<Poco::ThreadPool>(std::min(2, threads), threads);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  // Every connection the guard admits may wait for a thread: Poco must never drop one itself
  // (the guard counts it until the connection ends).
  params->setMaxQueued(std::max(1, options.max_connections));
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(options.max_keep_alive_requests);
  params->setKeepAliveTimeout(
      Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(options.keep_alive_timeout_ms) * 1000));
  params->setTimeout(Poco::Timespan(
      static_cast<Poco::Timespan::TimeDiff>(std::max(1, options.request_timeout_ms)) * 1000));
  params->setServerName("carehub");
  impl_->guard = std::make_unique<http::ConnectionGuard>(LimitsOf(options));
  Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers =
      new http::ApiHandlerFactory(impl_->shared);
  impl_->server = std::make_unique<Poco::Net::TCPServer>(
      impl_->guard->ConnectionFactory(params, handlers), *impl_->pool, socket, params);
  impl_->server->setConnectionFilter(impl_->guard->Filter());
  impl_->server->start();
  if (impl_->shared.options.live_peers) {
    http::ApiShared& shared = impl_->shared;
    impl_->lag_sampler = std::make_unique<LagSampler>(
        shared.lag_history,
        std::chrono::milliseconds(std::max(100, shared.options.lag_sample_interval_ms)),
        [&shared] { return SampleLag(shared); });
  }
}

void HttpApi::Stop() {
  if (!impl_->server) return;
  if (impl_->lag_sampler) impl_->lag_sampler->Stop();
  impl_->server->stop();
  // Running requests finish; connections waiting for their next request are closed.
  impl_->guard->ShutdownAll();
  impl_->pool->joinAll();
  impl_->server.reset();
  impl_->pool.reset();
  impl_->guard.reset();
}

std::uint16_t HttpApi::port() const { return impl_->port; }

std::int64_t HttpApi::connections_refused() const {
  return impl_->guard ? impl_->guard->refused() : 0;
}

const std::string& HttpApi::region() const { return impl_->shared.region; }

std::vector<RouteInfo> HttpApi::Routes() {
  std::vector<RouteInfo> out;
  for (const http::Route& r : http::ApiRoutes()) {
    out.push_back({r.method, r.pattern, std::string(AccessName(r.access))});
  }
  return out;
}

std::pair<std::string, std::uint16_t> ParseListenAddress(const std::string& text,
                                                         const std::string& option) {
  const std::string usage = "option --" + option +
                            ": expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080, got '" +
                            text + "'";
  // Poco parses "host:port", "[v6]:port" and resolves names; a port of 0 lets the OS choose.
  if (text.empty() || text.back() == ':' || text.find(':') == std::string::npos) {
    throw Error::InvalidInput(usage);
  }
  try {
    const Poco::Net::SocketAddress address(text);
    return {address.host().toString(), address.port()};
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput(usage + " (" + e.displayText() + ")");
  }
}

std::string HttpUrl(const std::string& host, std::uint16_t port, bool tls) {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + "/";
}

}  // namespace carehub
