// `carehub peers add|list|remove --dir D ...`: the federation members this hub trusts. A member
// with --endpoint is dialled by `carehub serve` / `carehub sync`; one without is trusted as an
// origin (its head signatures verify, it may connect) but not dialled.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <iomanip>

#include "cli/command.h"
#include "hub/exchange/peers.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

class PeersCommand : public Command {
 public:
  std::string_view name() const override { return "peers"; }
  std::string_view summary() const override {
    return "add|list|remove federation members (CURVE key, signing key, endpoint)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR", true));
    options.addOption(ValueOption("name", "member name (add, remove)", "N"));
    options.addOption(ValueOption("region", "member region code or alias (add)", "R"));
    options.addOption(ValueOption("curve-key", "member CURVE public key, Z85 (add)", "Z85"));
    options.addOption(ValueOption("sign-key", "member Ed25519 public key, hex (add)", "HEX"));
    options.addOption(
        ValueOption("endpoint", "tcp://host:port to dial (add; omit = not dialled)", "URL"));
    options.addOption(FlagOption("json", "list as JSON"));
  }
  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    const std::string action = positional.empty() ? "list" : positional[0];
    Store store = Store::Open(args.Require("dir"));
    if (action == "add") {
      Peer peer;
      peer.name = args.Require("name");
      peer.region = args.Require("region");
      peer.curve_key = args.Require("curve-key");
      peer.sign_key = ParseSignPublicKey(args.Require("sign-key"));
      peer.endpoint = args.Get("endpoint");
      AddPeer(store.db(), peer, store.region());
      out << "added member " << peer.name << "\n";
      return 0;
    }
    if (action == "remove") {
      const std::string name = args.Require("name");
      if (!RemovePeer(store.db(), name)) throw Error::NotFound("no member named " + name);
      out << "removed member " << name << "\n";
      return 0;
    }
    if (action != "list")
      throw Error::InvalidInput("unknown action '" + action + "' (add|list|remove)");
    const auto peers = ListPeers(store.db());
    if (args.Has("json")) {
      Poco::JSON::Array array;
      for (const Peer& peer : peers) {
        Poco::JSON::Object item;
        item.set("name", peer.name);
        item.set("region", peer.region);
        item.set("curve_key", peer.curve_key);
        item.set("sign_key", ToHex(peer.sign_key));
        if (peer.endpoint) item.set("endpoint", *peer.endpoint);
        array.add(item);
      }
      array.stringify(out);
      out << "\n";
      return 0;
    }
    for (const Peer& peer : peers) {
      out << std::left << std::setw(12) << peer.name << " " << peer.region << " " << peer.curve_key
          << " " << peer.endpoint.value_or("(not dialled)") << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(PeersCommand);

}  // namespace
}  // namespace carehub::cli
