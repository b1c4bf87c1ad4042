#include "schemas/record.h"

#include <charconv>
#include <cstdio>

#include "schemas/sha256.h"

namespace carehub {
namespace {
constexpr std::string_view kKindNames[] = {"assessment", "caregiver", "facility", "sanction"};
constexpr std::string_view kStatusNames[] = {"ACTIVE",    "EXPIRED",  "REVOKED",
                                             "WITHDRAWN", "REPAIRED", "RETRACTED"};
constexpr std::string_view kSchemeNames[] = {"PRC_RESIDENT_ID", "HK_ID", "MO_ID"};
}  // namespace

std::string_view KindName(RecordKind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<RecordKind> ParseKind(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (kKindNames[i] == name) return static_cast<RecordKind>(i);
  }
  return std::nullopt;
}

std::string_view SexSymbol(Sex sex) {
  switch (sex) {
    case Sex::kMale:
      return "MALE";
    case Sex::kFemale:
      return "FEMALE";
    case Sex::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string_view StatusName(RecordStatus status) { return kStatusNames[static_cast<int>(status)]; }

std::optional<RecordStatus> ParseStatus(std::string_view symbol) {
  for (int i = 0; i < 6; ++i) {
    if (kStatusNames[i] == symbol) return static_cast<RecordStatus>(i);
  }
  return std::nullopt;
}

std::string_view IdSchemeName(IdScheme scheme) { return kSchemeNames[static_cast<int>(scheme)]; }

std::string MakeRecordId(std::string_view origin_region, RecordKind kind,
                         std::string_view source_record_id) {
  thread_local Sha256Hasher hasher;
  const auto digest = hasher.Update(origin_region)
                          .Update("|")
                          .Update(KindName(kind))
                          .Update("|")
                          .Update(source_record_id)
                          .Final();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[2 * i] = kHex[digest[i] >> 4];
    id[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return id;
}

std::string FormatIsoDate(Date date) {
  std::chrono::year_month_day ymd{date};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<Date> ParseIsoDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&text](std::size_t pos, std::size_t len, auto& out) {
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && p == text.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

}  // namespace carehub
