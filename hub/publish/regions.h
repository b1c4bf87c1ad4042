// The public geography of the research tables: the prefecture-level GB/T 2260 codes of the
// seven regions that the built-in connector profiles name, each province as "prefecture not
// listed", and "other" (outside the seven regions or no code), with Chinese and English names.
// Fixed, data-independent lists: a differentially private table must not let the data decide
// which rows exist. Pure functions over constant data; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carehub {

struct RegionName {
  std::string code;  // 6-digit GB/T 2260 code, or "other"
  std::string zh;
  std::string en;
};

// Every prefecture row of the tables, in code order, then the provinces, then "other".
const std::vector<RegionName>& PrefectureDomain();
// The seven provinces (310000 ... 820000), then "other".
const std::vector<RegionName>& ProvinceDomain();

// The prefecture row of a 6-digit region code: its prefecture when listed, else its province
// (when one of the seven), else "other".
std::string PrefectureRow(std::string_view code);
// The province row of a 6-digit code: one of the seven provinces or "other".
std::string ProvinceRow(std::string_view code);

// The names of a code of either domain (nullopt when unknown).
std::optional<RegionName> FindRegionName(std::string_view code);

}  // namespace carehub
