// What the HTTP API parses from a client before any route runs: the request head with Poco's
// HTTPRequest::read (as Poco's server does), the URI's path segments and query parameters
// (Poco::URI, as hub/http/router.cc does) and a JSON object body (ApiCall::ReadJsonObject).
// Nothing here may crash; errors are Poco exceptions the router turns into 400s.
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/URI.h>

#include <sstream>

#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(carehub::fuzz::AsText(data, size));
  const std::size_t head_end = text.find("\r\n\r\n");
  std::istringstream head(
      text.substr(0, head_end == std::string::npos ? text.size() : head_end + 4));
  try {
    Poco::Net::HTTPRequest request;
    request.read(head);
    const Poco::URI uri(request.getURI());
    std::vector<std::string> segments;
    uri.getPathSegments(segments);
    for (const auto& [key, value] : uri.getQueryParameters()) {
      CAREHUB_FUZZ_CHECK(key.size() + value.size() <= text.size() * 3);
    }
  } catch (const Poco::Exception&) {
  }
  if (head_end != std::string::npos) {
    try {
      Poco::JSON::Parser parser;
      parser.setDepth(32);
      (void)parser.parse(text.substr(head_end + 4));
    } catch (const Poco::Exception&) {
    }
  }
  return 0;
}
