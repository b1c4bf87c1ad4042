// `carehub rules check`: static checks over a whole set of rule files, each finding naming the
// file and the entry. Errors: files that do not parse or resolve, native codes of a connector
// profile that no rule covers (an explicit not-related-to entry counts as covered), overlapping
// versions for the same pair (or region) and date, gaps between versions, non-monotone maps,
// crosswalks that are not total, scales without a way to and from their pivot, and round trips
// A -> B -> A that raise a level. Warnings: lossy compositions. Info: documented vs proposed.
// Pure: the profile codes come in as data (mapping does not know connectors). Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mapping/rule_set.h"

namespace carehub::mapping {

// The native codes a connector profile can put on records.
struct ProfileCodes {
  std::string profile;  // e.g. "shanghai/assessment"
  RecordKind kind = RecordKind::kAssessment;
  std::string origin_region;  // GB/T 2260 code of the profile's region ("" if unknown)
  std::string scale;
  std::vector<std::string> codes;
  // The pivot level the connector stores with each code (same order as codes; nullopt = none),
  // compared with the rules' crosswalk to the pivot.
  std::vector<std::optional<int>> pivots;
};

enum class Severity { kError, kWarning, kInfo };

struct Finding {
  Severity severity = Severity::kError;
  std::string file;   // rule file (or "profile:<name>")
  std::string entry;  // e.g. "entries[3] (from '3')", "" for the whole file
  std::string message;
};

struct CheckReport {
  std::vector<Finding> findings;
  int files = 0;
  int documented_entries = 0;
  int proposed_entries = 0;
  int errors() const;
  int warnings() const;
};

// Checks `files` against `profiles`. Compositions and round trips are evaluated on `on`.
CheckReport CheckRules(const std::vector<RuleFile>& files,
                       const std::vector<ProfileCodes>& profiles, Date on);

// "error: file: entry: message".
std::string FormatFinding(const Finding& finding);

}  // namespace carehub::mapping
