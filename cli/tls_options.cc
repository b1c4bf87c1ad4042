#include "cli/tls_options.h"

#include "schemas/error.h"

namespace carehub::cli {

void AddTlsOptions(Poco::Util::OptionSet& options) {
  options.addOption(
      ValueOption("tls-cert", "serve HTTPS with this PEM certificate (chain)", "FILE"));
  options.addOption(ValueOption("tls-key", "the PEM private key of --tls-cert", "FILE"));
  options.addOption(
      ValueOption("tls-client-ca", "require client certificates signed by this PEM CA", "FILE"));
}

void ReadTlsOptions(const ParsedArgs& args, HttpOptions& http) {
  const auto cert = args.Get("tls-cert");
  const auto key = args.Get("tls-key");
  const auto client_ca = args.Get("tls-client-ca");
  if (cert.has_value() != key.has_value()) {
    throw Error::InvalidInput("options --tls-cert and --tls-key go together");
  }
  if (client_ca && !cert) {
    throw Error::InvalidInput("option --tls-client-ca needs --tls-cert and --tls-key");
  }
  if (cert) http.tls_cert = *cert;
  if (key) http.tls_key = *key;
  if (client_ca) http.tls_client_ca = *client_ca;
}

}  // namespace carehub::cli
