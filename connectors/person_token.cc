#include "connectors/person_token.h"

#include "connectors/identifiers.h"
#include "schemas/error.h"

namespace carehub {

PersonTokenizer::PersonTokenizer(const std::vector<std::uint8_t>& federation_key) {
  if (federation_key.empty()) throw Error::InvalidInput("empty federation key");
  if (sodium_init() < 0) throw Error::IoError("libsodium failed to initialise");
  crypto_auth_hmacsha256_init(&keyed_, federation_key.data(), federation_key.size());
}

PersonTokenizer::~PersonTokenizer() { sodium_memzero(&keyed_, sizeof keyed_); }

Hmac256 PersonTokenizer::Mac(std::string_view label, std::string_view value) const {
  crypto_auth_hmacsha256_state state = keyed_;
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(label.data()),
                                label.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(":"), 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(value.data()),
                                value.size());
  Hmac256 out;
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

PersonToken PersonTokenizer::Token(IdScheme scheme, std::string_view normalised) const {
  return PersonToken{scheme, Mac(IdSchemeName(scheme), normalised)};
}

std::vector<Hmac256> PersonTokensOfIdentifier(std::string& raw, const PersonTokenizer& tokenizer) {
  std::string normalised = NormaliseIdentifier(raw);
  sodium_memzero(raw.data(), raw.size());
  std::vector<Hmac256> tokens;
  for (IdScheme scheme : {IdScheme::kPrcResidentId, IdScheme::kHkId, IdScheme::kMoId}) {
    if (CheckIdentifier(scheme, normalised) == IdCheck::kOk) {
      tokens.push_back(tokenizer.Token(scheme, normalised).token);
    }
  }
  sodium_memzero(normalised.data(), normalised.size());
  return tokens;
}

std::optional<Hmac256> ParseTokenHex(std::string_view hex) {
  Hmac256 token{};
  std::size_t length = 0;
  if (hex.size() != 2 * token.size() ||
      sodium_hex2bin(token.data(), token.size(), hex.data(), hex.size(), nullptr, &length,
                     nullptr) != 0 ||
      length != token.size()) {
    return std::nullopt;
  }
  return token;
}

}  // namespace carehub
