#include "connectors/person_token.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

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

}  // namespace
}  // namespace carehub
