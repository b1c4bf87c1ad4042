#include "mapping/checker.h"

#include <algorithm>
#include <map>
#include <set>

#include "mapping/engine.h"
#include "mapping/rule_book.h"
#include "schemas/error.h"

namespace carehub::mapping {
namespace {

constexpr Date kEndOfTime = Date{std::chrono::days{1 << 22}};

Date EndOf(const RuleSet& set) { return set.effective_to.value_or(kEndOfTime); }

bool DatesOverlap(const RuleSet& a, const RuleSet& b) {
  return a.effective_from <= EndOf(b) && b.effective_from <= EndOf(a);
}

bool RegionsIntersect(const std::vector<RegionCode>& a, const std::vector<RegionCode>& b) {
  for (RegionCode x : a) {
    for (RegionCode y : b) {
      if (x.Contains(y) || y.Contains(x)) return true;
    }
  }
  return false;
}

std::string EntryName(const MapEntry& entry) {
  return "entries[" + std::to_string(entry.index) + "] (from '" + entry.from + "')";
}

class Checker {
 public:
  Checker(CheckReport& report, Date on) : report_(report), on_(on) {}
  void set_scales_file(const std::string& file) { scales_file_ = file; }

  void Add(Severity severity, const std::string& file, const std::string& entry,
           const std::string& message) {
    report_.findings.push_back({severity, file, entry, message});
  }

  // Versions of one thing (a scale pair, a bilateral scope, a region) must neither overlap nor
  // leave gaps between them.
  void CheckVersions(std::vector<const RuleSet*> group, const std::string& what) {
    std::sort(group.begin(), group.end(), [](const RuleSet* a, const RuleSet* b) {
      return a->effective_from < b->effective_from;
    });
    for (std::size_t i = 0; i < group.size(); ++i) {
      for (std::size_t j = i + 1; j < group.size(); ++j) {
        if (DatesOverlap(*group[i], *group[j])) {
          Add(Severity::kError, group[j]->file, "top",
              "overlaps " + group[i]->Ref() + " (" + group[i]->file + ") for " + what + " from " +
                  FormatIsoDate(std::max(group[i]->effective_from, group[j]->effective_from)));
        }
      }
      if (i + 1 < group.size() && group[i]->effective_to &&
          *group[i]->effective_to + std::chrono::days{1} < group[i + 1]->effective_from) {
        Add(Severity::kError, group[i + 1]->file, "top",
            "gap in effective dates for " + what + ": " + group[i]->Ref() + " ends " +
                FormatIsoDate(*group[i]->effective_to) + ", " + group[i + 1]->Ref() + " starts " +
                FormatIsoDate(group[i + 1]->effective_from));
      }
    }
  }

  void CheckOverlapsAndGaps(const RuleBook& book) {
    std::map<std::pair<int, int>, std::vector<const RuleSet*>> pairs;
    std::vector<const CompiledCrosswalk*> bilateral;
    for (const auto& cw : book.crosswalks()) {
      if (cw.set->bilateral()) {
        bilateral.push_back(&cw);
      } else {
        pairs[{cw.source_scale, cw.target_scale}].push_back(cw.set);
      }
    }
    for (const auto& [pair, group] : pairs) {
      CheckVersions(group, book.scale(pair.first).id + " -> " + book.scale(pair.second).id);
    }
    for (std::size_t i = 0; i < bilateral.size(); ++i) {
      for (std::size_t j = i + 1; j < bilateral.size(); ++j) {
        const CompiledCrosswalk& a = *bilateral[i];
        const CompiledCrosswalk& b = *bilateral[j];
        if (a.source_scale == b.source_scale && a.target_scale == b.target_scale &&
            RegionsIntersect(a.set->from_regions, b.set->from_regions) &&
            RegionsIntersect(a.set->to_regions, b.set->to_regions) &&
            DatesOverlap(*a.set, *b.set)) {
          Add(Severity::kError, b.set->file, "top",
              "bilateral rule overlaps " + a.set->Ref() + " (" + a.set->file +
                  ") for the same regions, scales and dates");
        }
      }
    }
    std::map<int, std::vector<const RuleSet*>> regions;
    std::map<std::pair<std::string, int>, const RuleSet*> ids;
    for (const auto& set : book.sets()) {
      if (set.type == RuleSetType::kRegion) regions[set.region.code].push_back(&set);
      auto [it, fresh] = ids.emplace(std::make_pair(set.id, set.version), &set);
      if (!fresh)
        Add(Severity::kError, set.file, "top", set.Ref() + " also in " + it->second->file);
    }
    for (const auto& [code, group] : regions) {
      CheckVersions(group, "region " + RegionCode{code}.ToString());
    }
  }

