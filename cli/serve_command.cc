// `carehub serve --dir D --zmq tcp://127.0.0.1:7301 [--http 127.0.0.1:8301]`: listens for
// members (CURVE + ZAP), serves every origin this hub holds, keeps itself in sync with all
// members that have an endpoint, and announces new heads. Stops cleanly on SIGINT/SIGTERM.
#include <signal.h>

#include <atomic>
#include <iostream>

#include "cli/command.h"
#include "hub/exchange.h"

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
    options.addOption(ValueOption("http", "HTTP API address host:port", "ADDR"));
    options.addOption(ValueOption("max-batch", "entries asked per pull (default 20000)", "N"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    ExchangeOptions options;
    options.listen = args.GetOr("zmq", "tcp://127.0.0.1:7301");
    options.max_batch =
        static_cast<std::uint32_t>(args.GetInt("max-batch", ExchangeOptions{}.max_batch));
    if (args.Has("http")) {
      std::cerr << "serve: --http " << *args.Get("http")
                << " ignored: this build has no HTTP API component\n";
    }
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    Exchange exchange(args.Require("dir"), options);
    out << "serving on " << exchange.endpoint() << "\n" << std::flush;
    exchange.Serve(g_stop);
    const ExchangeStats s = exchange.stats();
    out << "stopped: applied " << s.entries_applied << " entries in " << s.batches_applied
        << " batches, rejected " << s.batches_rejected << ", served " << s.batches_served
        << " batches\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(ServeCommand);

}  // namespace
}  // namespace carehub::cli
