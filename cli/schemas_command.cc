// `carehub schemas list [--json]`: one line per compiled-in schema (full name, CRC-64-AVRO
// fingerprint of its Parsing Canonical Form as 16 hex digits, top-level field count, kind).
// `carehub schemas show NAME [--canonical]`: the .avsc as shipped (or its canonical form); NAME is
// "Assessment", "carehub.v1.Assessment" or the kind "assessment".
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdio>

#include "cli/command.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

std::string Hex(std::uint64_t fingerprint) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
  return hex;
}

const SchemaInfo* FindSchema(std::string_view name) {
  for (const SchemaInfo& info : BuiltinSchemas()) {
    const std::string_view full = info.name;
    const std::string_view simple = full.substr(full.rfind('.') + 1);
    if (name == full || name == simple || name == KindName(info.kind)) return &info;
  }
  return nullptr;
}

class SchemasCommand : public Command {
 public:
  std::string_view name() const override { return "schemas"; }
  std::string_view summary() const override {
    return "list the canonical Avro schemas or show one (schemas list|show NAME)";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(FlagOption("json", "list: print a JSON array"));
    options.addOption(FlagOption("canonical", "show: print the Parsing Canonical Form"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto& positional = args.positional();
    const std::string action = positional.empty() ? "list" : positional[0];
    if (action == "list") return List(args.Has("json"), out);
    if (action != "show") throw Error::InvalidInput("unknown action '" + action + "' (list|show)");
    if (positional.size() != 2) throw Error::InvalidInput("usage: carehub schemas show NAME");
    const SchemaInfo* info = FindSchema(positional[1]);
    if (info == nullptr) {
      throw Error::NotFound("no schema '" + positional[1] + "' (see carehub schemas list)");
    }
    const std::string& text = args.Has("canonical") ? info->canonical : info->json;
    out << text;
    if (text.empty() || text.back() != '\n') out << "\n";
    return 0;
  }

 private:
  static int List(bool json, std::ostream& out) {
    if (json) {
      Poco::JSON::Array array;
      for (const SchemaInfo& info : BuiltinSchemas()) {
        Poco::JSON::Object object;
        object.set("name", info.name);
        object.set("kind", std::string(KindName(info.kind)));
        object.set("fingerprint", Hex(info.fingerprint));
        object.set("fields", info.field_count);
        array.add(object);
      }
      array.stringify(out);
      out << "\n";
      return 0;
    }
    for (const SchemaInfo& info : BuiltinSchemas()) {
      out << info.name << "\t" << Hex(info.fingerprint) << "\t" << info.field_count << " fields\t"
          << KindName(info.kind) << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(SchemasCommand);

}  // namespace
}  // namespace carehub::cli
