// `carehub keys init|show --dir D [--json]`: the hub's CURVE (transport) and Ed25519 (head
// signature) key pairs. `init` creates them when absent (carehub init already does); `show`
// prints the public halves that other members give to `carehub peers add`.
#include <Poco/JSON/Object.h>

#include "cli/command.h"
#include "hub/store/keys.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class KeysCommand : public Command {
 public:
  std::string_view name() const override { return "keys"; }
  std::string_view summary() const override {
    return "init|show the hub's CURVE and signing keys (public halves for peers add)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(FlagOption("json", "print the public keys as JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    const std::string action = positional.empty() ? "show" : positional[0];
    const std::string dir = args.Require("dir");
    if (action == "init") {
      if (HubKeys::Exist(dir)) {
        std::cerr << "keys: " << dir << "/keys exists already; keeping it\n";
      } else {
        HubKeys::Create(dir);
      }
    } else if (action != "show") {
      throw Error::InvalidInput("unknown action '" + action + "' (init|show)");
    }
    Store store = Store::Open(dir);
    if (args.Has("json")) {
      Poco::JSON::Object json;
      json.set("region", store.region());
      json.set("curve_public", store.keys().curve_public());
      json.set("sign_public", store.keys().sign_public_hex());
      json.stringify(out);
      out << "\n";
    } else {
      out << "region      " << store.region() << "\n"
          << "curve_public " << store.keys().curve_public() << "\n"
          << "sign_public  " << store.keys().sign_public_hex() << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(KeysCommand);

}  // namespace
}  // namespace carehub::cli
