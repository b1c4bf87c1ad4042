// `carehub quarantine --dir D [--json] [--limit N] [--raw]`: the rows this hub rejected, as
// file, row, field, reason. The raw row may hold personal data (names, ID numbers): it is shown
// only with --raw, for the operator of this hub on this machine, and never leaves the hub.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include "cli/command.h"
#include "hub/store/store.h"

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
    options.addOption(ValueOption("limit", "show at most N rows (default: all)", "N"));
    options.addOption(FlagOption(
        "raw", "also show the raw row; it may contain personal data: local display only"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    const bool raw = args.Has("raw");
    const auto rows = store.ListQuarantine(args.GetInt("limit", -1));
    const std::int64_t total = store.QuarantineCount();
    if (args.Has("json")) {
      Poco::JSON::Object result;
      Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
      for (const auto& q : rows) {
        Poco::JSON::Object::Ptr row = new Poco::JSON::Object;
        row->set("file", q.file);
        row->set("row", q.row);
        row->set("field", q.field);
        row->set("reason", q.reason);
        if (raw) row->set("raw", q.raw);
        list->add(row);
      }
      result.set("total", total);
      result.set("rows", list);
      result.stringify(out);
      out << "\n";
      return 0;
    }
    out << "file\trow\tfield\treason" << (raw ? "\traw" : "") << "\n";
    for (const auto& q : rows) {
      out << q.file << "\t" << q.row << "\t" << q.field << "\t" << q.reason;
      if (raw) out << "\t" << q.raw;
      out << "\n";
    }
    out << "total=" << total << " shown=" << rows.size() << "\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(QuarantineCommand);

}  // namespace
}  // namespace carehub::cli
