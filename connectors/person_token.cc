#include "connectors/person_token.h"

#include "connectors/identifiers.h"
#include "schemas/error.h"

namespace carehub {

namespace {

std::string_view KeyBytes(const std::vector<std::uint8_t>& federation_key) {
  if (federation_key.empty()) throw Error::InvalidInput("empty federation key");
  return {reinterpret_cast<const char*>(federation_key.data()), federation_key.size()};
}

}  // namespace

PersonTokenizer::PersonTokenizer(const std::vector<std::uint8_t>& federation_key)
    : keyed_(KeyBytes(federation_key)) {
  if (sodium_init() < 0) throw Error::IoError("libsodium failed to initialise");
}

PersonTokenizer::~PersonTokenizer() = default;

Hmac256 PersonTokenizer::Mac(std::string_view label, std::string_view value) const {
  return keyed_.Mac({label, ":", value});
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
