// `carehub sync --dir D [--peer NAME] --once [--timeout S]`: pulls from the dialled members
// until this hub holds every member origin they advertise, prints one progress line per
// origin, and exits (0 caught up, 1 when a peer did not answer or a batch was rejected).
#include <iomanip>
#include <iostream>

#include "cli/command.h"
#include "cli/exchange_memory.h"
#include "hub/exchange/exchange.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class SyncCommand : public Command {
 public:
  std::string_view name() const override { return "sync"; }
  std::string_view summary() const override {
    return "pull member origins from peers until caught up (--once)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("peer", "only this member (by name)", "NAME"));
    options.addOption(FlagOption("once", "pull until caught up, then exit (required)"));
    options.addOption(ValueOption("timeout", "give up after S seconds (default 300)", "S"));
    options.addOption(ValueOption("max-batch", "entries asked per pull (default 20000)", "N"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    if (!args.Has("once")) {
      throw Error::InvalidInput("sync runs with --once; use `carehub serve` to stay in sync");
    }
    UseExchangeAllocatorSetting();
    ExchangeOptions options;
    options.only_peer = args.Get("peer");
    options.max_batch =
        static_cast<std::uint32_t>(args.GetInt("max-batch", ExchangeOptions{}.max_batch));
    Exchange exchange(args.Require("dir"), options);
    const SyncReport report = exchange.SyncOnce(std::chrono::seconds(args.GetInt("timeout", 300)));
    for (const OriginProgress& p : report.origins) {
      out << "origin=" << p.origin << " records=" << p.applied << " seq=" << p.seq
          << " rate=" << std::fixed << std::setprecision(0)
          << (p.seconds > 0 ? static_cast<double>(p.applied) / p.seconds : 0.0) << "/s\n";
    }
    const ExchangeStats stats = exchange.stats();
    out << "batches=" << stats.batches_applied << " commits=" << stats.groups_committed
        << " deferred=" << stats.batches_deferred << "\n";
    out << LoopLoadLine(exchange.LoopLoad()) << "\n";
    for (const std::string& problem : report.problems) std::cerr << "sync: " << problem << "\n";
    if (!report.caught_up) std::cerr << "sync: not caught up before the timeout\n";
    out << (report.caught_up && report.problems.empty() ? "caught up\n" : "incomplete\n");
    return report.caught_up && report.problems.empty() ? 0 : 1;
  }
};

CAREHUB_REGISTER_COMMAND(SyncCommand);

}  // namespace
}  // namespace carehub::cli
