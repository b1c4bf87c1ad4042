// `carehub export --dir D --kind K [--origin R] --format avro|csv|ndjson
//  [--codec null|deflate|snappy] --out F|- [--force]`: the records of one kind as an Avro OCF
// file (the canonical records) or a flat CSV / NDJSON table without personal fields
// (docs/STORE.md). `--out -` streams to standard output (the summary then goes to stderr); an
// existing symbolic link at F is replaced only with --force, a device or other non-regular file
// never.
#include <Poco/JSON/Object.h>

#include <chrono>
#include <iostream>

#include "cli/command.h"
#include "hub/store/access_log.h"
#include "hub/store/export.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class ExportCommand : public Command {
 public:
  std::string_view name() const override { return "export"; }
  std::string_view summary() const override {
    return "export records of one kind as Avro OCF, CSV or NDJSON";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(
        ValueOption("kind", "assessment, caregiver, facility or sanction", "KIND", true));
    options.addOption(ValueOption("origin", "only records of this origin region", "R"));
    options.addOption(ValueOption("format", "avro, csv or ndjson", "FORMAT", true));
    options.addOption(
        ValueOption("codec", "Avro block codec: null (default), deflate, snappy", "CODEC"));
    options.addOption(ValueOption(
        "out", "output file (a regular file, replaced), or - for standard output", "FILE", true));
    options.addOption(
        FlagOption("force", "replace a symbolic link at --out (the link, not its target)"));
    options.addOption(FlagOption("json", "print the summary as JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    ExportOptions options;
    const std::string kind = args.Require("kind");
    const auto parsed_kind = ParseKind(kind);
    if (!parsed_kind) throw Error::InvalidInput("unknown --kind '" + kind + "'");
    options.kind = *parsed_kind;
    const std::string format = args.Require("format");
    const auto parsed_format = ParseExportFormat(format);
    if (!parsed_format) throw Error::InvalidInput("unknown --format '" + format + "'");
    options.format = *parsed_format;
    options.codec = args.GetOr("codec", "null");
    if (auto origin = args.Get("origin")) {
      const auto code = ResolveRegion(*origin);
      if (!code) throw Error::InvalidInput("unknown --origin '" + *origin + "'");
      options.origin = *code;
    }
    Store store = Store::Open(args.Require("dir"));
    const std::string path = args.Require("out");
    options.replace_symlink = args.Has("force");
    const bool to_stdout = path == "-";
    const auto start = std::chrono::steady_clock::now();
    const ExportSummary s = to_stdout ? ExportRecordsToStream(store, options, std::cout)
                                      : ExportRecords(store, options, path);
    LogBulkRead(store, format, s.records);
    std::ostream& report = to_stdout ? std::cerr : out;  // stdout carries the data
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (args.Has("json")) {
      Poco::JSON::Object json;
      json.set("out", path);
      json.set("records", s.records);
      json.set("bytes", s.bytes);
      json.set("seconds", seconds);
      json.stringify(report);
      report << "\n";
    } else {
      report << "exported records=" << s.records << " bytes=" << s.bytes << " to "
             << (to_stdout ? "standard output" : path) << "\n";
    }
    return 0;
  }

 private:
  // An export shows every record of the hub (with person tokens in Avro and NDJSON): it goes to
  // the access log as one bulk entry (hub/store/access_log.h), listing no ids, so an audit shows
  // who took a copy of everything and when.
  static void LogBulkRead(Store& store, const std::string& format, std::int64_t records) {
    AccessEntry entry;
    entry.actor = OsActor();
    entry.role = "cli";
    entry.route = "carehub export --format " + format;
    entry.purpose = "bulk export of all matching records";
    entry.count = records;
    AppendAccess(store, std::move(entry));
  }
};

CAREHUB_REGISTER_COMMAND(ExportCommand);

}  // namespace
}  // namespace carehub::cli
