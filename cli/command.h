// The `carehub` command line: each subcommand is a Command with its own Poco::Util::OptionSet.
// main.cc parses argv with Poco::Util::OptionProcessor into ParsedArgs and calls Run.
// Run returns the process exit code; carehub::Error thrown out of Run is printed (kind and
// message) by main with exit code 1 (2 for usage errors). Commands write results to `out`
// and diagnostics to std::cerr; neither ever carries personal data.
#pragma once

#include <Poco/Util/OptionSet.h>

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace carehub::cli {

class ParsedArgs {
 public:
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given for an option, or nullopt.
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& fallback) const;
  // Throws Error::InvalidInput naming the option when it is missing.
  std::string Require(const std::string& name) const;
  // Parses an integer/double option; throws InvalidInput naming the option on bad text.
  long long GetInt(const std::string& name, long long fallback) const;
  double GetDouble(const std::string& name, double fallback) const;
  const std::vector<std::string>& All(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  void Add(const std::string& name, const std::string& value) { values_[name].push_back(value); }
  void AddPositional(const std::string& value) { positional_.push_back(value); }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

class Command {
 public:
  virtual ~Command() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view summary() const = 0;
  // Options of this subcommand (Poco::Util::Option, full names, `--name value` or `--name=value`).
  virtual void DefineOptions(Poco::Util::OptionSet& options) const = 0;
  virtual int Run(const ParsedArgs& args, std::ostream& out) = 0;
};

// Helpers for option definitions.
Poco::Util::Option ValueOption(const std::string& name, const std::string& description,
                               const std::string& arg_name, bool required = false);
Poco::Util::Option FlagOption(const std::string& name, const std::string& description);

// Every subcommand registers its factory from its own file (cli/<name>_command.cc) with
//   CAREHUB_REGISTER_COMMAND(SchemasCommand);
// so adding a subcommand touches no shared file. MakeAllCommands returns them sorted by name.
using CommandFactory = std::unique_ptr<Command> (*)();
bool RegisterCommand(CommandFactory factory);
std::vector<std::unique_ptr<Command>> MakeAllCommands();

#define CAREHUB_REGISTER_COMMAND(Type)                                               \
  [[maybe_unused]] static const bool kRegistered##Type = ::carehub::cli::RegisterCommand( \
      []() -> std::unique_ptr<::carehub::cli::Command> { return std::make_unique<Type>(); })

}  // namespace carehub::cli
