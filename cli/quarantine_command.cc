// `carehub quarantine --dir D [--open|--all] [--json] [--limit N] [--raw]`: the rows this hub
// rejected, as file, row, field, reason. --open (the default) lists the rows still open; --all
// also the resolved ones (a later ingest stored the same record), with when and by which run.
// The raw row may hold personal data (names, ID numbers): it is shown only with --raw, for the
// operator of this hub on this machine, and never leaves the hub.
// `carehub quarantine replay --dir D --run N [--store] [--json]`: re-runs the open rows of ingest
// run N through the current profile and reports what changed (hub/store/quarantine_replay.h);
// with --store the run's file is then ingested again, so the rows accepted now are stored.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "cli/command.h"
#include "hub/store/access_log.h"
#include "hub/store/ingest.h"
#include "hub/store/quarantine_replay.h"
#include "hub/store/report_json.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class QuarantineCommand : public Command {
 public:
  std::string_view name() const override { return "quarantine"; }
  std::string_view summary() const override {
    return "list rejected rows: file, row, field, reason";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(FlagOption("json", "print as one JSON object"));
    options.addOption(FlagOption("open", "only the rows still open (the default)"));
    options.addOption(
        FlagOption("all", "also the resolved rows (stored by a later ingest), as history"));
    options.addOption(ValueOption("limit", "show at most N rows (default: all)", "N"));
    options.addOption(FlagOption(
        "raw", "also show the raw row; it may contain personal data: local display only"));
    options.addOption(ValueOption("run", "replay: the ingest run whose open rows to re-run", "N"));
    options.addOption(FlagOption(
        "store", "replay: then ingest the run's file again, storing the rows accepted now"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    if (!args.positional().empty()) {
      if (args.positional()[0] != "replay" || args.positional().size() != 1) {
        throw Error::InvalidInput("usage: carehub quarantine [replay --run N [--store]] --dir D");
      }
      return Replay(args, out);
    }
    Store store = Store::Open(args.Require("dir"));
    const bool raw = args.Has("raw");
    if (args.Has("open") && args.Has("all")) {
      throw Error::InvalidInput("give --open or --all, not both");
    }
    const QuarantineState state = args.Has("all") ? QuarantineState::kAll : QuarantineState::kOpen;
    const auto rows = store.ListQuarantine(args.GetInt("limit", -1), state);
    const std::int64_t total = store.QuarantineCount(state);
    if (raw && !rows.empty()) {
      // Raw rows hold names and ID numbers: who saw which goes to the access log.
      AccessEntry entry;
      entry.actor = OsActor();
      entry.role = "cli";
      entry.route = "carehub quarantine --raw";
      entry.count = static_cast<std::int64_t>(rows.size());
      for (const auto& q : rows) entry.record_ids.push_back("quarantine:" + std::to_string(q.id));
      AppendAccess(store, std::move(entry));
    }
    if (args.Has("json")) {
      Poco::JSON::Object result;
      Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
      for (const auto& q : rows) {
        list->add(QuarantineRowJson(q, raw));
      }
      result.set("total", total);
      result.set("rows", list);
      result.stringify(out);
      out << "\n";
      return 0;
    }
    const bool all = state == QuarantineState::kAll;
    out << "file\trow\tfield\treason" << (all ? "\tstate" : "") << (raw ? "\traw" : "") << "\n";
    for (const auto& q : rows) {
      out << q.file << "\t" << q.row << "\t" << q.field << "\t" << q.reason;
      if (all) {
        out << "\t"
            << (q.resolved_at_ms ? "resolved by run " + std::to_string(q.resolved_run) : "open");
      }
      if (raw) out << "\t" << q.raw;
      out << "\n";
    }
    out << "total=" << total << " shown=" << rows.size() << "\n";
    return 0;
  }

 private:
  int Replay(const ParsedArgs& args, std::ostream& out);
};

int QuarantineCommand::Replay(const ParsedArgs& args, std::ostream& out) {
  Store store = Store::Open(args.Require("dir"));
  const long long run = args.GetInt("run", 0);
  if (run < 1) throw Error::InvalidInput("replay needs --run N (an ingest run id)");
  const ConnectorEngine engine(EngineOptionsFor(store));
  const QuarantineReplay r = ReplayQuarantine(store, engine, run, args.Has("store"));
  if (args.Has("json")) {
    QuarantineReplayJson(r).stringify(out);
    out << "\n";
    return 0;
  }
  out << "row\tbefore\tnow\n";
  for (const ReplayedRow& row : r.rows) {
    out << row.row << "\t" << row.reason_before << "\t"
        << (row.accepted_now ? std::string("accepted") : row.reason_now) << "\n";
  }
  out << "run=" << r.run_id << " open=" << r.rows.size() << " now_accepted=" << r.now_accepted
      << " reason_changed=" << r.reason_changed << " unchanged=" << r.unchanged;
  if (r.stored) {
    out << " stored: run=" << r.stored->run_id << " " << SummaryLine(*r.stored)
        << " open_after=" << r.open_after << "\n";
  } else {
    out << " (nothing written; --store ingests the file again to store the accepted rows)\n";
  }
  return 0;
}

CAREHUB_REGISTER_COMMAND(QuarantineCommand);

}  // namespace
}  // namespace carehub::cli
