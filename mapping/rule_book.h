// RuleBook: all rule sets compiled once into lookup tables (scale ids to indices, per scale pair
// the crosswalk versions with a dense code -> entry table, per region the policy versions), so
// that deciding touches no disk and allocates nothing. Immutable after construction and safe to
// share between threads; move-only because decisions point into it (keep it alive while they are
// used).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mapping/rule_set.h"

namespace carehub::mapping {

// One crosswalk rule set with its codes resolved.
struct CompiledCrosswalk {
  const RuleSet* set = nullptr;
  int source_scale = -1;
  int target_scale = -1;
  std::vector<int> entry_by_level;  // source level index -> index in set->entries, or -1
  std::vector<int> target_level;    // by entry: target level index, or -1 (no target)
  std::vector<int> target_upper;    // by entry: upper target level index, or -1
};

struct ResolvedPolicy {
  const RuleSet* set = nullptr;  // the region rule set that applied (city or province)
  const KindPolicy* policy = nullptr;
  int scale = -1;  // index of policy->scale (-1 for sanctions)
  explicit operator bool() const { return set != nullptr; }
};

class RuleBook {
 public:
  // Compiles parsed rule sets. Throws Error::InvalidInput "<file>: <entry>: <what>" for anything
  // that does not resolve: two "scales" files, an unknown scale or code, a crosswalk between
  // scales of different kinds, two pivots for one kind, a region without a known scale.
  explicit RuleBook(std::vector<RuleSet> sets);
  RuleBook(RuleBook&&) noexcept;
  RuleBook& operator=(RuleBook&&) noexcept;
  RuleBook(const RuleBook&) = delete;
  RuleBook& operator=(const RuleBook&) = delete;
  ~RuleBook();

  // The compiled-in rules (mapping/rules/*.json), or every *.json under `dir` when given.
  static RuleBook Load(const std::optional<std::string>& dir = std::nullopt);

  const std::vector<RuleSet>& sets() const { return sets_; }
  int scale_count() const { return static_cast<int>(scales_.size()); }
  const Scale& scale(int index) const { return *scales_[index]; }
  // Index of a scale by id or alias, or -1.
  int FindScale(std::string_view id) const;
  // The pivot scale of a kind, or -1 (sanctions have none).
  int Pivot(RecordKind kind) const { return pivot_[static_cast<int>(kind)]; }

  // The non-bilateral crosswalk source -> target in force on `date` (highest version when
  // versions overlap, which `rules check` reports), or nullptr.
  const CompiledCrosswalk* Crosswalk(int source_scale, int target_scale, Date date) const;
  // A bilateral rule from the origin region to the target region (the most specific target
  // level first: city rules before province rules), or nullptr.
  const CompiledCrosswalk* Bilateral(RegionCode origin, RegionCode target, int source_scale,
                                     int target_scale, Date date) const;
  // All compiled crosswalks (for the checker and tests).
  const std::vector<CompiledCrosswalk>& crosswalks() const { return crosswalks_; }

  // The policy for `kind` in `target` on `date`: the target's own region rules when they cover
  // the kind, else its city's, else its province's.
  ResolvedPolicy Policy(RegionCode target, RecordKind kind, Date date) const;
  // The agreement of the target (same fallback) that names the origin for this kind, or nullptr.
  const Agreement* FindAgreement(RegionCode target, RegionCode origin, RecordKind kind,
                                 Date date) const;
  // The region rule set of exactly `region` in force on `date`, or nullptr.
  const RuleSet* RegionRules(RegionCode region, Date date) const;
  // Region codes that have rules of their own, sorted.
  std::vector<RegionCode> Regions() const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };

  void Compile();

  std::vector<RuleSet> sets_;
  std::vector<const Scale*> scales_;
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> scale_by_name_;
  int pivot_[4] = {-1, -1, -1, -1};
  std::vector<CompiledCrosswalk> crosswalks_;
  // [source * scale_count + target] -> indices into crosswalks_ (non-bilateral), highest
  // version first.
  std::vector<std::vector<int>> pair_index_;
  std::vector<int> bilateral_;                                    // indices into crosswalks_
  std::unordered_map<int, std::vector<const RuleSet*>> regions_;  // highest version first
};

}  // namespace carehub::mapping