  void CheckMonotoneAndTotal(const RuleBook& book) {
    for (const auto& cw : book.crosswalks()) {
      const Scale& source = book.scale(cw.source_scale);
      const Scale& target = book.scale(cw.target_scale);
      for (std::size_t level = 0; level < cw.entry_by_level.size(); ++level) {
        if (cw.entry_by_level[level] < 0) {
          Add(Severity::kError, cw.set->file, "entries",
              "not total: no entry for " + source.id + " code '" + source.levels[level].code +
                  "' (add one, with not-related-to if it is unmatched)");
        }
      }
      if (!source.ordered || !target.ordered) continue;
      int best_level = -1;
      const MapEntry* best_entry = nullptr;
      for (std::size_t level = 0; level < cw.entry_by_level.size(); ++level) {
        const int e = cw.entry_by_level[level];
        if (e < 0 || cw.target_level[e] < 0) continue;
        if (cw.target_level[e] < best_level) {
          Add(Severity::kError, cw.set->file, EntryName(cw.set->entries[e]),
              "not monotone: " + source.id + " '" + source.levels[level].code + "' maps to " +
                  target.id + " '" + target.levels[cw.target_level[e]].code +
                  "', below the target of the lower source level '" + best_entry->from + "'");
        } else {
          best_level = cw.target_level[e];
          best_entry = &cw.set->entries[e];
        }
      }
    }
  }

  // Every non-pivot scale of a kind with a pivot maps to and from it.
  void CheckPivotLinks(const RuleBook& book) {
    const std::string& scales_file = scales_file_;
    for (int s = 0; s < book.scale_count(); ++s) {
      const Scale& scale = book.scale(s);
      const int pivot = book.Pivot(scale.kind);
      if (pivot < 0 || pivot == s) continue;
      if (book.Crosswalk(s, pivot, on_) == nullptr) {
        Add(Severity::kError, scales_file, "scale " + scale.id,
            "no crosswalk " + scale.id + " -> " + book.scale(pivot).id + " in force on " +
                FormatIsoDate(on_));
      }
      if (book.Crosswalk(pivot, s, on_) == nullptr) {
        Add(Severity::kError, scales_file, "scale " + scale.id,
            "no crosswalk " + book.scale(pivot).id + " -> " + scale.id + " in force on " +
                FormatIsoDate(on_));
      }
    }
  }

  void CheckProfiles(const RuleBook& book, const std::vector<ProfileCodes>& profiles) {
    for (const auto& profile : profiles) {
      const std::string file = "profile:" + profile.profile;
      const int scale = book.FindScale(profile.scale);
      if (scale < 0) {
        Add(Severity::kError, file, "scale", "scale '" + profile.scale + "' is in no rule set");
        continue;
      }
      const Scale& s = book.scale(scale);
      if (s.kind != profile.kind) {
        Add(Severity::kError, file, "scale",
            "scale " + s.id + " is a " + std::string(KindName(s.kind)) + " scale");
        continue;
      }
      const int pivot = book.Pivot(s.kind);
      const CompiledCrosswalk* to_pivot =
          (pivot < 0 || pivot == scale) ? nullptr : book.Crosswalk(scale, pivot, on_);
      for (const auto& code : profile.codes) {
        const int level = s.FindCode(code);
        if (level < 0) {
          Add(Severity::kError, file, "code '" + code + "'",
              "not a level of " + s.id + " (" + scales_file_ + ")");
          continue;
        }
        if (to_pivot != nullptr && to_pivot->entry_by_level[level] < 0) {
          Add(Severity::kError, file, "code '" + code + "'",
              "no entry in " + to_pivot->set->Ref() + " (" + to_pivot->set->file + ")");
          continue;
        }
        const std::size_t i = static_cast<std::size_t>(&code - profile.codes.data());
        if (pivot < 0 || i >= profile.pivots.size()) continue;
        // What the rules say the pivot is: identity on the pivot scale, else the crosswalk.
        std::string rule_pivot = s.levels[level].code;
        std::string where = "identity";
        if (to_pivot != nullptr) {
          const int e = to_pivot->entry_by_level[level];
          // A connector that claims no pivot agrees with a rule that claims only related-to.
          const Equivalence eq = to_pivot->set->entries[e].equivalence;
          if (!profile.pivots[i] &&
              (eq == Equivalence::kRelatedTo || eq == Equivalence::kNotRelatedTo)) {
            continue;
          }
          rule_pivot = to_pivot->target_level[e] < 0
                           ? ""
                           : book.scale(pivot).levels[to_pivot->target_level[e]].code;
          where = to_pivot->set->Ref();
        }
        const std::string connector_pivot =
            profile.pivots[i] ? std::to_string(*profile.pivots[i]) : "";
        if (connector_pivot != rule_pivot) {
          Add(Severity::kWarning, file, "code '" + code + "'",
              "the connector stores pivot '" + connector_pivot + "' but " + where + " maps to '" +
                  rule_pivot + "'");
        }
      }
    }
  }

