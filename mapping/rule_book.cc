#include "mapping/rule_book.h"

#include <algorithm>

#include "schemas/error.h"

namespace carehub::mapping {
namespace {

[[noreturn]] void Fail(const RuleSet& set, const std::string& where, const std::string& what) {
  throw Error::InvalidInput(set.file + ": " + where + ": " + what);
}

std::string EntryWhere(const MapEntry& entry) {
  return "entries[" + std::to_string(entry.index) + "] (from '" + entry.from + "')";
}

}  // namespace

RuleBook::RuleBook(std::vector<RuleSet> sets) : sets_(std::move(sets)) { Compile(); }
RuleBook::RuleBook(RuleBook&&) noexcept = default;
RuleBook& RuleBook::operator=(RuleBook&&) noexcept = default;
RuleBook::~RuleBook() = default;

RuleBook RuleBook::Load(const std::optional<std::string>& dir) {
  auto files = dir ? ReadRuleDirectory(*dir) : EmbeddedRuleFiles();
  std::vector<RuleSet> sets;
  sets.reserve(files.size());
  for (const auto& file : files) sets.push_back(ParseRuleSet(file));
  return RuleBook(std::move(sets));
}

void RuleBook::Compile() {
  // Scales first: everything else refers to them.
  const RuleSet* scales_file = nullptr;
  for (const auto& set : sets_) {
    if (set.type != RuleSetType::kScales) continue;
    if (scales_file != nullptr) {
      Fail(set, "top", "a second scales file (the first is " + scales_file->file + ")");
    }
    scales_file = &set;
    for (const auto& scale : set.scales) {
      const int index = static_cast<int>(scales_.size());
      std::string where = "scale " + scale.id;
      if (!scale_by_name_.emplace(scale.id, index).second) Fail(set, where, "duplicate scale id");
      for (const auto& alias : scale.aliases) {
        if (!scale_by_name_.emplace(alias, index).second) {
          Fail(set, where, "alias '" + alias + "' is already taken");
        }
      }
      if (scale.pivot) {
        int& pivot = pivot_[static_cast<int>(scale.kind)];
        if (pivot >= 0) Fail(set, where, "a second pivot for " + std::string(KindName(scale.kind)));
        pivot = index;
      }
      scales_.push_back(&scale);
    }
  }
  if (scales_file == nullptr) throw Error::InvalidInput("rules: no scales file (type \"scales\")");

  const int n = scale_count();
  pair_index_.assign(static_cast<std::size_t>(n) * n, {});
  for (const auto& set : sets_) {
    if (set.type == RuleSetType::kCrosswalk) {
      CompiledCrosswalk cw;
      cw.set = &set;
      cw.source_scale = FindScale(set.source_scale);
      cw.target_scale = FindScale(set.target_scale);
      if (cw.source_scale < 0)
        Fail(set, "source_scale", "unknown scale '" + set.source_scale + "'");
      if (cw.target_scale < 0)
        Fail(set, "target_scale", "unknown scale '" + set.target_scale + "'");
      const Scale& source = scale(cw.source_scale);
      const Scale& target = scale(cw.target_scale);
      if (source.kind != set.kind || target.kind != set.kind) {
        Fail(set, "top",
             "scales " + source.id + " and " + target.id + " are not both of kind " +
                 std::string(KindName(set.kind)));
      }
      if (cw.source_scale == cw.target_scale) Fail(set, "top", "source and target are one scale");
      cw.entry_by_level.assign(source.levels.size(), -1);
      for (const auto& entry : set.entries) {
        const int from = source.FindCode(entry.from);
        if (from < 0) Fail(set, EntryWhere(entry), "code not in scale " + source.id);
        if (cw.entry_by_level[from] >= 0) Fail(set, EntryWhere(entry), "code mapped twice");
        cw.entry_by_level[from] = entry.index;
        int to = -1, upper = -1;
        if (!entry.to.empty()) {
          to = target.FindCode(entry.to);
          if (to < 0) Fail(set, EntryWhere(entry), "target '" + entry.to + "' not in " + target.id);
        }
        if (!entry.to_upper.empty()) {
          upper = target.FindCode(entry.to_upper);
          if (upper < 0) {
            Fail(set, EntryWhere(entry), "to_upper '" + entry.to_upper + "' not in " + target.id);
          }
          if (upper <= to) Fail(set, EntryWhere(entry), "to_upper must be above to");
        }
        cw.target_level.push_back(to);
        cw.target_upper.push_back(upper);
      }
      const int index = static_cast<int>(crosswalks_.size());
      crosswalks_.push_back(std::move(cw));
      if (set.bilateral()) {
        bilateral_.push_back(index);
      } else {
        pair_index_[crosswalks_[index].source_scale * n + crosswalks_[index].target_scale]
            .push_back(index);
      }
    } else if (set.type == RuleSetType::kRegion) {
      for (RecordKind kind : kAllKinds) {
        const auto& policy = set.kinds[static_cast<int>(kind)];
        if (!policy || policy->scale.empty()) continue;
        const int index = FindScale(policy->scale);
        std::string where = "kinds." + std::string(KindName(kind));
        if (index < 0) Fail(set, where, "unknown scale '" + policy->scale + "'");
        if (scale(index).kind != kind)
          Fail(set, where, "scale " + policy->scale + " is of another kind");
      }
      regions_[set.region.code].push_back(&set);
    }
  }
  auto by_version = [this](int a, int b) {
    return crosswalks_[a].set->version > crosswalks_[b].set->version;
  };
  for (auto& list : pair_index_) std::sort(list.begin(), list.end(), by_version);
  for (auto& [code, list] : regions_) {
    std::sort(list.begin(), list.end(),
              [](const RuleSet* a, const RuleSet* b) { return a->version > b->version; });
  }
}

int RuleBook::FindScale(std::string_view id) const {
  auto it = scale_by_name_.find(id);
  return it == scale_by_name_.end() ? -1 : it->second;
}

const CompiledCrosswalk* RuleBook::Crosswalk(int source_scale, int target_scale, Date date) const {
  if (source_scale < 0 || target_scale < 0) return nullptr;
  for (int index : pair_index_[source_scale * scale_count() + target_scale]) {
    if (crosswalks_[index].set->InForce(date)) return &crosswalks_[index];
  }
  return nullptr;
}

const CompiledCrosswalk* RuleBook::Bilateral(RegionCode origin, RegionCode target, int source_scale,
                                             int target_scale, Date date) const {
  if (bilateral_.empty()) return nullptr;
  RegionCode chain[3];
  const int levels = RegionChain(target, chain);
  for (int level = 0; level < levels; ++level) {
    const CompiledCrosswalk* best = nullptr;
    for (int index : bilateral_) {
      const CompiledCrosswalk& cw = crosswalks_[index];
      if (cw.source_scale != source_scale || cw.target_scale != target_scale) continue;
      if (!cw.set->InForce(date)) continue;
      bool to_match = std::find(cw.set->to_regions.begin(), cw.set->to_regions.end(),
                                chain[level]) != cw.set->to_regions.end();
      if (!to_match) continue;
      bool from_match = std::any_of(cw.set->from_regions.begin(), cw.set->from_regions.end(),
                                    [origin](RegionCode from) { return from.Contains(origin); });
      if (!from_match) continue;
      if (best == nullptr || cw.set->version > best->set->version) best = &cw;
    }
    if (best != nullptr) return best;
  }
  return nullptr;
}

const RuleSet* RuleBook::RegionRules(RegionCode region, Date date) const {
  auto it = regions_.find(region.code);
  if (it == regions_.end()) return nullptr;
  for (const RuleSet* set : it->second) {
    if (set->InForce(date)) return set;
  }
  return nullptr;
}

ResolvedPolicy RuleBook::Policy(RegionCode target, RecordKind kind, Date date) const {
  RegionCode chain[3];
  const int levels = RegionChain(target, chain);
  for (int level = 0; level < levels; ++level) {
    const RuleSet* set = RegionRules(chain[level], date);
    if (set == nullptr) continue;
    const auto& policy = set->kinds[static_cast<int>(kind)];
    if (!policy) continue;
    return {set, &*policy, policy->scale.empty() ? -1 : FindScale(policy->scale)};
  }
  return {};
}

const Agreement* RuleBook::FindAgreement(RegionCode target, RegionCode origin, RecordKind kind,
                                         Date date) const {
  RegionCode chain[3];
  const int levels = RegionChain(target, chain);
  for (int level = 0; level < levels; ++level) {
    const RuleSet* set = RegionRules(chain[level], date);
    if (set == nullptr) continue;
    for (const auto& agreement : set->agreements) {
      if (std::find(agreement.kinds.begin(), agreement.kinds.end(), kind) ==
          agreement.kinds.end()) {
        continue;
      }
      for (RegionCode from : agreement.from) {
        if (from.Contains(origin)) return &agreement;
      }
    }
  }
  return nullptr;
}

std::vector<RegionCode> RuleBook::Regions() const {
  std::vector<RegionCode> out;
  for (const auto& [code, list] : regions_) out.push_back(RegionCode{code});
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace carehub::mapping
