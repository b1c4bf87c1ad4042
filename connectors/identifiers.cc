#include "connectors/identifiers.h"

#include <chrono>

namespace carehub {
namespace {

constexpr int kPrcWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr char kPrcCheck[] = "10X98765432";
constexpr std::string_view kUsccChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr int kUsccWeights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

int UsccValue(char c) {
  std::size_t pos = kUsccChars.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

}  // namespace

std::string NormaliseIdentifier(std::string_view raw) {
  std::string out;
  NormaliseIdentifierInto(raw, out);
  return out;
}

void NormaliseIdentifierInto(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == ' ' || c == '\t' || c == '(' || c == ')' || c == '-') continue;
    // Full-width parentheses （） = EF BC 88 / EF BC 89, full-width space = E3 80 80.
    if (static_cast<unsigned char>(c) >= 0xE3 &&
        (raw.substr(i, 3) == "\xEF\xBC\x88" || raw.substr(i, 3) == "\xEF\xBC\x89" ||
         raw.substr(i, 3) == "\xE3\x80\x80")) {
      i += 2;
      continue;
    }
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    out.push_back(c);
  }
}

char PrcCheckCharacter(std::string_view first17) {
  if (first17.size() < 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    if (!IsDigit(first17[i])) return '\0';
    sum += (first17[i] - '0') * kPrcWeights[i];
  }
  return kPrcCheck[sum % 11];
}

std::optional<PrcIdFacts> PrcIdDetails(std::string_view id) {
  if (id.size() != 18 || !AllDigits(id.substr(0, 17))) return std::nullopt;
  PrcIdFacts f;
  f.year = (id[6] - '0') * 1000 + (id[7] - '0') * 100 + (id[8] - '0') * 10 + (id[9] - '0');
  f.month = static_cast<unsigned>((id[10] - '0') * 10 + (id[11] - '0'));
  f.day = static_cast<unsigned>((id[12] - '0') * 10 + (id[13] - '0'));
  std::chrono::year_month_day ymd{std::chrono::year{f.year}, std::chrono::month{f.month},
                                  std::chrono::day{f.day}};
  if (!ymd.ok() || f.year < 1850) return std::nullopt;
  f.sex = ((id[16] - '0') % 2 == 1) ? Sex::kMale : Sex::kFemale;
  return f;
}

IdCheck CheckPrcResidentId(std::string_view id) {
  if (id.size() != 18 || !AllDigits(id.substr(0, 17))) return IdCheck::kBadFormat;
  char last = id[17];
  if (!IsDigit(last) && last != 'X') return IdCheck::kBadFormat;
  int province = (id[0] - '0') * 10 + (id[1] - '0');
  if (!IsKnownProvincePrefix(province) && province != 81 && province != 82) {
    return IdCheck::kBadFormat;
  }
  if (!PrcIdDetails(id)) return IdCheck::kBadFormat;
  return PrcCheckCharacter(id) == last ? IdCheck::kOk : IdCheck::kBadCheckDigit;
}

char HkIdCheckCharacter(std::string_view body) {
  int letters = 0;
  while (letters < static_cast<int>(body.size()) && IsUpper(body[letters])) ++letters;
  if (letters < 1 || letters > 2 || body.size() != static_cast<std::size_t>(letters + 6) ||
      !AllDigits(body.substr(letters))) {
    return '\0';
  }
  // Nine positions weighted 9..1 (the last is the check); a single-letter id is padded with a
  // leading space worth 36.
  int sum = 0;
  if (letters == 1) {
    sum += 36 * 9 + (body[0] - 'A' + 10) * 8;
  } else {
    sum += (body[0] - 'A' + 10) * 9 + (body[1] - 'A' + 10) * 8;
  }
  for (int i = 0; i < 6; ++i) sum += (body[letters + i] - '0') * (7 - i);
  int r = sum % 11;
  int check = r == 0 ? 0 : 11 - r;
  return check == 10 ? 'A' : static_cast<char>('0' + check);
}

IdCheck CheckHkId(std::string_view id) {
  if (id.size() < 8 || id.size() > 9) return IdCheck::kBadFormat;
  std::string_view body = id.substr(0, id.size() - 1);
  char last = id.back();
  if (!IsDigit(last) && last != 'A') return IdCheck::kBadFormat;
  char expected = HkIdCheckCharacter(body);
  if (expected == '\0') return IdCheck::kBadFormat;
  return expected == last ? IdCheck::kOk : IdCheck::kBadCheckDigit;
}

IdCheck CheckMoId(std::string_view id) {
  if (id.size() != 8 || !AllDigits(id)) return IdCheck::kBadFormat;
  if (id[0] != '1' && id[0] != '5' && id[0] != '7') return IdCheck::kBadFormat;
  return IdCheck::kOk;
}

IdCheck CheckIdentifier(IdScheme scheme, std::string_view normalised) {
  switch (scheme) {
    case IdScheme::kPrcResidentId:
      return CheckPrcResidentId(normalised);
    case IdScheme::kHkId:
      return CheckHkId(normalised);
    case IdScheme::kMoId:
      return CheckMoId(normalised);
  }
  return IdCheck::kBadFormat;
}

char UsccCheckCharacter(std::string_view first17) {
  if (first17.size() < 17) return '\0';
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    int v = UsccValue(first17[i]);
    if (v < 0) return '\0';
    sum += v * kUsccWeights[i];
  }
  return kUsccChars[(31 - sum % 31) % 31];
}

bool IsValidUscc(std::string_view uscc) {
  if (uscc.size() != 18) return false;
  char expected = UsccCheckCharacter(uscc);
  return expected != '\0' && expected == uscc[17];
}

bool IsKnownProvincePrefix(int p) {
  return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
         (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71;
}

bool IsValidRegionCode(std::string_view code) {
  if (code.size() != 6 || !AllDigits(code)) return false;
  if (code == "810000" || code == "820000") return true;
  int province = (code[0] - '0') * 10 + (code[1] - '0');
  return IsKnownProvincePrefix(province);
}

}  // namespace carehub
