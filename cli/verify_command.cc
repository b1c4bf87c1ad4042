// `carehub verify --dir D [--origin R] [--repair]`: checks the store (hub/store/verify.h) and
// prints one line per problem ("chain origin=310000 seq=17 record=ID: ..."), then a summary
// "sound entries=N records=M" or "unsound problems=K". Exit 0 when sound, 3 when problems were
// found (after --repair: when problems remain). --repair fixes what it can (records rewritten
// from their changes, another origin's damaged log cut back to a sound signed head, to be
// pulled again by the next sync; a damaged range of the hub's OWN log fetched back from members
// that hold a copy, proven against the hub's own signed heads, within --timeout) and verifies
// again. Open fork evidence is reported as "fork
// origin=O seq=S: ..." lines and also exits 3 (carehub fork resolve decides it, not --repair).
#include <iostream>

#include "cli/command.h"
#include "hub/exchange/exchange.h"
#include "hub/store/forks.h"
#include "hub/store/store.h"
#include "hub/store/verify.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

constexpr int kUnsound = 3;

bool OwnLogDamaged(const Store& store, const VerifyReport& report) {
  for (const StoreProblem& p : report.problems) {
    if (p.origin == store.region() &&
        (p.kind == ProblemKind::kChain || p.kind == ProblemKind::kHead)) {
      return true;
    }
  }
  return false;
}

// The own log is not cut like another origin's: its damaged range is fetched from members
// (hub/exchange/exchange.h RepairOwnLog), which needs members with an endpoint that answer.
void FetchOwnLog(const std::filesystem::path& dir, double timeout_s, std::ostream& out) {
  ExchangeOptions options;
  options.pull = false;
  options.verify_rows = 0;
  options.log = [&out](const std::string& line) { out << "exchange: " << line << "\n"; };
  Exchange exchange(dir, options);
  std::string why_not;
  const bool sound = exchange.RepairOwnLog(
      std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)), &why_not);
  out << "repair: own log "
      << (sound ? "restored from members" : "not restored from members: " + why_not) << "\n";
}

void Print(const VerifyReport& report, std::ostream& out) {
  for (const std::string& note : report.notes) out << "note: " << note << "\n";
  for (const StoreProblem& p : report.problems) out << ProblemLine(p) << "\n";
  if (report.sound()) {
    out << "sound entries=" << report.entries << " records=" << report.records << "\n";
  } else {
    out << "unsound problems=" << report.problems.size() << " entries=" << report.entries
        << " records=" << report.records << "\n";
  }
}

// Open fork evidence (hub/store/forks.h) makes the store unsound too: an operator must decide
// which branch to keep (`carehub fork resolve`); --repair does not.
bool PrintForks(Store& store, const VerifyOptions& options, std::ostream& out) {
  bool any = false;
  for (const ForkEvidence& e : ListForkEvidence(store.db(), true)) {
    if (options.origin && *options.origin != e.origin) continue;
    any = true;
    out << "fork origin=" << e.origin << " seq=" << e.fork_seq << ": held head seq " << e.held.seq
        << " and head seq " << e.other.seq << " from " << e.other_from
        << " are both validly signed and disagree; origin held (carehub fork show)\n";
  }
  return any;
}

class VerifyCommand : public Command {
 public:
  std::string_view name() const override { return "verify"; }
  std::string_view summary() const override {
    return "check chains, signatures, records against their changes, indexes (exit 3: unsound)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("origin", "only this origin (code or alias)", "R"));
    options.addOption(FlagOption("repair", "repair what is found, then verify again"));
    options.addOption(ValueOption(
        "timeout", "seconds to fetch a damaged own log from members (default 30)", "SECONDS"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    VerifyOptions options;
    if (auto given = args.Get("origin")) {
      options.origin = ResolveRegion(*given);
      if (!options.origin) throw Error::InvalidInput("unknown origin '" + *given + "'");
    }
    VerifyReport report = VerifyStore(store, options);
    Print(report, out);
    const bool forked = PrintForks(store, options, out);
    if (report.sound() || !args.Has("repair")) return report.sound() && !forked ? 0 : kUnsound;
    const RepairReport repair = RepairStore(store, report);
    out << "repair: records_restored=" << repair.records_restored
        << (repair.reindexed ? " reindexed" : "") << "\n";
    for (const auto& [origin, keep] : repair.logs_cut) {
      out << "repair: origin=" << origin << " log cut back to seq " << keep
          << " (the next sync pulls the rest again)\n";
    }
    for (const std::string& line : repair.unrepaired)
      out << "repair: not repaired: " << line << "\n";
    if (OwnLogDamaged(store, report)) {
      FetchOwnLog(store.dir(), std::stod(args.Get("timeout").value_or("30")), out);
    }
    report = VerifyStore(store, options);
    out << "after repair: ";
    Print(report, out);
    return report.sound() && !forked ? 0 : kUnsound;
  }
};

CAREHUB_REGISTER_COMMAND(VerifyCommand);

}  // namespace
}  // namespace carehub::cli
