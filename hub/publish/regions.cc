#include "hub/publish/regions.h"

#include <algorithm>
#include <set>

#include "connectors/profile.h"

namespace carehub {
namespace {

const std::vector<RegionName>& Names() {
  static const std::vector<RegionName> kNames = {
      {"310000", "上海市", "Shanghai"},
      {"310100", "上海市市辖区", "Shanghai (districts)"},
      {"320000", "江苏省", "Jiangsu"},
      {"320100", "南京市", "Nanjing"},
      {"320200", "无锡市", "Wuxi"},
      {"320500", "苏州市", "Suzhou"},
      {"330000", "浙江省", "Zhejiang"},
      {"330100", "杭州市", "Hangzhou"},
      {"330200", "宁波市", "Ningbo"},
      {"330300", "温州市", "Wenzhou"},
      {"340000", "安徽省", "Anhui"},
      {"340100", "合肥市", "Hefei"},
      {"340200", "芜湖市", "Wuhu"},
      {"340300", "蚌埠市", "Bengbu"},
      {"440000", "广东省", "Guangdong"},
      {"440100", "广州市", "Guangzhou"},
      {"440300", "深圳市", "Shenzhen"},
      {"440400", "珠海市", "Zhuhai"},
      {"440600", "佛山市", "Foshan"},
      {"440700", "江门市", "Jiangmen"},
      {"441200", "肇庆市", "Zhaoqing"},
      {"441300", "惠州市", "Huizhou"},
      {"441900", "东莞市", "Dongguan"},
      {"442000", "中山市", "Zhongshan"},
      {"810000", "香港特别行政区", "Hong Kong SAR"},
      {"820000", "澳门特别行政区", "Macao SAR"},
      {"other", "其他或未知地区", "other or unknown region"},
  };
  return kNames;
}

const std::set<std::string>& Provinces() {
  static const std::set<std::string> kProvinces = {"310000", "320000", "330000", "340000",
                                                   "440000", "810000", "820000"};
  return kProvinces;
}

RegionName Named(const std::string& code, bool province_only) {
  auto name = FindRegionName(code).value_or(RegionName{code, code, code});
  // A mainland province in the prefecture domain means "a prefecture not listed here".
  if (province_only && code != "810000" && code != "820000") {
    name.zh += "（其他地级市）";
    name.en += " (other prefectures)";
  }
  return name;
}

}  // namespace

const std::vector<RegionName>& PrefectureDomain() {
  static const std::vector<RegionName> kDomain = [] {
    std::set<std::string> prefectures;
    for (const Profile& profile : BuiltinProfiles()) {
      for (const std::string& code : profile.region_codes) {
        if (code.size() == 6) prefectures.insert(code.substr(0, 4) + "00");
      }
    }
    std::vector<RegionName> out;
    for (const std::string& code : prefectures) {
      if (!Provinces().contains(code)) out.push_back(Named(code, false));
    }
    for (const std::string& code : Provinces()) out.push_back(Named(code, true));
    out.push_back(Named("other", false));
    return out;
  }();
  return kDomain;
}

const std::vector<RegionName>& ProvinceDomain() {
  static const std::vector<RegionName> kDomain = [] {
    std::vector<RegionName> out;
    for (const std::string& code : Provinces()) out.push_back(Named(code, false));
    out.push_back(Named("other", false));
    return out;
  }();
  return kDomain;
}

std::string ProvinceRow(std::string_view code) {
  if (code.size() != 6) return "other";
  std::string province = std::string(code.substr(0, 2)) + "0000";
  return Provinces().contains(province) ? province : "other";
}

std::string PrefectureRow(std::string_view code) {
  const std::string province = ProvinceRow(code);
  if (province == "other") return province;
  const std::string prefecture = std::string(code.substr(0, 4)) + "00";
  const auto& domain = PrefectureDomain();
  const bool listed = std::any_of(domain.begin(), domain.end(),
                                  [&](const RegionName& r) { return r.code == prefecture; });
  return listed ? prefecture : province;
}

std::optional<RegionName> FindRegionName(std::string_view code) {
  for (const RegionName& name : Names()) {
    if (name.code == code) return name;
  }
  return std::nullopt;
}

}  // namespace carehub
