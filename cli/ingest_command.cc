// `carehub ingest --dir D [--profile REGION/KIND] [--json] FILE...`: validates
// native files into the hub store; prints one summary line per file and a
// total. Exit 0 even with quarantined rows; non-zero for an unreadable file or
// an unknown profile (checked for every file before anything is written).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "hub/store/ingest.h"
#include "hub/store/report_json.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

// Largest batch of the default, growing batch size (hub/store/ingest.h
// IngestOptions::max_batch_size).
constexpr std::int64_t kMaxAdaptiveBatch = 400000;

// "\r<file> 42% 123.4/300.0 MB" on a terminal, at most every 200 ms.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)) {}
  void operator()(std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && done < total) return;
    last_ = now;
    const double mb = 1024.0 * 1024.0;
    std::fprintf(stderr, "\r%s %3d%% %.1f/%.1f MB", label_.c_str(),
                 total ? static_cast<int>(100.0 * done / total) : 100, done / mb, total / mb);
    std::fflush(stderr);
  }
  void Done() const { std::fprintf(stderr, "\r\033[K"); }

 private:
  std::string label_;
  std::chrono::steady_clock::time_point last_{};
};

Poco::JSON::Object::Ptr ToJson(const IngestSummary& s) {
  Poco::JSON::Object::Ptr json = IngestSummaryJson(s);
  json->set("file", s.file);
  return json;
}

// The hub's engine options with the --max-* limits of the command line.
EngineOptions EngineOptionsWithLimits(const Store& store, const ParsedArgs& args) {
  EngineOptions options = EngineOptionsFor(store);
  ReadLimits& limits = options.limits;
  auto positive = [&args](const char* name, long long fallback) {
    const long long v = args.GetInt(name, fallback);
    if (v < 1) throw Error::InvalidInput(std::string("--") + name + " must be at least 1");
    return v;
  };
  limits.max_field_bytes = static_cast<std::size_t>(
      positive("max-field-bytes", static_cast<long long>(limits.max_field_bytes)));
  limits.max_row_bytes = static_cast<std::size_t>(
      positive("max-row-bytes", static_cast<long long>(limits.max_row_bytes)));
  limits.max_file_bytes = static_cast<std::uint64_t>(
      positive("max-file-bytes", static_cast<long long>(limits.max_file_bytes)));
  limits.max_depth = static_cast<int>(positive("max-depth", limits.max_depth));
  return options;
}

class IngestCommand : public Command {
 public:
  std::string_view name() const override { return "ingest"; }
  std::string_view summary() const override {
    return "validate native files into the hub store "
           "(read/accepted/quarantined)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption(
        "profile", "connector profile, e.g. shanghai/assessment (detected when omitted)",
        "REGION/KIND"));
    options.addOption(FlagOption("json", "print the summary as one JSON object"));
    options.addOption(
        FlagOption("no-bulk-load",
                   "keep the record indexes and id probes even when the hub holds "
                   "none of its own records yet (default: the bulk path, docs/STORE.md)"));
    const ReadLimits defaults;
    options.addOption(
        ValueOption("max-field-bytes",
                    "longest field value; a row with a longer one is quarantined (default " +
                        std::to_string(defaults.max_field_bytes) + ")",
                    "N"));
    options.addOption(ValueOption(
        "max-row-bytes",
        "longest CSV record / JSON element / XML record; longer is quarantined (default " +
            std::to_string(defaults.max_row_bytes) + ")",
        "N"));
    options.addOption(ValueOption("max-file-bytes",
                                  "largest file; a larger one is refused whole (default " +
                                      std::to_string(defaults.max_file_bytes) + ")",
                                  "N"));
    options.addOption(ValueOption("max-depth",
                                  "deepest JSON/XML nesting; deeper is quarantined (default " +
                                      std::to_string(defaults.max_depth) + ")",
                                  "N"));
    options.addOption(ValueOption(
        "batch-size",
        "accepted rows per transaction, fixed (at least 1000; default: 50000, growing with the "
        "store to 400000)",
        "N"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& files = args.positional();
    if (files.empty()) throw Error::InvalidInput("no input FILE given");
    Store store = Store::Open(args.Require("dir"));
    ConnectorEngine engine(EngineOptionsWithLimits(store, args));
    IngestOptions options;
    options.profile = args.Get("profile");
    options.batch_size = args.GetInt("batch-size", options.batch_size);
    if (!args.Has("batch-size")) options.max_batch_size = kMaxAdaptiveBatch;
    options.bulk_load = !args.Has("no-bulk-load");
    if (options.batch_size < 1000) {
      throw Error::InvalidInput("--batch-size must be at least 1000 (the store contract)");
    }
    // Fail before writing anything: every file readable, the profile known.
    if (options.profile) engine.FindProfile(*options.profile);
    for (const auto& file : files) {
      if (::access(file.c_str(), R_OK) != 0 || !std::filesystem::is_regular_file(file)) {
        throw Error::IoError("cannot read " + file);
      }
    }

    const bool json = args.Has("json");
    const bool terminal = ::isatty(STDERR_FILENO) != 0;
    Ingester ingester(store, engine);
    IngestSummary total;
    Poco::JSON::Array::Ptr per_file = new Poco::JSON::Array;
    for (const auto& file : files) {
      Progress progress(std::filesystem::path(file).filename().string());
      IngestOptions file_options = options;
      if (terminal) file_options.on_progress = [&progress](auto d, auto t) { progress(d, t); };
      const IngestSummary s = ingester.IngestFile(file, file_options);
      if (terminal) progress.Done();
      total.read += s.read;
      total.accepted += s.accepted;
      total.quarantined += s.quarantined;
      total.inserted += s.inserted;
      total.updated += s.updated;
      total.unchanged += s.unchanged;
      if (json) {
        per_file->add(ToJson(s));
      } else {
        out << s.file << " (" << s.profile << "): " << SummaryLine(s);
        if (s.resumed_after_row > 0) out << " resumed_after_row=" << s.resumed_after_row;
        out << "\n";
      }
    }
    if (json) {
      Poco::JSON::Object::Ptr result = ToJson(total);
      result->remove("file");
      result->remove("profile");
      result->set("files", per_file);
      result->stringify(out);
      out << "\n";
    } else {
      out << "total: " << SummaryLine(total) << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(IngestCommand);

}  // namespace
}  // namespace carehub::cli
