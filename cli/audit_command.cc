// `carehub audit --dir D [--id ID | --token HEX] [--limit N] [--json]`: the access log
// (hub/store/access_log.h) — who was shown which personal data, when, through which route and
// for what stated purpose — and whether its hash chain verifies (exit status 1 when it does
// not). With --id the identifier is hashed into its person tokens here, in this process, and
// only the accesses that returned that person's records are listed: a resident, through the
// department that serves them, can learn who read their records. The identifier is never stored,
// logged or echoed.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <sodium.h>

#include <chrono>
#include <ctime>

#include "cli/command.h"
#include "connectors/identifiers.h"
#include "connectors/person_token.h"
#include "hub/store/access_log.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

std::string UtcTime(std::int64_t at_ms) {
  const std::time_t seconds = static_cast<std::time_t>(at_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The person tokens of an identifier under every scheme whose format it has; the copies of the
// identifier are wiped.
std::vector<Hmac256> TokensOfIdentifier(std::string raw, Store& store) {
  std::vector<Hmac256> tokens =
      PersonTokensOfIdentifier(raw, PersonTokenizer(store.federation_key()));
  if (tokens.empty()) {
    throw Error::InvalidInput(
        "option --id: not a valid PRC resident id, HKID or Macau id (check digit or format)");
  }
  return tokens;
}

Hmac256 ParseToken(const std::string& text) {
  const auto token = ParseTokenHex(text);
  if (!token) throw Error::InvalidInput("option --token: expected 64 hex digits");
  return *token;
}

void PrintJson(const std::vector<AccessEntry>& entries, const AccessLogCheck& check,
               std::ostream& out) {
  Poco::JSON::Object root(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Object::Ptr chain = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  chain->set("entries", check.entries);
  chain->set("ok", check.ok());
  if (!check.ok()) {
    chain->set("first_bad_seq", *check.first_bad_seq);
    chain->set("problem", check.problem);
  }
  root.set("chain", chain);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const AccessEntry& e : entries) items->add(AccessEntryJson(e));
  root.set("items", items);
  root.stringify(out, 2);
  out << "\n";
}

void PrintText(const std::vector<AccessEntry>& entries, const AccessLogCheck& check,
               std::ostream& out) {
  out << "seq\tat\tactor\trole\troute\tcount\tpurpose\n";
  for (const AccessEntry& e : entries) {
    out << e.seq << "\t" << UtcTime(e.at_ms) << "\t" << e.actor << "\t" << e.role << "\t" << e.route
        << "\t" << e.count << "\t" << e.purpose.value_or("-") << "\n";
  }
  out << "access log: " << check.entries << " entries, chain "
      << (check.ok()
              ? "verified"
              : "BROKEN at entry " + std::to_string(*check.first_bad_seq) + ": " + check.problem)
      << "; shown=" << entries.size() << "\n";
}

class AuditCommand : public Command {
 public:
  std::string_view name() const override { return "audit"; }
  std::string_view summary() const override {
    return "list and verify the access log (who was shown which personal data)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption(
        "id", "only accesses to this person's records (hashed here, never stored)", "ID"));
    options.addOption(ValueOption("token", "only accesses to this person token", "HEX"));
    options.addOption(ValueOption("limit", "show at most N entries (default 1000)", "N"));
    options.addOption(FlagOption("json", "print JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    Store store = Store::Open(args.Require("dir"));
    std::vector<Hmac256> persons;
    if (auto id = args.Get("id")) persons = TokensOfIdentifier(*id, store);
    if (auto token = args.Get("token")) persons.push_back(ParseToken(*token));
    const std::int64_t limit = args.GetInt("limit", 1000);
    if (limit < 1) throw Error::InvalidInput("option --limit: expected >= 1");
    const AccessLogCheck check = VerifyAccessLog(store);
    const std::vector<AccessEntry> entries = ListAccess(store, persons, 0, limit);
    if (args.Has("json")) {
      PrintJson(entries, check, out);
    } else {
      PrintText(entries, check, out);
    }
    return check.ok() ? 0 : 1;
  }
};

CAREHUB_REGISTER_COMMAND(AuditCommand);

}  // namespace
}  // namespace carehub::cli
