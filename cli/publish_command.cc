// `carehub publish --dir D --out DIR [--release NAME] [--threshold 10] [--origin R]`: writes an
// open dataset release (hub/publish/publish.h, docs/DATASETS.md) and registers it for the HTTP API.
// Prints the release folder on stdout; a summary on stderr.
#include <chrono>
#include <iomanip>
#include <iostream>

#include "cli/command.h"
#include "hub/publish/publish.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class PublishCommand : public Command {
 public:
  std::string_view name() const override { return "publish"; }
  std::string_view summary() const override {
    return "publish an open dataset release (suppressed aggregates, CSV + Avro + DCAT)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("out", "folder of releases", "DIR", true));
    options.addOption(ValueOption("release", "release name (default: r + content hash)", "NAME"));
    options.addOption(ValueOption("threshold", "suppress counts 1..N-1 (default 10)", "N"));
    options.addOption(ValueOption("origin", "only records of this origin region", "REGION"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    PublishOptions options;
    options.out_dir = args.Require("out");
    options.release = args.Get("release");
    options.threshold = args.GetInt("threshold", 10);
    if (options.threshold < 1 || options.threshold > 1000000) {
      throw Error::InvalidInput("option --threshold: expected 1..1000000");
    }
    if (auto origin = args.Get("origin")) {
      options.origin = ResolveRegion(*origin);
      if (!options.origin) {
        throw Error::InvalidInput("option --origin: '" + *origin + "' is not a region");
      }
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const PublishSummary s = Publish(store, options, now);
    out << s.path.string() << "\n";
    std::cerr << std::fixed << std::setprecision(2) << "release " << s.release
              << (s.unchanged ? " (unchanged: identical release exists)" : "") << ": " << s.records
              << " records, " << s.cells << " cells, " << s.suppressed_primary << " suppressed + "
              << s.suppressed_secondary << " complementary, " << s.files << " files, " << s.bytes
              << " bytes, " << s.seconds << " s\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(PublishCommand);

}  // namespace
}  // namespace carehub::cli
