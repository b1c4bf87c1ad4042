// `carehub http --dir D [--listen 127.0.0.1:8080]`: serves a hub's HTTP API alone, without the
// peer exchange (which `carehub serve --http` adds). Runs until SIGINT or SIGTERM; prints the
// URL once listening.
#include <signal.h>

#include <iostream>

#include "cli/command.h"
#include "cli/tls_options.h"
#include "hub/http/server.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class HttpCommand : public Command {
 public:
  std::string_view name() const override { return "http"; }
  std::string_view summary() const override {
    return "serve the hub's HTTP API (records, recognitions, datasets) until Ctrl-C";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption(
        "listen", "address to listen on (default 127.0.0.1:8080; port 0 = any)", "HOST:PORT"));
    options.addOption(ValueOption("threads", "server threads (default 16)", "N"));
    options.addOption(ValueOption("max-upload-mb", "largest ingest upload (default 256)", "MB"));
    options.addOption(
        ValueOption("rules", "rule files to use instead of the compiled-in ones", "DIR"));
    options.addOption(ValueOption(
        "profiles", "connector profiles to use instead of the compiled-in ones", "DIR"));
    options.addOption(FlagOption("access-log", "one line per request on stderr"));
    AddTlsOptions(options);
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto [host, port] = ParseListenAddress(args.GetOr("listen", "127.0.0.1:8080"), "listen");
    HttpOptions options;
    options.max_threads = static_cast<int>(args.GetInt("threads", options.max_threads));
    if (options.max_threads < 1 || options.max_threads > 1024) {
      throw Error::InvalidInput("option --threads: expected 1..1024");
    }
    const long long upload_mb = args.GetInt("max-upload-mb", 256);
    if (upload_mb < 1) throw Error::InvalidInput("option --max-upload-mb: expected >= 1");
    options.max_upload_bytes = static_cast<std::uint64_t>(upload_mb) << 20;
    if (auto rules = args.Get("rules")) options.rules_dir = *rules;
    if (auto profiles = args.Get("profiles")) options.profiles_dir = *profiles;
    options.access_log = args.Has("access-log");
    ReadTlsOptions(args, options);

    // A client that goes away mid-response must not kill the server.
    ::signal(SIGPIPE, SIG_IGN);
    // Block the termination signals before the server threads start, so that only sigwait
    // below receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    HttpApi api(args.Require("dir"), options);
    api.Start(host, port);
    out << "carehub http: hub " << api.region() << " serving "
        << HttpUrl(host, api.port(), options.tls_cert.has_value()) << " (Ctrl-C stops)"
        << std::endl;
    int received = 0;
    sigwait(&signals, &received);
    api.Stop();
    std::cerr << "carehub http: stopped\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(HttpCommand);

}  // namespace
}  // namespace carehub::cli
