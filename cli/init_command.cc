// `carehub init --dir D --region R [--federation-key FILE] [--json]`: creates a hub directory
// (carehub.db, federation.key, keys/) or checks an existing one of the same region.
#include <Poco/JSON/Object.h>

#include "cli/command.h"
#include "hub/store/store.h"

namespace carehub::cli {
namespace {

class InitCommand : public Command {
 public:
  std::string_view name() const override { return "init"; }
  std::string_view summary() const override {
    return "create a hub directory: store, federation key, CURVE and signing keys";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory (created when missing)", "DIR", true));
    options.addOption(ValueOption(
        "region", "region of this hub: 6-digit GB/T 2260 code or sh js zj ah gd hk mo", "R", true));
    options.addOption(ValueOption(
        "federation-key",
        "file with the federation's shared 32-byte key; without it a fresh key is created",
        "FILE"));
    options.addOption(FlagOption("json", "print the result as JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    InitOptions options;
    options.region = args.Require("region");
    if (auto key = args.Get("federation-key")) options.federation_key_file = *key;
    const std::string dir = args.Require("dir");
    Store store = Store::Init(dir, options);
    if (args.Has("json")) {
      Poco::JSON::Object json;
      json.set("dir", dir);
      json.set("region", store.region());
      json.set("curve_public", store.keys().curve_public());
      json.set("sign_public", store.keys().sign_public_hex());
      json.stringify(out);
      out << "\n";
    } else {
      out << "hub " << dir << " region " << store.region() << "\n"
          << "curve public key " << store.keys().curve_public() << "\n"
          << "sign public key  " << store.keys().sign_public_hex() << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(InitCommand);

}  // namespace
}  // namespace carehub::cli
