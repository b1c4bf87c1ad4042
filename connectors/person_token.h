// Person tokens: HMAC-SHA256(federation key, scheme name + ":" + normalised identifier), the only
// form in which a person travels between hubs (schemas/sha256.h HmacSha256: OpenSSL's SHA-256 with
// the CPU's SHA extensions, ~3x libsodium's portable C; the same bytes). The key's inner/outer
// state is prepared once, so one token costs two SHA-256 blocks. Immutable after
// construction: Token may run concurrently. Holds the key material; never logs it.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"
#include "schemas/sha256.h"

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
  HmacSha256 keyed_;
};

// The tokens of a raw identifier as typed by a person (any case, blanks, parentheses) under every
// scheme whose format it has: a PRC resident id, an HKID or a Macau id. Empty when it has none.
// `raw` and the normalised copy are wiped here, so the identifier is gone once this returns; the
// caller's error message must not echo it.
std::vector<Hmac256> PersonTokensOfIdentifier(std::string& raw, const PersonTokenizer& tokenizer);

// A token (or any 32-byte MAC) from its 64 hex digits, either case; nullopt for anything else.
std::optional<Hmac256> ParseTokenHex(std::string_view hex);

}  // namespace carehub
