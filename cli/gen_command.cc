// `carehub gen`: a deterministic synthetic native export for any region profile, plus the
// sidecar FILE.expected.json with the exact outcome the connector must produce.
#include <chrono>
#include <iostream>

#include "cli/command.h"
#include "connectors/generator.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class GenCommand : public Command {
 public:
  std::string_view name() const override { return "gen"; }
  std::string_view summary() const override {
    return "generate a synthetic native export (with known defects) for a region profile";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(
        ValueOption("region", "region: code (310000) or alias (sh js zj ah gd hk mo)", "R", true));
    options.addOption(ValueOption("kind", "assessment|caregiver|facility|sanction", "K", true));
    options.addOption(ValueOption("rows", "number of rows (default 1000)", "N"));
    options.addOption(ValueOption("seed", "random seed (default 1); same seed, same people", "S"));
    options.addOption(
        ValueOption("defect-rate", "share of rows with one defect (default 0.02)", "F"));
    options.addOption(ValueOption(
        "as-of", "export date YYYY-MM-DD, valid dates lie before it (default 2025-12-31)", "DATE"));
    options.addOption(ValueOption("out", "output file", "FILE", true));
  }

  int Run(const ParsedArgs& args, std::ostream&) override {
    const std::string kind_name = args.Require("kind");
    if (!ParseKind(kind_name))
      throw Error::InvalidInput("--kind: unknown kind '" + kind_name + "'");
    const std::string region_text = args.Require("region");
    const auto region = ResolveRegion(region_text);
    if (!region) throw Error::InvalidInput("--region: unknown region '" + region_text + "'");
    const Profile* profile = nullptr;
    for (const Profile& candidate : BuiltinProfiles()) {
      if (candidate.region == *region && KindName(candidate.kind) == kind_name)
        profile = &candidate;
    }
    if (profile == nullptr) throw Error::NotFound("no profile for " + *region + "/" + kind_name);
    const std::string& profile_name = profile->name;
    GeneratorOptions options;
    options.rows = args.GetInt("rows", 1000);
    options.seed = static_cast<std::uint64_t>(args.GetInt("seed", 1));
    options.defect_rate = args.GetDouble("defect-rate", 0.02);
    if (auto as_of = args.Get("as-of")) {
      auto parsed = ParseIsoDate(*as_of);
      if (!parsed) throw Error::InvalidInput("--as-of: '" + *as_of + "' is not YYYY-MM-DD");
      // Only checked, never used as a default: the output must not depend on the clock.
      const Date today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
      if (*parsed > today) throw Error::InvalidInput("--as-of must not lie after today");
      options.as_of = *parsed;
    }
    const std::string out = args.Require("out");
    const GenerationSummary summary = Generator(*profile, options).Write(out);
    std::cerr << "gen " << profile_name << ": rows=" << summary.rows
              << " expected accepted=" << summary.accepted << " quarantined=" << summary.quarantined
              << " -> " << out << "\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(GenCommand);

}  // namespace
}  // namespace carehub::cli
