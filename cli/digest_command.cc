// `carehub digest --dir D [--origin R]`: one line per origin, `origin=310000 seq=N records=M
// sha256=HEX log=HEX` (hub/store/digest.h), equal on hubs that have converged.
#include "cli/command.h"
#include "hub/store/digest.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class DigestCommand : public Command {
 public:
  std::string_view name() const override { return "digest"; }
  std::string_view summary() const override {
    return "per-origin digest of the records held (equal on converged hubs)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("origin", "only this origin (code or alias)", "R"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    std::optional<std::string> origin;
    if (auto given = args.Get("origin")) {
      origin = ResolveRegion(*given);
      if (!origin) throw Error::InvalidInput("unknown origin '" + *given + "'");
    }
    for (const OriginDigest& d : ComputeDigests(store, origin)) out << DigestLine(d) << "\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(DigestCommand);

}  // namespace
}  // namespace carehub::cli
