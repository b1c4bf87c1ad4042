// carehub: one hub per region. `carehub help` lists the subcommands; `carehub CMD --help`
// shows one subcommand's options (Poco::Util::HelpFormatter).
#include <Poco/Exception.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/OptionException.h>
#include <Poco/Util/OptionProcessor.h>

#include <iostream>

#include "cli/command.h"
#include "schemas/error.h"

namespace {

using carehub::cli::Command;

void PrintUsage(const std::vector<std::unique_ptr<Command>>& commands) {
  std::cout << "usage: carehub COMMAND [options]\n\ncommands:\n";
  for (const auto& command : commands) {
    std::string name(command->name());
    name.resize(12, ' ');
    std::cout << "  " << name << command->summary() << "\n";
  }
  std::cout << "\n`carehub COMMAND --help` shows a command's options.\n";
}

void PrintCommandHelp(const Command& command, const Poco::Util::OptionSet& options) {
  Poco::Util::HelpFormatter formatter(options);
  formatter.setUnixStyle(true);
  formatter.setCommand("carehub " + std::string(command.name()));
  formatter.setUsage("[options] [FILE...]");
  formatter.setHeader(std::string(command.summary()));
  formatter.format(std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  auto commands = carehub::cli::MakeAllCommands();
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help") {
    PrintUsage(commands);
    return argc < 2 ? 2 : 0;
  }
  const std::string wanted = argv[1];
  Command* command = nullptr;
  for (auto& candidate : commands) {
    if (candidate->name() == wanted) command = candidate.get();
  }
  if (command == nullptr) {
    std::cerr << "carehub: unknown command '" << wanted << "' (try `carehub help`)\n";
    return 2;
  }
  Poco::Util::OptionSet options;
  command->DefineOptions(options);
  options.addOption(carehub::cli::FlagOption("help", "show this help"));
  carehub::cli::ParsedArgs args;
  try {
    Poco::Util::OptionProcessor processor(options);
    processor.setUnixStyle(true);
    for (int i = 2; i < argc; ++i) {
      std::string name, value;
      if (processor.process(argv[i], name, value)) {
        if (!name.empty()) args.Add(name, value);
      } else {
        args.AddPositional(argv[i]);
      }
    }
    if (args.Has("help")) {
      PrintCommandHelp(*command, options);
      return 0;
    }
    processor.checkRequired();
  } catch (const Poco::Util::OptionException& e) {
    std::cerr << "carehub " << wanted << ": " << e.displayText() << "\n";
    return 2;
  }
  try {
    return command->Run(args, std::cout);
  } catch (const carehub::Error& e) {
    std::cerr << "carehub " << wanted << ": " << carehub::ErrorKindName(e.kind()) << ": "
              << e.what() << "\n";
    return e.kind() == carehub::ErrorKind::kInvalidInput ? 2 : 1;
  } catch (const Poco::Exception& e) {
    std::cerr << "carehub " << wanted << ": " << e.displayText() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "carehub " << wanted << ": " << e.what() << "\n";
    return 1;
  }
}
