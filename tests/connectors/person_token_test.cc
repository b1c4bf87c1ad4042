#include "connectors/person_token.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cctype>
#include <string>

#include "schemas/sha256.h"

namespace carehub {
namespace {

const std::vector<std::uint8_t> kKey(32, 0x5a);

TEST(PersonTokenTest, IdentifierAsTypedGivesTheTokenOfItsNormalisedForm) {
  PersonTokenizer tokenizer(kKey);
  std::string raw = " 34052419800101001x ";
  const std::vector<Hmac256> tokens = PersonTokensOfIdentifier(raw, tokenizer);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0], tokenizer.Token(IdScheme::kPrcResidentId, "34052419800101001X").token);
  EXPECT_EQ(raw.find_first_not_of('\0'), std::string::npos) << "the raw identifier is wiped";
}

TEST(PersonTokenTest, HkIdWithParenthesesIsTokenisedAsAnHkId) {
  PersonTokenizer tokenizer(kKey);
  std::string raw = "a123456(3)";
  const std::vector<Hmac256> tokens = PersonTokensOfIdentifier(raw, tokenizer);
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0], tokenizer.Token(IdScheme::kHkId, "A1234563").token);
}

TEST(PersonTokenTest, TextThatIsNoIdentifierGivesNoToken) {
  PersonTokenizer tokenizer(kKey);
  std::string raw = "not an id";
  EXPECT_TRUE(PersonTokensOfIdentifier(raw, tokenizer).empty());
  std::string bad_check = "34052419800101001Y";
  EXPECT_TRUE(PersonTokensOfIdentifier(bad_check, tokenizer).empty());
}

TEST(PersonTokenTest, TokenHexRoundTripsInEitherCaseAndRejectsAnythingElse) {
  PersonTokenizer tokenizer(kKey);
  const Hmac256 token = tokenizer.Mac("CERT", "X-1");
  std::string hex(2 * token.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), token.data(), token.size());
  hex.pop_back();
  EXPECT_EQ(ParseTokenHex(hex), token);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(ParseTokenHex(hex), token);
  EXPECT_FALSE(ParseTokenHex(hex.substr(1)));
  EXPECT_FALSE(ParseTokenHex(hex + "0"));
  EXPECT_FALSE(ParseTokenHex(std::string(63, '0') + "g"));
  EXPECT_FALSE(ParseTokenHex(""));
}

// The tokens are HMAC-SHA256 through OpenSSL (schemas/sha256.h): the same bytes as libsodium's,
// which made every token stored before session 11, for keys shorter than, as long as and longer
// than a SHA-256 block and messages of 0 to 3 blocks; and RFC 4231's test case 2.
TEST(PersonTokenTest, HmacThroughOpenSslEqualsLibsodiumAndRfc4231) {
  const HmacSha256 jefe("Jefe");
  const auto rfc = jefe.Mac({"what do ya want ", "for nothing?"});
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, rfc.data(), rfc.size());
  EXPECT_STREQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  for (std::size_t key_size : {1, 31, 32, 63, 64, 65, 130}) {
    std::string key(key_size, '\0');
    for (std::size_t i = 0; i < key_size; ++i) key[i] = static_cast<char>(i * 37 + key_size);
    const HmacSha256 ours(key);
    for (std::size_t n : {0, 1, 18, 55, 56, 63, 64, 65, 200}) {
      std::string message(n, '\0');
      for (std::size_t i = 0; i < n; ++i) message[i] = static_cast<char>(i * 11 + 3);
      crypto_auth_hmacsha256_state state;
      crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                                  key.size());
      crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                    message.size());
      Hmac256 expected;
      crypto_auth_hmacsha256_final(&state, expected.data());
      const std::string_view m(message);
      EXPECT_EQ(ours.Mac({m.substr(0, n / 3), m.substr(n / 3)}), expected) << key_size << " " << n;
    }
  }
  const std::vector<std::uint8_t> key(kKey);
  PersonTokenizer tokenizer(key);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  const std::string message = "PRC_RESIDENT_ID:34052419800101001X";
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  Hmac256 expected;
  crypto_auth_hmacsha256_final(&state, expected.data());
  EXPECT_EQ(tokenizer.Token(IdScheme::kPrcResidentId, "34052419800101001X").token, expected);
}

}  // namespace
}  // namespace carehub
