// Identifier validation and normalisation: PRC resident id (GB 11643 MOD 11-2, incl. HK/Macau
// residence permits 810000/820000), HKID, Macau resident id (format only), USCC (GB 32100) and
// GB/T 2260 region codes. Pure functions on short strings, allocation-free except Normalise;
// thread-safe. Facts and worked examples: /work/shared/domain.md §3.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "schemas/record.h"

namespace carehub {

enum class IdCheck { kOk, kBadFormat, kBadCheckDigit };

// Upper case, with blanks and parentheses (ASCII and full-width) removed: "a123456(3)" ->
// "A1234563". The token of a person is computed from this form.
std::string NormaliseIdentifier(std::string_view raw);
// The same into `out` (cleared first), reusing its capacity.
void NormaliseIdentifierInto(std::string_view raw, std::string& out);

// On a normalised identifier. A PRC id needs 17 digits + digit/X, a real birth date and a known
// province prefix; an HKID 1-2 letters + 6 digits + 0-9/A; a Macau id 7 digits starting 1, 5 or
// 7 + a check digit (its algorithm is not public, so only the format is checked).
IdCheck CheckPrcResidentId(std::string_view id);
IdCheck CheckHkId(std::string_view id);
IdCheck CheckMoId(std::string_view id);
IdCheck CheckIdentifier(IdScheme scheme, std::string_view normalised);

// The check character of the first 17 digits of a PRC id ('0'..'9' or 'X'); '\0' if not digits.
char PrcCheckCharacter(std::string_view first17);
// The check character of an HKID body (1-2 letters + 6 digits; '0'..'9' or 'A'); '\0' if invalid.
char HkIdCheckCharacter(std::string_view body);
// The check character of the first 17 characters of a USCC; '\0' if outside the charset.
char UsccCheckCharacter(std::string_view first17);

// GB 32100: 18 characters of 0-9 A-H J-N P-R T U W-Y, and the check character.
bool IsValidUscc(std::string_view uscc);

// GB/T 2260: 6 digits with a known province prefix (11..15, 21..23, 31..37, 41..46, 50..54,
// 61..65, 71) or 810000 / 820000. Retired codes of real provinces (310230) pass.
bool IsValidRegionCode(std::string_view code);
bool IsKnownProvincePrefix(int two_digits);

// Birth date (YYYYMMDD at 7-14) and sex (17th digit: odd male) of a valid PRC id.
struct PrcIdFacts {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  Sex sex = Sex::kUnknown;
};
std::optional<PrcIdFacts> PrcIdDetails(std::string_view id);

}  // namespace carehub
