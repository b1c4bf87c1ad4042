// `carehub compact --dir D [--no-vacuum] [--batch N]`: compresses the change-log bodies a hub
// still stores raw (hub/store/compact.h; a hub upgraded from before migration step 12 keeps its
// old bodies raw) and gives the file its free pages back with VACUUM. Prints
//   compact: raw_before=N compressed=M raw_after=K body_bytes=B1->B2
//   vacuum: done | skipped: WHY | not asked
//   file: F1 -> F2 bytes
// Every body reads back byte for byte (checked before each row is rewritten), so digests,
// hashes and served batches do not change. Safe to interrupt: run it again to finish.
#include <iostream>

#include "cli/command.h"
#include "hub/store/compact.h"
#include "hub/store/store.h"

namespace carehub::cli {
namespace {

class CompactCommand : public Command {
 public:
  std::string_view name() const override { return "compact"; }
  std::string_view summary() const override {
    return "compress bodies stored raw and give free pages back (VACUUM)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(FlagOption("no-vacuum", "compress only; leave the free pages in the file"));
    options.addOption(
        ValueOption("batch", "change rows rewritten per transaction (default 10000)", "N"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    CompactOptions options;
    options.batch_rows = args.GetInt("batch", options.batch_rows);
    options.vacuum = !args.Has("no-vacuum");
    std::int64_t reported = 0;
    options.progress = [&reported](std::int64_t compressed) {
      if (compressed - reported < 100000) return;
      reported = compressed;
      std::cerr << "compact: " << compressed << " bodies compressed so far\n";
    };
    const CompactReport r = CompactBodies(store, options);
    out << "compact: raw_before=" << r.raw_before << " compressed=" << r.compressed
        << " raw_after=" << r.raw_after << " body_bytes=" << r.body_bytes_before << "->"
        << r.body_bytes_after << "\n";
    out << "vacuum: "
        << (r.vacuumed         ? "done"
            : r.vacuum_skipped ? "skipped: " + *r.vacuum_skipped
                               : std::string("not asked"))
        << "\n";
    out << "file: " << r.file_bytes_before << " -> " << r.file_bytes_after << " bytes\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(CompactCommand);

}  // namespace
}  // namespace carehub::cli
