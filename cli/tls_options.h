// The TLS options shared by `carehub http` and `carehub serve --http`: --tls-cert and --tls-key
// (PEM files; both or neither) and --tls-client-ca (PEM CA file: every client must then present
// a certificate it signed). See docs/API.md "Security" for a deployment.
#pragma once

#include <Poco/Util/OptionSet.h>

#include "cli/command.h"
#include "hub/http/server.h"

namespace carehub::cli {

void AddTlsOptions(Poco::Util::OptionSet& options);
// Copies the options into `http`; throws Error::InvalidInput for a key without a certificate, a
// certificate without a key, or a client CA without both.
void ReadTlsOptions(const ParsedArgs& args, HttpOptions& http);

}  // namespace carehub::cli
