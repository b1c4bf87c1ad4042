// The registry of subcommands, filled by CAREHUB_REGISTER_COMMAND in each command's file.
#include <algorithm>

#include "cli/command.h"

namespace carehub::cli {
namespace {
std::vector<CommandFactory>& Factories() {
  static std::vector<CommandFactory> factories;
  return factories;
}
}  // namespace

bool RegisterCommand(CommandFactory factory) {
  Factories().push_back(factory);
  return true;
}

std::vector<std::unique_ptr<Command>> MakeAllCommands() {
  std::vector<std::unique_ptr<Command>> commands;
  for (CommandFactory factory : Factories()) commands.push_back(factory());
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a->name() < b->name(); });
  return commands;
}

}  // namespace carehub::cli
