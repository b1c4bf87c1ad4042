// `carehub tokens create|list|revoke --dir D`: HTTP API tokens (hub/http/api_tokens.h).
//   create --role department|auditor|researcher [--region R]  prints the token, alone, once
//   list                                                      id, role, region, created, state
//   revoke --id ID
// Only a hash of a token's secret is stored, so a lost token is revoked and created again.
#include <chrono>
#include <iostream>

#include "cli/command.h"
#include "hub/http/api_tokens.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class TokensCommand : public Command {
 public:
  std::string_view name() const override { return "tokens"; }
  std::string_view summary() const override {
    return "create, list or revoke HTTP API tokens (create prints the token once)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("role", "department, auditor or researcher", "ROLE"));
    options.addOption(
        ValueOption("region", "department region: 6-digit code or alias (sh, gd, ...)", "REGION"));
    options.addOption(ValueOption("id", "token id (revoke)", "ID"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    if (positional.size() != 1) {
      throw Error::InvalidInput("give one action: create, list or revoke");
    }
    const std::string& action = positional[0];
    Store store = Store::Open(args.Require("dir"));
    if (action == "create") {
      const std::string role_name = args.Require("role");
      const auto role = ParseRole(role_name);
      if (!role) {
        throw Error::InvalidInput("option --role: '" + role_name +
                                  "' is not department, auditor or researcher");
      }
      const CreatedToken created = CreateApiToken(store, *role, args.Get("region"), NowMs());
      // stdout carries the token alone so that scripts can capture it; the rest goes to stderr.
      out << created.token << "\n";
      std::cerr << "created " << role_name << " token " << created.id
                << " (shown once; only its hash is stored)\n";
      return 0;
    }
    if (action == "list") {
      for (const TokenInfo& info : ListApiTokens(store)) {
        out << info.id << "  " << RoleName(info.role) << "  " << info.region.value_or("-") << "  "
            << info.created_at_ms << "  " << (info.revoked_at_ms ? "revoked" : "active") << "\n";
      }
      return 0;
    }
    if (action == "revoke") {
      const std::string id = args.Require("id");
      if (!RevokeApiToken(store, id, NowMs())) {
        throw Error::NotFound("no active token with id '" + id + "'");
      }
      out << "revoked " << id << "\n";
      return 0;
    }
    throw Error::InvalidInput("unknown action '" + action + "' (create|list|revoke)");
  }
};

CAREHUB_REGISTER_COMMAND(TokensCommand);

}  // namespace
}  // namespace carehub::cli
