// The table of subcommands. Each subcommand lives in its own cli/<name>_command.cc and
// exposes one factory, declared here.
#include "cli/command.h"

namespace carehub::cli {

std::unique_ptr<Command> MakeSchemasCommand();

std::vector<std::unique_ptr<Command>> MakeAllCommands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(MakeSchemasCommand());
  return commands;
}

}  // namespace carehub::cli
