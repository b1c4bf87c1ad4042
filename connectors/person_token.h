// Person tokens: HMAC-SHA256(federation key, scheme name + ":" + normalised identifier), the only
// form in which a person travels between hubs (libsodium crypto_auth_hmacsha256). The key's
// inner/outer state is prepared once, so one token costs two SHA-256 blocks. Immutable after
// construction: Token may run concurrently. Holds the key material; never logs it.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

class PersonTokenizer {
 public:
  // Throws Error::InvalidInput for an empty key.
  explicit PersonTokenizer(const std::vector<std::uint8_t>& federation_key);
  ~PersonTokenizer();
  PersonTokenizer(const PersonTokenizer&) = delete;
  PersonTokenizer& operator=(const PersonTokenizer&) = delete;

  // `normalised` as given by NormaliseIdentifier.
  PersonToken Token(IdScheme scheme, std::string_view normalised) const;
  // Same construction for any other label, e.g. ("CERT", certificate number).
  Hmac256 Mac(std::string_view label, std::string_view value) const;

 private:
  crypto_auth_hmacsha256_state keyed_;
};

}  // namespace carehub
