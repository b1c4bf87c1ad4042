#include "hub/store/lookup_keys.h"

#include <sodium.h>

#include <algorithm>

#include "schemas/error.h"

namespace carehub {

std::int64_t RecordKey(std::string_view record_id) {
  static constexpr unsigned char kKey[crypto_shorthash_KEYBYTES] = {};
  unsigned char hash[crypto_shorthash_BYTES];
  crypto_shorthash(hash, reinterpret_cast<const unsigned char*>(record_id.data()), record_id.size(),
                   kKey);
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | hash[i];
  return static_cast<std::int64_t>(value);
}

std::int64_t TokenKey(std::string_view token_bytes) {
  if (token_bytes.size() < 8) throw Error::InvalidInput("person token shorter than 8 bytes");
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<std::uint8_t>(token_bytes[i]);
  return static_cast<std::int64_t>(value);
}

std::int64_t TokenKey(const Hmac256& token) {
  return TokenKey(std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
}

std::vector<std::int64_t> DroppedTokenKeys(const std::vector<Hmac256>& before,
                                           const std::vector<Hmac256>& after) {
  std::vector<std::int64_t> kept;
  kept.reserve(after.size());
  for (const Hmac256& token : after) kept.push_back(TokenKey(token));
  std::vector<std::int64_t> dropped;
  for (const Hmac256& token : before) {
    const std::int64_t key = TokenKey(token);
    if (std::find(kept.begin(), kept.end(), key) == kept.end() &&
        std::find(dropped.begin(), dropped.end(), key) == dropped.end()) {
      dropped.push_back(key);
    }
  }
  return dropped;
}

}  // namespace carehub
