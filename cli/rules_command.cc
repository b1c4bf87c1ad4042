// `carehub rules check [--rules DIR] [--on DATE] [--quiet]`: loads every recognition rule set
// (compiled in, or DIR) and checks them against the native codes of every connector profile.
// `carehub rules list [--rules DIR]`: one line per rule set. Exit 1 when the check finds errors.
#include <algorithm>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "connectors/profile.h"
#include "mapping/checker.h"
#include "mapping/rule_book.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

// The native codes of every built-in connector profile, per scale (a profile may put several
// scales on its records, e.g. pre-2019 caregiver titles). Read here because mapping/ may not
// include connectors/.
std::vector<mapping::ProfileCodes> ConnectorProfileCodes() {
  std::vector<mapping::ProfileCodes> out;
  for (const Profile& profile : BuiltinProfiles()) {
    std::map<std::string, mapping::ProfileCodes> by_scale;
    for (const LevelEntry& level : profile.scale.levels) {
      const std::string& scale = level.scale.empty() ? profile.scale.code : level.scale;
      auto& codes = by_scale[scale];
      if (codes.profile.empty()) {
        codes.profile = profile.name;
        codes.kind = profile.kind;
        codes.origin_region = profile.region;
        codes.scale = scale;
      }
      if (std::find(codes.codes.begin(), codes.codes.end(), level.code) != codes.codes.end()) {
        continue;  // several native spellings of one code
      }
      codes.codes.push_back(level.code);
      codes.pivots.push_back(level.pivot);
    }
    for (auto& [scale, codes] : by_scale) out.push_back(std::move(codes));
  }
  return out;
}

Date Today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

class RulesCommand : public Command {
 public:
  std::string_view name() const override { return "rules"; }
  std::string_view summary() const override {
    return "check or list the recognition rule sets (rules check|list)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(
        ValueOption("rules", "rule files to use instead of the compiled-in ones", "DIR"));
    options.addOption(
        ValueOption("on", "date for compositions and round trips (default today)", "DATE"));
    options.addOption(FlagOption("quiet", "print errors and warnings only"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    const std::string action = positional.empty() ? "check" : positional[0];
    const auto dir = args.Get("rules");
    auto files = dir ? mapping::ReadRuleDirectory(*dir) : mapping::EmbeddedRuleFiles();
    if (action == "list") return List(files, out);
    if (action != "check")
      throw Error::InvalidInput("unknown action '" + action + "' (check|list)");

    Date on = Today();
    if (auto text = args.Get("on")) {
      auto parsed = ParseIsoDate(*text);
      if (!parsed) throw Error::InvalidInput("option --on: '" + *text + "' is not YYYY-MM-DD");
      on = *parsed;
    }
    const auto profiles = ConnectorProfileCodes();
    auto report = mapping::CheckRules(files, profiles, on);
    for (const auto& finding : report.findings) {
      if (args.Has("quiet") && finding.severity == mapping::Severity::kInfo) continue;
      out << mapping::FormatFinding(finding) << "\n";
    }
    out << "rules check: " << report.files << " files (" << (dir ? *dir : "compiled-in") << "), "
        << profiles.size() << " connector profiles, " << report.documented_entries
        << " documented and " << report.proposed_entries << " proposed entries, " << report.errors()
        << " errors, " << report.warnings() << " warnings\n";
    return report.errors() > 0 ? 1 : 0;
  }

 private:
  static int List(const std::vector<mapping::RuleFile>& files, std::ostream& out) {
    for (const auto& file : files) {
      auto set = mapping::ParseRuleSet(file);
      out << file.path << "\t" << set.Ref();
      if (set.type == mapping::RuleSetType::kCrosswalk) {
        out << "\t" << set.source_scale << " -> " << set.target_scale;
      } else if (set.type == mapping::RuleSetType::kRegion) {
        out << "\tregion " << set.region.ToString() << " " << set.name;
      } else {
        out << "\t" << set.scales.size() << " scales";
      }
      if (set.type != mapping::RuleSetType::kScales) {
        out << "\t" << FormatIsoDate(set.effective_from) << ".."
            << (set.effective_to ? FormatIsoDate(*set.effective_to) : "");
      }
      out << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(RulesCommand);

}  // namespace
}  // namespace carehub::cli