  // Every region as origin against every region as target, every code of the origin's scale:
  // lossy compositions (warnings) and round trips that raise a level (errors).
  void CheckCompositions(const RuleBook& book, const std::vector<ProfileCodes>& profiles) {
    SanctionIndex no_sanctions;
    std::set<std::string> reported;
    const auto regions = book.Regions();
    for (RecordKind kind :
         {RecordKind::kAssessment, RecordKind::kCaregiver, RecordKind::kFacility}) {
      // Sources: each region's own scale, and every scale a connector profile exports (Macau's
      // profile, say, exports a scale its region does not decide in).
      std::set<std::pair<int, int>> sources;
      for (RegionCode a : regions) {
        const ResolvedPolicy pa = book.Policy(a, kind, on_);
        if (pa && pa.scale >= 0) sources.insert({a.code, pa.scale});
      }
      for (const auto& profile : profiles) {
        const auto origin = ParseRegion(profile.origin_region);
        const int scale = book.FindScale(profile.scale);
        if (profile.kind == kind && origin && scale >= 0) sources.insert({origin->code, scale});
      }
      for (const auto& [code, scale] : sources) {
        const RegionCode a{code};
        for (RegionCode b : regions) {
          if (a == b) continue;
          const ResolvedPolicy pb = book.Policy(b, kind, on_);
          if (!pb || pb.scale < 0 || pb.scale == scale) continue;
          CheckPair(book, no_sanctions, kind, a, scale, b, reported);
        }
      }
    }
  }

 private:
  CanonicalRecord Synthetic(RecordKind kind, RegionCode origin, const Scale& scale, int level) {
    CanonicalRecord record;
    record.record_id = "rules-check";
    record.provenance.origin_region = origin.ToString();
    NativeLevel native{scale.id, scale.levels[level].code, scale.levels[level].label};
    if (kind == RecordKind::kAssessment) {
      Assessment body;
      body.native = native;
      body.assessed_on = on_;
      record.body = body;
    } else if (kind == RecordKind::kCaregiver) {
      CaregiverQualification body;
      body.native = native;
      body.issued_on = on_;
      record.body = body;
    } else {
      FacilityRating body;
      body.native = native;
      body.rated_on = on_;
      record.body = body;
    }
    return record;
  }

