// `carehub serve --dir D --zmq tcp://127.0.0.1:7301 [--http 127.0.0.1:8301]`: listens for
// members (CURVE + ZAP), serves every origin this hub holds, keeps itself in sync with all
// members that have an endpoint, and announces new heads. With --http it also serves the HTTP
// API (hub/http/server.h) from the same process, whose /v1/peers and /metrics then show the live
// member links. Prints "serving on ..." and "http: http://HOST:PORT/"; stops both cleanly on
// SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/tls_options.h"
#include "hub/exchange/exchange.h"
#include "hub/http/server.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

class ServeCommand : public Command {
 public:
  std::string_view name() const override { return "serve"; }
  std::string_view summary() const override {
    return "serve this hub to federation members over ZeroMQ and keep in sync with them";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(
        ValueOption("zmq", "ZeroMQ endpoint to listen on (default tcp://127.0.0.1:7301)", "URL"));
    options.addOption(
        ValueOption("http", "also serve the HTTP API on HOST:PORT (port 0 = any)", "HOST:PORT"));
    options.addOption(ValueOption("http-threads", "HTTP server threads (default 16)", "N"));
    options.addOption(FlagOption("access-log", "one line per HTTP request on stderr"));
    options.addOption(ValueOption("max-batch", "entries asked per pull (default 20000)", "N"));
    AddTlsOptions(options);
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    ExchangeOptions options;
    options.listen = args.GetOr("zmq", "tcp://127.0.0.1:7301");
    options.max_batch =
        static_cast<std::uint32_t>(args.GetInt("max-batch", ExchangeOptions{}.max_batch));
    std::optional<std::pair<std::string, std::uint16_t>> http_address;
    if (auto http = args.Get("http")) http_address = ParseListenAddress(*http, "http");
    // A client that goes away mid-response must not kill the server.
    ::signal(SIGPIPE, SIG_IGN);
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    Exchange exchange(args.Require("dir"), options);
    out << "serving on " << exchange.endpoint() << "\n" << std::flush;
    std::unique_ptr<HttpApi> api;
    if (http_address) {
      HttpOptions http_options;
      http_options.max_threads = static_cast<int>(args.GetInt("http-threads", 16));
      if (http_options.max_threads < 1 || http_options.max_threads > 1024) {
        throw Error::InvalidInput("option --http-threads: expected 1..1024");
      }
      http_options.access_log = args.Has("access-log");
      ReadTlsOptions(args, http_options);
      http_options.live_peers = [&exchange] { return exchange.LinkStates(); };
      http_options.batches_rejected = [&exchange] { return exchange.BatchesRejected(); };
      http_options.store_check = [&exchange] { return exchange.StoreCheck(); };
      http_options.loop_load = [&exchange] { return exchange.LoopLoad(); };
      api = std::make_unique<HttpApi>(args.Require("dir"), http_options);
      api->Start(http_address->first, http_address->second);
      out << "http: "
          << HttpUrl(http_address->first, api->port(), http_options.tls_cert.has_value()) << "\n"
          << std::flush;
    }
    exchange.Serve(g_stop);
    // The API reads the exchange's snapshot: stop it first.
    if (api) api->Stop();
    const ExchangeStats s = exchange.stats();
    out << "stopped: applied " << s.entries_applied << " entries in " << s.batches_applied
        << " batches, rejected " << s.batches_rejected << ", served " << s.batches_served
        << " batches\n"
        << LoopLoadLine(exchange.LoopLoad()) << "\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(ServeCommand);

}  // namespace
}  // namespace carehub::cli
