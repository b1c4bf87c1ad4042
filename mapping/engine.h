// The recognition engine: a pure, deterministic function
//   (record, target region, date, compiled rules, sanctions) -> Decision
// saying whether the target recognises the record, at which level of its own scale, under which
// rule id@version and legal basis, and why (ordered reasons). Deciding touches no disk and does
// not allocate: a Decision points into the RuleBook and SanctionIndex (keep both alive while
// it is used) and keeps its reasons inline; turn it into text with ReasonTexts / DecisionJson.
// Thread-safe: Decide only reads its arguments.
#pragma once

#include <Poco/JSON/Object.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "mapping/rule_book.h"
#include "mapping/sanctions.h"

namespace carehub::mapping {

enum class ReasonCode {
  kNoTargetRules,        // no region rules for the target (nor its city or province)
  kTargetRules,          // a = target code, b = code of the region whose rules apply
  kStatusNotRecognised,  // a = RecordStatus
  kStatusRecognised,     // a = RecordStatus
  kSanctionBlocks,       // sanction
  kNoSanction,
  kSanctionInForce,     // the decided record is itself a notice in force
  kSanctionNotInForce,  // a = RecordStatus, b = 0 ended / 1 not yet decided / 2 status
  kDatedAfter,          // a = record date (days), b = decision date
  kUnknownScale,
  kUnknownCode,          // a = source scale index (or -1)
  kNoRuleInForce,        // a = source scale, b = target scale
  kNoEntry,              // set = crosswalk without an entry for the level
  kSameScale,            // a = scale
  kPivotIsTarget,        // a = scale
  kStep,                 // set + entry: one mapping step
  kCaseByCase,           // set + entry: related-to without a target level
  kUnmatched,            // set + entry: not-related-to
  kFlag,                 // set + entry with a flag
  kLossy,                // a = composed Equivalence
  kValidUntilPassed,     // a = valid_until, b = decision date
  kWindowExpired,        // a = record date, b = last valid day, c = months
  kWithinWindow,         // a = record date, b = last valid day, c = months
  kProposedScaleChoice,  // the target's choice of scale is proposed
  kLegalBasis,           // agreement (or nullptr) + legal_basis of the decision
  kAdvisoryOnly,         // the legal basis is not documented
};

// Trivially constructible on purpose: a ReasonList keeps 16 of them inline without
// initialising the unused ones. Always create one with all fields named (aggregate init).
struct Reason {
  ReasonCode code;
  const RuleSet* set;
  int entry;
  const SanctionEntry* sanction;
  const Agreement* agreement;
  int a;
  int b;
  int c;
};

// Reasons live inline so that deciding allocates nothing; 16 is more than any path adds.
class ReasonList {
 public:
  static constexpr int kCapacity = 16;
  void Add(const Reason& reason) {
    if (size_ < kCapacity) items_[size_++] = reason;
  }
  int size() const { return size_; }
  const Reason& operator[](int i) const { return items_[i]; }
  const Reason* begin() const { return items_.data(); }
  const Reason* end() const { return items_.data() + size_; }

 private:
  std::array<Reason, kCapacity> items_;  // only [0, size_) are set
  int size_ = 0;
};

struct Decision {
  Outcome outcome = Outcome::kNotRecognised;
  RecordKind kind = RecordKind::kAssessment;
  RegionCode target;
  Date on{};
  const RuleSet* policy = nullptr;  // the target's region rules that applied
  int source_scale = -1;            // indices into the RuleBook's scales
  int source_level = -1;
  int target_scale = -1;
  int target_level = -1;  // -1: no level (unmatched, case by case, or not reached)
  int target_upper = -1;  // set when the source spans several target levels
  Equivalence equivalence = Equivalence::kNotRelatedTo;
  bool documented = false;                // every mapping step used is documented
  std::array<const RuleSet*, 2> steps{};  // crosswalks used, in order (none for an identity)
  int step_count = 0;
  const LegalBasis* legal_basis = nullptr;
  const SanctionEntry* sanction = nullptr;  // the notice that blocks, when one does
  ReasonList reasons;

  bool lossy() const { return target_level >= 0 && equivalence != Equivalence::kEquivalent; }
  // "sh-care-needs.to-pivot@1 -> mzt039.from-pivot@1", "identity" or "" (not reached).
  std::string RuleText() const;
  // "region-440400@1" or "".
  std::string PolicyText() const;
};

Decision Decide(const CanonicalRecord& record, RegionCode target, Date on, const RuleBook& book,
                const SanctionIndex& sanctions);

// Human-readable reasons, in order. Never contains personal data (tokens are not printed).
std::vector<std::string> ReasonTexts(const Decision& decision, const RuleBook& book);
std::string ReasonText(const Reason& reason, const Decision& decision, const RuleBook& book);

// A stable snake_case name per ReasonCode ("within_window"): the web pages word reasons in
// Chinese or English from it and its parameters. Never renamed once shipped.
std::string_view ReasonCodeName(ReasonCode code);
// {"code", "params": {named values of the reason}, "text": ReasonText}. No personal data.
Poco::JSON::Object::Ptr ReasonDetail(const Reason& reason, const Decision& decision,
                                     const RuleBook& book);

// The decision as JSON: outcome, target {region, scale, code, label, upper}, rule, policy,
// equivalence, lossy, documented, legal_basis {...}, sanction {...}, reasons [...] (English
// text) and reason_details [...] (the same reasons as ReasonDetail, for localised wording).
Poco::JSON::Object::Ptr DecisionJson(const Decision& decision, const RuleBook& book);

// The target code (or "") and its label, for output.
std::string_view TargetCode(const Decision& decision, const RuleBook& book);
std::string_view TargetLabel(const Decision& decision, const RuleBook& book);

}  // namespace carehub::mapping
