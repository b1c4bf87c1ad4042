#include "hub/http/server.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include "hub/http/lag_history.h"
#include "hub/http/router.h"
#include "schemas/error.h"

namespace carehub {

struct HttpApi::Impl {
  Impl(std::filesystem::path dir, HttpOptions options)
      : shared(std::move(dir), std::move(options)) {}
  http::ApiShared shared;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
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
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(Poco::Net::SocketAddress(host, port), /*reuseAddress=*/true);
    socket.listen(impl_->shared.options.max_queued);
  } catch (const Poco::Exception& e) {
    throw Error::IoError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                         e.displayText());
  }
  impl_->port = socket.address().port();
  const int threads = std::max(1, impl_->shared.options.max_threads);
  impl_->pool = std::make_unique<Poco::ThreadPool>(std::min(2, threads), threads);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(impl_->shared.options.max_queued);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(impl_->shared.options.max_keep_alive_requests);
  params->setKeepAliveTimeout(Poco::Timespan(
      static_cast<Poco::Timespan::TimeDiff>(impl_->shared.options.keep_alive_timeout_ms) * 1000));
  params->setServerName("carehub");
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(
      new http::ApiHandlerFactory(impl_->shared), *impl_->pool, socket, params);
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
  impl_->server->stopAll(false);
  impl_->pool->joinAll();
  impl_->server.reset();
  impl_->pool.reset();
}

std::uint16_t HttpApi::port() const { return impl_->port; }

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

std::string HttpUrl(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

}  // namespace carehub
