// `carehub publish --dir D --out DIR [--series S] [--rho R] [--budget B] [--base-url URL] ...`:
// writes an open dataset release (hub/publish/publish.h, docs/DATASETS.md): research tables
// under differential privacy, spending rho from the series' budget, and registers it for the
// HTTP API. Prints the release folder on stdout and a summary on stderr; refuses (exit 1,
// nothing written) a release that would exceed the budget, saying what is left.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "hub/publish/budget.h"
#include "hub/publish/publish.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

// "0.5" -> 500000: a decimal with at most six fractional digits, exactly.
std::int64_t ParseRho(const std::string& option, const std::string& text) {
  std::int64_t whole = 0;
  std::int64_t fraction = 0;
  int digits = 0;
  bool dot = false;
  for (char c : text) {
    if (c == '.' && !dot) {
      dot = true;
    } else if (c >= '0' && c <= '9' && !dot && whole < 1000000) {
      whole = whole * 10 + (c - '0');
    } else if (c >= '0' && c <= '9' && dot && digits < 6) {
      fraction = fraction * 10 + (c - '0');
      ++digits;
    } else {
      throw Error::InvalidInput("option --" + option + ": expected a decimal like 0.5, got '" +
                                text + "'");
    }
  }
  while (digits++ < 6) fraction *= 10;
  return whole * kRhoScale + fraction;
}

// "table=2,other=1.5" -> {table: 2000000, other: 1500000}.
std::map<std::string, std::int64_t> ParseShares(const std::string& text) {
  std::map<std::string, std::int64_t> shares;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error::InvalidInput("option --rho-split: expected TABLE=SHARE, got '" + item + "'");
    }
    if (!shares.emplace(item.substr(0, eq), ParseRho("rho-split", item.substr(eq + 1))).second) {
      throw Error::InvalidInput("option --rho-split: table '" + item.substr(0, eq) + "' twice");
    }
    start = comma + 1;
  }
  return shares;
}

class PublishCommand : public Command {
 public:
  std::string_view name() const override { return "publish"; }
  std::string_view summary() const override {
    return "publish an open dataset release (differentially private tables, CSV + Avro + DCAT)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("out", "folder of releases", "DIR", true));
    options.addOption(ValueOption("release", "release name (default: r + content hash)", "NAME"));
    options.addOption(ValueOption("origin", "only records of this origin region", "REGION"));
    options.addOption(ValueOption("series", "dataset series (default hub-<region>)", "NAME"));
    options.addOption(
        ValueOption("rho", "privacy loss (zCDP rho) this release spends (default 1)", "RHO"));
    options.addOption(
        ValueOption("budget", "total rho of a new series (default 4; fixed once set)", "RHO"));
    options.addOption(ValueOption(
        "rho-split",
        "shares of rho per table, TABLE=SHARE,... for all 5 tables (default: equal shares)",
        "SHARES"));
    options.addOption(ValueOption(
        "base-url", "public URL of this hub's HTTP API (default http://127.0.0.1:8080)", "URL"));
    options.addOption(ValueOption("licence", "licence IRI (default CC BY 4.0)", "IRI"));
    options.addOption(ValueOption("contact", "contact IRI (mailto: or https:)", "IRI"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    const PublishOptions options = Options(args);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const PublishSummary s = Publish(store, options, now);
    out << s.path.string() << "\n";
    const auto budget = ReadBudget(store, s.series);
    std::cerr << std::fixed << std::setprecision(2) << "release " << s.release << " (series "
              << s.series << " #" << s.seq
              << (s.unchanged ? ", unchanged: identical release exists" : "")
              << (s.reused_spend ? ", same data as before: no budget spent" : "")
              << "): " << s.records << " records, " << s.rows << " rows in 5 tables, rho "
              << RhoText(options.rho_micro) << "; series spent "
              << RhoText(budget ? budget->spent_micro : 0) << " of "
              << RhoText(budget ? budget->budget_micro : 0) << ", "
              << RhoText(budget ? budget->remaining_micro() : 0) << " left; " << s.files
              << " files, " << s.bytes << " bytes, " << s.seconds << " s\n";
    return 0;
  }

 private:
  static PublishOptions Options(const ParsedArgs& args) {
    PublishOptions options;
    options.out_dir = args.Require("out");
    options.release = args.Get("release");
    options.series = args.Get("series");
    if (auto rho = args.Get("rho")) options.rho_micro = ParseRho("rho", *rho);
    if (auto budget = args.Get("budget")) options.budget_micro = ParseRho("budget", *budget);
    if (auto split = args.Get("rho-split")) options.rho_shares_micro = ParseShares(*split);
    if (auto url = args.Get("base-url")) options.base_url = *url;
    if (auto licence = args.Get("licence")) options.licence = *licence;
    if (auto contact = args.Get("contact")) options.contact = *contact;
    if (auto origin = args.Get("origin")) {
      options.origin = ResolveRegion(*origin);
      if (!options.origin) {
        throw Error::InvalidInput("option --origin: '" + *origin + "' is not a region");
      }
    }
    return options;
  }
};

CAREHUB_REGISTER_COMMAND(PublishCommand);

}  // namespace
}  // namespace carehub::cli
