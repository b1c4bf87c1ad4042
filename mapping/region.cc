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
  std::string lower;
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& alias : kAliases) {
    if (alias.name == lower) return RegionCode{alias.code};
  }
  if (text.size() != 6) return std::nullopt;
  int code = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    code = code * 10 + (c - '0');
  }
  if (code < 10000) return std::nullopt;
  return RegionCode{code};
}

int RegionChain(RegionCode region, RegionCode (&out)[3]) {
  int n = 0;
  out[n++] = region;
  if (!region.IsProvince() && !region.IsCity()) out[n++] = region.City();
  if (!region.IsProvince()) out[n++] = region.Province();
  return n;
}

}  // namespace carehub::mapping
