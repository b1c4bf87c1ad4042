// `carehub verify --dir D [--origin R] [--repair [--cut] [--timeout S]]`: checks the store
// (hub/store/verify.h) and prints one line per problem ("chain origin=310000 seq=17 record=ID:
// ..."), then a summary "sound entries=N records=M" or "unsound problems=K". Exit 0 when sound, 3
// when problems were found (after --repair: when problems remain). --repair fixes what it can
// and verifies again: a damaged change log (the hub's own or another origin's) is repaired in
// place from members, as serve does (the damaged range fetched from a member that holds a copy,
// proven against signed heads and rewritten; nothing cut), dialling the members with an
// endpoint for at most --timeout seconds; records rows and indexes are rewritten from their
// changes. When no member's copy of another origin's log can be used, the log is left as it is
// and the command says why, unless --cut: then it is cut back to its last sound signed head
// (the next sync pulls the rest again). The own log is never cut. Open fork evidence is
// reported as "fork origin=O seq=S: ..." lines and also exits 3 (carehub fork resolve decides
// it, not --repair).
#include <algorithm>
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

bool LogProblem(const StoreProblem& p) {
  return p.kind == ProblemKind::kChain || p.kind == ProblemKind::kHead;
}

// Origins whose change log (entries or signed heads) is damaged, each once.
std::vector<std::string> DamagedLogs(const VerifyReport& report) {
  std::vector<std::string> origins;
  for (const StoreProblem& p : report.problems) {
    if (LogProblem(p) && std::find(origins.begin(), origins.end(), p.origin) == origins.end()) {
      origins.push_back(p.origin);
    }
  }
  return origins;
}

// Damaged logs are repaired from members through the exchange (hub/exchange/exchange.h
// RepairLogs), which needs members with an endpoint that answer; says what it did per origin.
void RepairLogsFromMembers(Store& store, const std::vector<std::string>& origins, double timeout_s,
                           bool cut, std::ostream& out) {
  ExchangeOptions options;
  options.pull = false;
  options.verify_rows = 0;
  options.log = [&out](const std::string& line) { out << "exchange: " << line << "\n"; };
  Exchange exchange(store.dir(), options);
  const auto outcomes = exchange.RepairLogs(
      origins, std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000)), cut);
  for (const Exchange::LogRepairOutcome& o : outcomes) {
    const bool own = o.origin == store.region();
    out << "repair: origin=" << o.origin << (own ? " (this hub's own log)" : "") << " ";
    if (o.cut) {
      const auto head = store.Head(o.origin);
      out << "no member's copy could be used (" << o.why_not << "); log cut back to seq "
          << (head ? head->seq : 0) << " (--cut: the next sync pulls the rest again)\n";
    } else if (o.sound) {
      out << "log repaired in place from a member's copy (nothing cut)\n";
    } else if (own) {
      out << "log not repaired: " << o.why_not
          << " (the own log is never cut: restore carehub.db from a backup)\n";
    } else {
      out << "log not repaired: " << o.why_not
          << "; left as it is (--repair --cut cuts it back to its last sound signed head, and "
             "the next sync pulls the rest again)\n";
    }
  }
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
    options.addOption(FlagOption(
        "cut",
        "with --repair: cut a damaged log of another origin back to its last sound signed "
        "head when no member's copy can be used"));
    options.addOption(ValueOption(
        "timeout", "seconds to fetch damaged logs from members (default 30)", "SECONDS"));
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
    const std::vector<std::string> damaged = DamagedLogs(report);
    if (!damaged.empty()) {
      RepairLogsFromMembers(store, damaged, std::stod(args.Get("timeout").value_or("30")),
                            args.Has("cut"), out);
      report = VerifyStore(store, options);
      // Damaged logs were dealt with above (repaired, cut with --cut, or reported).
      std::erase_if(report.problems, LogProblem);
    }
    const RepairReport repair = RepairStore(store, report);
    out << "repair: records_restored=" << repair.records_restored
        << (repair.reindexed ? " reindexed" : "") << "\n";
    for (const std::string& line : repair.unrepaired)
      out << "repair: not repaired: " << line << "\n";
    report = VerifyStore(store, options);
    out << "after repair: ";
    Print(report, out);
    return report.sound() && !forked ? 0 : kUnsound;
  }
};

CAREHUB_REGISTER_COMMAND(VerifyCommand);

}  // namespace
}  // namespace carehub::cli
