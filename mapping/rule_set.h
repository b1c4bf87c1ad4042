// Recognition rule sets as parsed from mapping/rules/*.json (format: docs/mapping.md). Three
// types of file: "scales" (every scale, its ordered levels and which scale is a pivot),
// "crosswalk" (source scale -> target scale, code by code, with a FHIR ConceptMap equivalence;
// bilateral when it names from/to regions) and "region" (which scale a region uses per record
// kind, and the conditions of recognition there). Plain values; parsing is pure and thread-safe.
// Parse errors throw Error::InvalidInput naming the file and the entry.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/region.h"
#include "schemas/record.h"

namespace carehub::mapping {

// FHIR R5 ConceptMap relationship codes (R4 "unmatched" is read as not-related-to).
enum class Equivalence { kEquivalent, kSourceNarrower, kSourceBroader, kRelatedTo, kNotRelatedTo };
std::string_view EquivalenceName(Equivalence equivalence);
std::optional<Equivalence> ParseEquivalence(std::string_view name);
// The relationship of A to C given A->B and B->C. Narrower then broader (or the reverse) says
// nothing precise any more, hence related-to.
Equivalence Compose(Equivalence first, Equivalence second);

enum class Outcome {
  kRecognised,
  kRecognisedWithConditions,
  kReassessmentRequired,
  kNotRecognised
};
std::string_view OutcomeName(Outcome outcome);  // "recognised", "recognised_with_conditions", ...
std::optional<Outcome> ParseOutcome(std::string_view name);

struct LegalBasis {
  std::string document;  // e.g. "沪府规〔2019〕26号"
  std::string title;
  std::string article;     // e.g. "item 26"
  std::string cite;        // where carehub read it (seed file, URL)
  bool documented = true;  // false: no instrument found, the decision is advisory
  bool empty() const { return document.empty(); }
};

struct ScaleLevel {
  std::string code;
  std::string label;
  std::vector<std::string> aliases;  // other spellings of the code accepted on records
};

struct Scale {
  std::string id;
  RecordKind kind = RecordKind::kAssessment;
  std::string name;
  bool pivot = false;
  bool ordered = true;  // levels are ranked (index = rank, lowest need/skill/grade first)
  std::vector<ScaleLevel> levels;
  std::vector<std::string> aliases;  // other spellings of the scale id
  bool documented = false;
  std::string cite;
  std::string comment;
  // Index of `code` (or one of its aliases) in levels, or -1.
  int FindCode(std::string_view code) const;
};

struct MapEntry {
  int index = 0;  // 0-based position in "entries", for messages
  std::string from;
  std::string to;        // empty: no target level (case by case, or unmatched)
  std::string to_upper;  // set when the source spans several target levels (to is the lowest)
  Equivalence equivalence = Equivalence::kEquivalent;
  bool documented = false;
  std::string cite;
  std::string comment;
  std::string flag;  // e.g. "may_be_P4": the source level may correspond to a higher level
};

struct KindPolicy {
  std::string scale;  // the scale this region expresses the kind in
  bool documented = false;
  std::string cite;
  std::string comment;
  std::optional<int> validity_months;  // records older than this need reassessment
  std::string validity_cite;
  std::vector<RecordStatus> recognised_statuses;
  Outcome on_expiry = Outcome::kReassessmentRequired;
  bool sanctions_block = false;  // an in-force sanction against the subject blocks recognition
  LegalBasis legal_basis;        // basis when no agreement names the record's origin
};

struct Agreement {
  std::vector<RegionCode> from;
  std::vector<RecordKind> kinds;
  LegalBasis legal_basis;
  bool documented = false;
  std::string comment;
};

enum class RuleSetType { kScales, kCrosswalk, kRegion };

struct RuleSet {
  std::string file;  // path relative to the rules folder, for messages
  std::string id;
  int version = 0;
  RuleSetType type = RuleSetType::kCrosswalk;
  Date effective_from{};
  std::optional<Date> effective_to;  // inclusive; nullopt = open-ended
  LegalBasis legal_basis;
  bool documented = false;  // default for entries
  std::string comment;

  // type scales
  std::vector<Scale> scales;

  // type crosswalk
  RecordKind kind = RecordKind::kAssessment;
  std::string source_scale;
  std::string target_scale;
  std::vector<RegionCode> from_regions;  // both non-empty: a bilateral rule
  std::vector<RegionCode> to_regions;
  std::vector<MapEntry> entries;

  // type region
  RegionCode region;
  std::string name;
  std::array<std::optional<KindPolicy>, 4> kinds;  // by RecordKind
  std::vector<Agreement> agreements;

  bool bilateral() const { return !from_regions.empty(); }
  bool InForce(Date date) const {
    return date >= effective_from && (!effective_to || date <= *effective_to);
  }
  std::string Ref() const { return id + "@" + std::to_string(version); }
};

struct RuleFile {
  std::string path;  // relative name, e.g. "sh_care_needs.to_pivot.json"
  std::string content;
};

// Parses one file. Throws Error::InvalidInput "<file>: <where>: <what>".
RuleSet ParseRuleSet(const RuleFile& file);

// The rule files compiled into the binary (mapping/rules/*.json), sorted by path.
std::vector<RuleFile> EmbeddedRuleFiles();
// Every *.json directly under `dir`, sorted by path. Throws Error::IoError / NotFound.
std::vector<RuleFile> ReadRuleDirectory(const std::string& dir);

}  // namespace carehub::mapping