  void CheckPair(const RuleBook& book, const SanctionIndex& none, RecordKind kind, RegionCode a,
                 int scale_a, RegionCode b, std::set<std::string>& reported) {
    const Scale& source = book.scale(scale_a);
    std::string lossy;
    std::string rule;
    std::string files;
    for (int level = 0; level < static_cast<int>(source.levels.size()); ++level) {
      Decision there = Decide(Synthetic(kind, a, source, level), b, on_, book, none);
      if (there.target_level < 0) continue;
      rule = there.RuleText();
      files.clear();
      for (int i = 0; i < there.step_count; ++i) {
        files += (i > 0 ? ", " : "") + there.steps[i]->file;
      }
      const Scale& target = book.scale(there.target_scale);
      if (there.lossy()) {
        lossy += " " + source.levels[level].code + "->" + target.levels[there.target_level].code +
                 " (" + std::string(EquivalenceName(there.equivalence)) + ")";
      }
      Decision back = Decide(Synthetic(kind, b, target, there.target_level), a, on_, book, none);
      // Only a way back into the same scale can be compared level by level.
      if (back.target_scale == scale_a && back.target_level > level && source.ordered &&
          target.ordered) {
        Add(Severity::kError, there.steps[0] != nullptr ? there.steps[0]->file : "", "",
            "round trip " + a.ToString() + " -> " + b.ToString() + " -> " + a.ToString() +
                " raises " + source.id + " '" + source.levels[level].code + "' to '" +
                source.levels[back.target_level].code + "' (" + rule + ", back " + back.RuleText() +
                ")");
      }
    }
    if (lossy.empty()) return;
    const std::string key = source.id + ">" + rule;
    if (!reported.insert(key).second) return;
    Add(Severity::kWarning, files, rule,
        "lossy composition " + source.id + " -> " + book.scale(book.Policy(b, kind, on_).scale).id +
            " (e.g. " + a.ToString() + " -> " + b.ToString() + "):" + lossy);
  }

  CheckReport& report_;
  Date on_;
  std::string scales_file_;
};

}  // namespace

int CheckReport::errors() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kError;
  }));
}

int CheckReport::warnings() const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(), [](const Finding& f) {
    return f.severity == Severity::kWarning;
  }));
}

CheckReport CheckRules(const std::vector<RuleFile>& files,
                       const std::vector<ProfileCodes>& profiles, Date on) {
  CheckReport report;
  report.files = static_cast<int>(files.size());
  Checker checker(report, on);
  std::vector<RuleSet> sets;
  std::string scales_file;
  for (const auto& file : files) {
    try {
      sets.push_back(ParseRuleSet(file));
    } catch (const Error& e) {
      checker.Add(Severity::kError, file.path, "", e.what());
      continue;
    }
    const RuleSet& set = sets.back();
    if (set.type == RuleSetType::kScales) scales_file = set.file;
    if (set.type != RuleSetType::kCrosswalk) continue;
    int documented = 0;
    for (const auto& entry : set.entries) documented += entry.documented ? 1 : 0;
    const int proposed = static_cast<int>(set.entries.size()) - documented;
    report.documented_entries += documented;
    report.proposed_entries += proposed;
    std::string scope;
    if (set.bilateral()) {
      scope = " bilateral";
      for (RegionCode r : set.from_regions) scope += " " + r.ToString();
      scope += " ->";
      for (RegionCode r : set.to_regions) scope += " " + r.ToString();
    }
    checker.Add(Severity::kInfo, set.file, "",
                set.Ref() + " " + set.source_scale + " -> " + set.target_scale + scope + ": " +
                    std::to_string(set.entries.size()) + " entries, " + std::to_string(documented) +
                    " documented, " + std::to_string(proposed) + " proposed; legal basis " +
                    set.legal_basis.document + " " + set.legal_basis.article);
  }
  if (report.errors() > 0) return report;
  std::optional<RuleBook> book;
  try {
    book.emplace(std::move(sets));
  } catch (const Error& e) {
    checker.Add(Severity::kError, "", "", e.what());
    return report;
  }
  checker.CheckOverlapsAndGaps(*book);
  checker.CheckMonotoneAndTotal(*book);
  checker.set_scales_file(scales_file);
  checker.CheckPivotLinks(*book);
  checker.CheckProfiles(*book, profiles);
  if (report.errors() == 0) checker.CheckCompositions(*book, profiles);
  return report;
}

std::string FormatFinding(const Finding& finding) {
  static constexpr const char* kNames[] = {"error", "warning", "info"};
  std::string text = kNames[static_cast<int>(finding.severity)];
  text += ": ";
  if (!finding.file.empty()) text += finding.file + ": ";
  if (!finding.entry.empty()) text += finding.entry + ": ";
  return text + finding.message;
}

}  // namespace carehub::mapping
