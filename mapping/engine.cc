#include "mapping/engine.h"

#include <Poco/JSON/Array.h>

#include <algorithm>

namespace carehub::mapping {
namespace {

Reason Why(ReasonCode code, const RuleSet* set = nullptr, int entry = -1,
           const SanctionEntry* sanction = nullptr, const Agreement* agreement = nullptr, int a = 0,
           int b = 0, int c = 0) {
  return Reason{code, set, entry, sanction, agreement, a, b, c};
}

// The fields the engine reads, whatever the kind.
struct View {
  const NativeLevel* native = nullptr;
  Date date{};
  std::optional<Date> valid_until;
  const PersonRef* person = nullptr;
  const OrgRef* org = nullptr;
};

View Look(const CanonicalRecord& record) {
  View view;
  std::visit(
      [&view](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        view.native = &body.native;
        if constexpr (std::is_same_v<T, Assessment>) {
          view.date = body.assessed_on;
          view.valid_until = body.valid_until;
          view.person = &body.person;
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          view.date = body.issued_on;
          view.valid_until = body.valid_until;
          view.person = &body.person;
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          view.date = body.rated_on;
          view.valid_until = body.valid_until;
          view.org = &body.facility;
        } else {
          view.date = body.decided_on;
          view.valid_until = body.ends_on;
        }
      },
      record.body);
  return view;
}

int Days(Date date) { return static_cast<int>(date.time_since_epoch().count()); }

// `date` plus `months` calendar months; the day is clamped to the end of a shorter month.
Date AddMonths(Date date, int months) {
  using namespace std::chrono;
  year_month_day ymd{date};
  year_month ym = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  day last = year_month_day_last{ym.year(), month_day_last{ym.month()}}.day();
  return sys_days{year_month_day{ym.year(), ym.month(), std::min(ymd.day(), last)}};
}

RegionCode OriginOf(const CanonicalRecord& record) {
  return ParseRegion(record.provenance.origin_region).value_or(RegionCode{0});
}

// One crosswalk step from `level`; returns false when the decision ends here (no entry,
// unmatched) and records why.
struct StepResult {
  int level = -1;
  int upper = -1;
  bool stop = false;  // no target level: decision ends with the outcome set
};

StepResult ApplyStep(const CompiledCrosswalk& cw, int level, int upper_level, Decision& d) {
  StepResult result;
  const int entry_index = cw.entry_by_level[level];
  if (entry_index < 0) {
    d.reasons.Add(Why(ReasonCode::kNoEntry, cw.set, -1, nullptr, nullptr, level));
    d.outcome = Outcome::kNotRecognised;
    result.stop = true;
    return result;
  }
  const MapEntry& entry = cw.set->entries[entry_index];
  d.steps[d.step_count++] = cw.set;
  d.documented = d.documented && entry.documented;
  d.equivalence = Compose(d.equivalence, entry.equivalence);
  if (entry.equivalence == Equivalence::kNotRelatedTo) {
    d.reasons.Add(Why(ReasonCode::kUnmatched, cw.set, entry_index));
    d.outcome = Outcome::kNotRecognised;
    result.stop = true;
    return result;
  }
  if (cw.target_level[entry_index] < 0) {
    d.reasons.Add(Why(ReasonCode::kCaseByCase, cw.set, entry_index));
    d.outcome = Outcome::kRecognisedWithConditions;
    result.stop = true;
    return result;
  }
  d.reasons.Add(Why(ReasonCode::kStep, cw.set, entry_index));
  if (!entry.flag.empty()) d.reasons.Add(Why(ReasonCode::kFlag, cw.set, entry_index));
  result.level = cw.target_level[entry_index];
  result.upper = cw.target_upper[entry_index];
  // A range carried from the previous step maps through this step too.
  if (upper_level >= 0 && cw.entry_by_level[upper_level] >= 0) {
    const int upper_entry = cw.entry_by_level[upper_level];
    int mapped = cw.target_upper[upper_entry] >= 0 ? cw.target_upper[upper_entry]
                                                   : cw.target_level[upper_entry];
    result.upper = std::max(result.upper, mapped);
  }
  if (result.upper <= result.level) result.upper = -1;
  return result;
}

}  // namespace

Decision Decide(const CanonicalRecord& record, RegionCode target, Date on, const RuleBook& book,
                const SanctionIndex& sanctions) {
  Decision d;
  d.kind = record.kind();
  d.target = target;
  d.on = on;
  const View view = Look(record);

  const ResolvedPolicy resolved = book.Policy(target, d.kind, on);
  if (!resolved) {
    d.reasons.Add(Why(ReasonCode::kNoTargetRules, nullptr, -1, nullptr, nullptr, target.code));
    return d;
  }
  const KindPolicy& policy = *resolved.policy;
  d.policy = resolved.set;
  d.reasons.Add(Why(ReasonCode::kTargetRules, resolved.set, -1, nullptr, nullptr, target.code,
                    resolved.set->region.code));

  const RegionCode origin = OriginOf(record);
  const Agreement* agreement = book.FindAgreement(target, origin, d.kind, on);
  d.legal_basis = agreement != nullptr ? &agreement->legal_basis : &policy.legal_basis;

  const auto& statuses = policy.recognised_statuses;
  if (std::find(statuses.begin(), statuses.end(), record.status) == statuses.end()) {
    d.reasons.Add(Why(ReasonCode::kStatusNotRecognised, resolved.set, -1, nullptr, nullptr,
                      static_cast<int>(record.status)));
    return d;
  }
  d.reasons.Add(Why(ReasonCode::kStatusRecognised, resolved.set, -1, nullptr, nullptr,
                    static_cast<int>(record.status)));

  if (d.kind == RecordKind::kSanction) {
    // A notice from any region is in force everywhere while it lasts (seed 000 item 26).
    if (view.date > on) {
      d.reasons.Add(Why(ReasonCode::kSanctionNotInForce, nullptr, -1, nullptr, nullptr, 0, 1));
    } else if (view.valid_until && *view.valid_until < on) {
      d.reasons.Add(Why(ReasonCode::kSanctionNotInForce, nullptr, -1, nullptr, nullptr,
                        Days(*view.valid_until), 0));
    } else {
      d.reasons.Add(Why(ReasonCode::kSanctionInForce));
      d.outcome = Outcome::kRecognised;
      d.documented = true;
    }
    d.reasons.Add(Why(ReasonCode::kLegalBasis, nullptr, -1, nullptr, agreement));
    return d;
  }

  if (policy.sanctions_block) {
    const SanctionEntry* blocking = nullptr;
    if (view.person != nullptr) blocking = sanctions.FindPerson(*view.person, on);
    if (blocking == nullptr && view.org != nullptr) blocking = sanctions.FindOrg(*view.org, on);
    if (blocking != nullptr) {
      d.sanction = blocking;
      d.reasons.Add(Why(ReasonCode::kSanctionBlocks, nullptr, -1, blocking));
      d.reasons.Add(Why(ReasonCode::kLegalBasis, nullptr, -1, nullptr, agreement));
      return d;
    }
    d.reasons.Add(Why(ReasonCode::kNoSanction));
  }

  if (view.date > on) {
    d.reasons.Add(
        Why(ReasonCode::kDatedAfter, nullptr, -1, nullptr, nullptr, Days(view.date), Days(on)));
    return d;
  }

  // Mapping: identity, a bilateral rule, or source -> pivot -> target.
  d.source_scale = book.FindScale(view.native->scale);
  d.target_scale = resolved.scale;
  if (d.source_scale < 0) {
    d.reasons.Add(Why(ReasonCode::kUnknownScale));
    return d;
  }
  d.source_level = book.scale(d.source_scale).FindCode(view.native->code);
  if (d.source_level < 0) {
    d.reasons.Add(Why(ReasonCode::kUnknownCode, nullptr, -1, nullptr, nullptr, d.source_scale));
    return d;
  }
  d.equivalence = Equivalence::kEquivalent;
  d.documented = true;
  int level = d.source_level;
  int upper = -1;
  if (d.source_scale == d.target_scale) {
    d.reasons.Add(Why(ReasonCode::kSameScale, nullptr, -1, nullptr, nullptr, d.source_scale));
  } else {
    const CompiledCrosswalk* path[2] = {nullptr, nullptr};
    int path_length = 0;
    const int pivot = book.Pivot(d.kind);
    if (const auto* direct = book.Bilateral(origin, target, d.source_scale, d.target_scale, on)) {
      path[path_length++] = direct;
    } else {
      if (d.source_scale != pivot) {
        path[path_length] = book.Crosswalk(d.source_scale, pivot, on);
        if (path[path_length] == nullptr) {
          d.reasons.Add(Why(ReasonCode::kNoRuleInForce, nullptr, -1, nullptr, nullptr,
                            d.source_scale, pivot));
          d.equivalence = Equivalence::kNotRelatedTo;
          return d;
        }
        ++path_length;
      }
      if (d.target_scale != pivot) {
        path[path_length] = book.Crosswalk(pivot, d.target_scale, on);
        if (path[path_length] == nullptr) {
          d.reasons.Add(Why(ReasonCode::kNoRuleInForce, nullptr, -1, nullptr, nullptr, pivot,
                            d.target_scale));
          d.equivalence = Equivalence::kNotRelatedTo;
          return d;
        }
        ++path_length;
      }
    }
    for (int i = 0; i < path_length; ++i) {
      StepResult step = ApplyStep(*path[i], level, upper, d);
      if (step.stop) {
        if (d.outcome != Outcome::kNotRecognised) {
          d.reasons.Add(Why(ReasonCode::kLegalBasis, nullptr, -1, nullptr, agreement));
        }
        return d;
      }
      level = step.level;
      upper = step.upper;
    }
    if (path_length == 1 && !path[0]->set->bilateral()) {
      d.reasons.Add(
          Why(ReasonCode::kPivotIsTarget, nullptr, -1, nullptr, nullptr, path[0]->target_scale));
    }
  }
  d.target_level = level;
  d.target_upper = upper;

  bool conditions = false;
  if (d.equivalence != Equivalence::kEquivalent) {
    d.reasons.Add(
        Why(ReasonCode::kLossy, nullptr, -1, nullptr, nullptr, static_cast<int>(d.equivalence)));
    conditions = true;
  }
  for (const Reason& reason : d.reasons)
    conditions = conditions || reason.code == ReasonCode::kFlag;
  if (!policy.documented) d.reasons.Add(Why(ReasonCode::kProposedScaleChoice, resolved.set));

  // Validity: the record's own end date, then the target's window.
  std::optional<Outcome> expired;
  if (view.valid_until && *view.valid_until < on) {
    d.reasons.Add(Why(ReasonCode::kValidUntilPassed, nullptr, -1, nullptr, nullptr,
                      Days(*view.valid_until), Days(on)));
    expired = policy.on_expiry;
  } else if (policy.validity_months) {
    const Date last = AddMonths(view.date, *policy.validity_months);
    const ReasonCode code = last < on ? ReasonCode::kWindowExpired : ReasonCode::kWithinWindow;
    d.reasons.Add(Why(code, resolved.set, -1, nullptr, nullptr, Days(view.date), Days(last),
                      *policy.validity_months));
    if (last < on) expired = policy.on_expiry;
  }

  d.reasons.Add(Why(ReasonCode::kLegalBasis, nullptr, -1, nullptr, agreement));
  if (!d.legal_basis->documented) {
    d.reasons.Add(Why(ReasonCode::kAdvisoryOnly));
    conditions = true;
  }
  if (expired) {
    d.outcome = *expired;
  } else {
    d.outcome = conditions ? Outcome::kRecognisedWithConditions : Outcome::kRecognised;
  }
  return d;
}

std::string Decision::RuleText() const {
  if (step_count == 0) return target_level >= 0 ? "identity" : "";
  std::string text;
  for (int i = 0; i < step_count; ++i) {
    if (i > 0) text += " -> ";
    text += steps[i]->Ref();
  }
  return text;
}

std::string Decision::PolicyText() const { return policy != nullptr ? policy->Ref() : ""; }

std::string_view TargetCode(const Decision& decision, const RuleBook& book) {
  if (decision.target_scale < 0 || decision.target_level < 0) return {};
  return book.scale(decision.target_scale).levels[decision.target_level].code;
}

std::string_view TargetLabel(const Decision& decision, const RuleBook& book) {
  if (decision.target_scale < 0 || decision.target_level < 0) return {};
  return book.scale(decision.target_scale).levels[decision.target_level].label;
}

}  // namespace carehub::mapping
