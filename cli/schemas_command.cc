// `carehub schemas list|show NAME` — placeholder until the schema registry lands (issue 3).
#include "cli/command.h"
#include "schemas/embedded.h"

namespace carehub::embedded_schemas {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_schemas

namespace carehub::cli {
namespace {

class SchemasCommand : public Command {
 public:
  std::string_view name() const override { return "schemas"; }
  std::string_view summary() const override { return "list or show the canonical Avro schemas"; }
  void DefineOptions(Poco::Util::OptionSet&) const override {}
  int Run(const ParsedArgs&, std::ostream& out) override {
    for (std::size_t i = 0; i < embedded_schemas::kFileCount; ++i) {
      out << embedded_schemas::kFiles[i].path << "\n";
    }
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(SchemasCommand);

}  // namespace

}  // namespace carehub::cli
