// GB/T 2260 region codes as the recognition engine sees them: a 6-digit code whose province
// ends in 0000 and whose prefecture city ends in 00. Rules attach to a province or a city; a
// district or city without rules of its own falls back to the next level up (domain.md §1).
// Plain values and pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace carehub::mapping {

// A 6-digit code held as an integer (310115, 440400, 440000).
struct RegionCode {
  int code = 0;
  bool operator==(const RegionCode&) const = default;
  auto operator<=>(const RegionCode&) const = default;

  bool IsProvince() const { return code % 10000 == 0; }
  bool IsCity() const { return !IsProvince() && code % 100 == 0; }
  RegionCode Province() const { return {code - code % 10000}; }
  RegionCode City() const { return {code - code % 100}; }
  // True when `this` is `other` or contains it (a province contains its cities and districts).
  bool Contains(RegionCode other) const;
  std::string ToString() const;
};

// Parses "440400" or one of the aliases sh js zj ah gd hk mo (case-insensitive). Returns nullopt
// for anything that is not six digits with a non-zero province part.
std::optional<RegionCode> ParseRegion(std::string_view text);

// The chain of codes whose rules apply to `region`, most specific first, without repeats:
// 440402 -> 440402, 440400, 440000; 440400 -> 440400, 440000; 810000 -> 810000.
int RegionChain(RegionCode region, RegionCode (&out)[3]);

}  // namespace carehub::mapping
