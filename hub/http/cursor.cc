// Paging cursors of the API (router.h): opaque base64url of "<query digest>:<position>", so a
// cursor is only accepted with the query parameters it was made for.
#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/StreamCopier.h>
#include <sodium.h>

#include <sstream>

#include "hub/http/router.h"

namespace carehub::http {

std::string QueryDigest(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view p : parts) {
    joined += p;
    joined += '\x1f';
  }
  unsigned char hash[crypto_generichash_BYTES_MIN];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(joined.data()),
                     joined.size(), nullptr, 0);
  char hex[2 * sizeof hash + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return std::string(hex, 8);
}

std::string EncodeCursor(const std::string& position, const std::string& query_digest) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder << query_digest << ':' << position;
  encoder.close();
  return out.str();
}

std::optional<std::string> DecodeCursor(const std::optional<std::string>& cursor,
                                        const std::string& query_digest) {
  if (!cursor) return std::nullopt;
  std::string text;
  try {
    std::istringstream in(*cursor);
    Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    Poco::StreamCopier::copyToString(decoder, text);
  } catch (const Poco::Exception&) {
    text.clear();
  }
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon + 1 >= text.size()) {
    throw HttpError::BadParameter("cursor", "not a cursor of this API");
  }
  if (text.substr(0, colon) != query_digest) {
    throw HttpError::BadParameter("cursor", "belongs to a query with other parameters");
  }
  return text.substr(colon + 1);
}

}  // namespace carehub::http
