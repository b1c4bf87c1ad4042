// `carehub fork show|resolve --dir D ...`: the fork evidence this hub's exchange recorded
// (hub/store/forks.h, docs/STORE.md "Fork evidence"). `show [--all] [--json]` lists the open
// rows (all with --all): origin, both signed heads, who sent the other one, when. `resolve
// --origin O --keep HASH` keeps the branch whose head hash is HASH (64 hex chars, as shown):
// keeping the held branch closes the evidence; keeping the other drops this hub's entries of O
// past the last seq known to agree (all of them when unknown), and `serve` pulls the kept branch
// again. Either way the origin's hold is released (a running serve notices within 0.5 s).
#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Timestamp.h>

#include "cli/command.h"
#include "hub/store/forks.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

std::string Utc(std::int64_t ms) {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(ms * 1000),
                                         Poco::DateTimeFormat::ISO8601_FORMAT);
}

Hash256 ParseHash(const std::string& hex) {
  Hash256 out{};
  const auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw Error::InvalidInput("--keep: '" + hex + "' is not 64 hex characters");
  };
  if (hex.size() != 64) throw Error::InvalidInput("--keep: '" + hex + "' is not 64 hex characters");
  for (std::size_t i = 0; i < 32; ++i) {
    out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return out;
}

Poco::JSON::Object HeadJson(const SignedHead& head) {
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("seq", head.seq);
  json.set("hash", ToHex(head.head_hash));
  json.set("signature", ToHex(head.signature));
  return json;
}

void PrintJson(const std::vector<ForkEvidence>& rows, std::ostream& out) {
  Poco::JSON::Array array;
  for (const ForkEvidence& e : rows) {
    Poco::JSON::Object item(Poco::JSON_PRESERVE_KEY_ORDER);
    item.set("id", e.id);
    item.set("origin", e.origin);
    item.set("state", e.resolved_ms ? "resolved" : "open");
    item.set("how", e.how);
    item.set("fork_seq", e.fork_seq);
    item.set("agree_seq", e.agree_seq);
    item.set("held", HeadJson(e.held));
    item.set("held_from", "this hub");
    item.set("other", HeadJson(e.other));
    item.set("other_from", e.other_from);
    item.set("detected_at", Utc(e.detected_ms));
    if (e.resolved_ms) item.set("resolved_at", Utc(*e.resolved_ms));
    if (e.kept) item.set("kept", ToHex(*e.kept));
    array.add(item);
  }
  array.stringify(out);
  out << "\n";
}

void PrintText(const std::vector<ForkEvidence>& rows, std::ostream& out) {
  for (const ForkEvidence& e : rows) {
    out << "fork id=" << e.id << " origin=" << e.origin
        << " state=" << (e.resolved_ms ? "resolved" : "open") << " how=" << e.how
        << " from=" << e.other_from << " detected=" << Utc(e.detected_ms)
        << " fork_seq=" << e.fork_seq << " agree_seq=" << e.agree_seq << "\n"
        << "  held  seq=" << e.held.seq << " hash=" << ToHex(e.held.head_hash) << "\n"
        << "  other seq=" << e.other.seq << " hash=" << ToHex(e.other.head_hash) << "\n";
    if (e.kept) out << "  kept " << ToHex(*e.kept) << "\n";
  }
  out << (rows.empty() ? "no fork evidence" : std::to_string(rows.size()) + " row(s)") << "\n";
}

class ForkCommand : public Command {
 public:
  std::string_view name() const override { return "fork"; }
  std::string_view summary() const override {
    return "show|resolve fork evidence (conflicting signed heads of an origin)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("origin", "resolve: the origin (code or alias)", "R"));
    options.addOption(ValueOption("keep", "resolve: head hash of the branch to keep", "HASH"));
    options.addOption(FlagOption("all", "show: resolved rows too"));
    options.addOption(FlagOption("json", "show: JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    const std::string action = positional.empty() ? "show" : positional[0];
    Store store = Store::Open(args.Require("dir"));
    if (action == "show") {
      const auto rows = ListForkEvidence(store.db(), !args.Has("all"));
      args.Has("json") ? PrintJson(rows, out) : PrintText(rows, out);
      return 0;
    }
    if (action != "resolve")
      throw Error::InvalidInput("unknown action '" + action + "' (show|resolve)");
    const std::string given = args.Require("origin");
    const auto origin = ResolveRegion(given);
    if (!origin) throw Error::InvalidInput("unknown origin '" + given + "'");
    const ForkResolution r = ResolveFork(store, *origin, ParseHash(args.Require("keep")));
    out << "resolved origin=" << *origin << " rows=" << r.resolved
        << " kept=" << (r.kept_held ? "held" : "other");
    if (r.cut_to) out << " log_cut_to=" << *r.cut_to << " (serve pulls the kept branch)";
    out << "\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(ForkCommand);

}  // namespace
}  // namespace carehub::cli
