#include "mapping/region.h"

#include <cctype>
#include <cstdio>

namespace carehub::mapping {
namespace {

struct Alias {
  std::string_view name;
  int code;
};
// The seven hubs (domain.md §1).
constexpr Alias kAliases[] = {{"sh", 310000}, {"js", 320000}, {"zj", 330000}, {"ah", 340000},
                              {"gd", 440000}, {"hk", 810000}, {"mo", 820000}};

}  // namespace

bool RegionCode::Contains(RegionCode other) const {
  if (IsProvince()) return other.Province() == *this;
  if (IsCity()) return other.City() == *this;
  return other == *this;
}

std::string RegionCode::ToString() const {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06d", code);
  return buf;
}

std::optional<RegionCode> ParseRegion(std::string_view text) {
  if (text.size() == 6) {
    int code = 0;
    bool digits = true;
    for (char c : text) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      code = code * 10 + (c - '0');
    }
    if (digits) return code >= 10000 ? std::optional<RegionCode>(RegionCode{code}) : std::nullopt;
    return std::nullopt;
  }
  if (text.size() != 2) return std::nullopt;
  for (const auto& alias : kAliases) {
    if (std::tolower(static_cast<unsigned char>(text[0])) == alias.name[0] &&
        std::tolower(static_cast<unsigned char>(text[1])) == alias.name[1]) {
      return RegionCode{alias.code};
    }
  }
  return std::nullopt;
}

int RegionChain(RegionCode region, RegionCode (&out)[3]) {
  int n = 0;
  out[n++] = region;
  if (!region.IsProvince() && !region.IsCity()) out[n++] = region.City();
  if (!region.IsProvince()) out[n++] = region.Province();
  return n;
}

}  // namespace carehub::mapping
