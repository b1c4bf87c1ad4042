// Turning decisions into text and JSON (kept apart from engine.cc: deciding never formats).
#include <Poco/JSON/Array.h>

#include "mapping/engine.h"

namespace carehub::mapping {
namespace {

std::string DateText(int days) { return FormatIsoDate(Date{std::chrono::days{days}}); }

std::string LevelText(const RuleBook& book, int scale, int level) {
  const Scale& s = book.scale(scale);
  const ScaleLevel& l = s.levels[level];
  std::string text = s.id + " " + l.code;
  if (l.label != l.code) text += " (" + l.label + ")";
  return text;
}

std::string CodeText(const RuleBook& book, const std::string& scale_id, const std::string& code) {
  const int scale = book.FindScale(scale_id);
  if (scale < 0) return scale_id + " " + code;
  const int level = book.scale(scale).FindCode(code);
  return level < 0 ? scale_id + " " + code : LevelText(book, scale, level);
}

std::string BasisText(const LegalBasis& basis) {
  std::string text = basis.document;
  if (!basis.article.empty()) text += " " + basis.article;
  if (!basis.title.empty()) text += " (" + basis.title + ")";
  return text;
}

std::string RegionText(const RuleBook& book, int code, Date on) {
  std::string text = RegionCode{code}.ToString();
  if (const RuleSet* set = book.RegionRules(RegionCode{code}, on)) text += " " + set->name;
  return text;
}

std::string Evidence(const MapEntry& entry) {
  std::string text = entry.documented ? "documented" : "proposed";
  if (!entry.cite.empty()) text += ": " + entry.cite;
  return text;
}

}  // namespace

std::string ReasonText(const Reason& r, const Decision& d, const RuleBook& book) {
  switch (r.code) {
    case ReasonCode::kNoTargetRules:
      return "no recognition rules for target " + RegionCode{r.a}.ToString() +
             " (nor for its city or province)";
    case ReasonCode::kTargetRules:
      if (r.a == r.b)
        return "target " + RegionText(book, r.a, d.on) + ": its own rules " + r.set->Ref();
      return "target " + RegionCode{r.a}.ToString() + " has no " + std::string(KindName(d.kind)) +
             " rules of its own: using " + RegionText(book, r.b, d.on) + " " + r.set->Ref();
    case ReasonCode::kStatusNotRecognised:
      return "status " + std::string(StatusName(static_cast<RecordStatus>(r.a))) +
             " is not recognised (" + r.set->Ref() + " recognises only ACTIVE records)";
    case ReasonCode::kStatusRecognised:
      return "status " + std::string(StatusName(static_cast<RecordStatus>(r.a))) + " is recognised";
    case ReasonCode::kSanctionBlocks: {
      const SanctionEntry& s = *r.sanction;
      std::string text = "blocked by sanction notice " + s.record_id + " issued by " +
                         s.issuing_region + " (" + s.native_code +
                         ", legal basis: " + s.legal_basis + "), decided " +
                         FormatIsoDate(s.decided_on) + ", ";
      text +=
          s.ends_on ? "in force until " + FormatIsoDate(*s.ends_on) : "in force with no end date";
      return text + "; a notice in any region blocks recognition everywhere while it lasts";
    }
    case ReasonCode::kNoSanction:
      return "no sanction notice in force against the subject in any region";
    case ReasonCode::kSanctionInForce:
      return "the notice is in force on " + FormatIsoDate(d.on) +
             " and applies in every region while it lasts";
    case ReasonCode::kSanctionNotInForce:
      if (r.b == 1) return "the notice is dated after " + FormatIsoDate(d.on);
      return "the notice ended on " + DateText(r.a) + ", before " + FormatIsoDate(d.on);
    case ReasonCode::kDatedAfter:
      return "the record is dated " + DateText(r.a) + ", after the decision date " + DateText(r.b);
    case ReasonCode::kUnknownScale:
      return "no rule knows the record's scale";
    case ReasonCode::kUnknownCode:
      return "the record's code is not a level of " + book.scale(r.a).id;
    case ReasonCode::kNoRuleInForce:
      return "no crosswalk " + book.scale(r.a).id + " -> " + book.scale(r.b).id + " in force on " +
             FormatIsoDate(d.on);
    case ReasonCode::kNoEntry:
      return r.set->Ref() + " has no entry for " + LevelText(book, d.source_scale, r.a);
    case ReasonCode::kSameScale:
      return "target uses the same scale " + book.scale(r.a).id + ": identity";
    case ReasonCode::kPivotIsTarget:
      return "target uses the national pivot " + book.scale(r.a).id + " itself";
    case ReasonCode::kStep:
    case ReasonCode::kCaseByCase:
    case ReasonCode::kUnmatched: {
      const MapEntry& e = r.set->entries[r.entry];
      std::string text = CodeText(book, r.set->source_scale, e.from) + " -> ";
      if (e.to.empty()) {
        text += r.set->target_scale + " (no level)";
      } else {
        text += CodeText(book, r.set->target_scale, e.to);
        if (!e.to_upper.empty()) text += " .. " + e.to_upper;
      }
      text += ": " + std::string(EquivalenceName(e.equivalence)) + " by " + r.set->Ref();
      if (r.set->bilateral()) text += " (bilateral rule, takes precedence over the pivot)";
      text += "; " + e.comment + " [" + Evidence(e) + "]";
      if (r.code == ReasonCode::kCaseByCase) text += "; recognised case by case";
      if (r.code == ReasonCode::kUnmatched) text += "; unmatched, nothing to recognise";
      return text;
    }
    case ReasonCode::kFlag:
      return "flag " + r.set->entries[r.entry].flag +
             ": the source level may correspond to a higher level; confirm by local assessment";
    case ReasonCode::kLossy:
      return "lossy: the source and target levels are " +
             std::string(EquivalenceName(static_cast<Equivalence>(r.a))) +
             ", not equivalent; the lower target level is given";
    case ReasonCode::kValidUntilPassed:
      return "valid until " + DateText(r.a) + ", which is before " + DateText(r.b);
    case ReasonCode::kWindowExpired:
      return "dated " + DateText(r.a) + ": older than the " + std::to_string(r.c) +
             "-month window of " + r.set->Ref() + " (valid through " + DateText(r.b) + ")";
    case ReasonCode::kWithinWindow:
      return "dated " + DateText(r.a) + ": within the " + std::to_string(r.c) +
             "-month window of " + r.set->Ref() + " (valid through " + DateText(r.b) + ")";
    case ReasonCode::kProposedScaleChoice: {
      const auto& policy = r.set->kinds[static_cast<int>(d.kind)];
      return "the target's scale is a proposed choice: " + (policy ? policy->cite : "");
    }
    case ReasonCode::kLegalBasis: {
      if (d.legal_basis == nullptr) return "no legal basis";
      std::string text = "legal basis: " + BasisText(*d.legal_basis);
      if (r.agreement != nullptr) {
        text += ": the target's agreement with the record's origin";
      } else if (d.legal_basis->documented) {
        text += ": the target's basis for records from any region";
      }
      return text;
    }
    case ReasonCode::kAdvisoryOnly:
      return "no documented legal basis for recognition in the target: advisory only (" +
             d.legal_basis->cite + ")";
  }
  return "";
}

std::string_view ReasonCodeName(ReasonCode code) {
  switch (code) {
    case ReasonCode::kNoTargetRules:
      return "no_target_rules";
    case ReasonCode::kTargetRules:
      return "target_rules";
    case ReasonCode::kStatusNotRecognised:
      return "status_not_recognised";
    case ReasonCode::kStatusRecognised:
      return "status_recognised";
    case ReasonCode::kSanctionBlocks:
      return "sanction_blocks";
    case ReasonCode::kNoSanction:
      return "no_sanction";
    case ReasonCode::kSanctionInForce:
      return "sanction_in_force";
    case ReasonCode::kSanctionNotInForce:
      return "sanction_not_in_force";
    case ReasonCode::kDatedAfter:
      return "dated_after";
    case ReasonCode::kUnknownScale:
      return "unknown_scale";
    case ReasonCode::kUnknownCode:
      return "unknown_code";
    case ReasonCode::kNoRuleInForce:
      return "no_rule_in_force";
    case ReasonCode::kNoEntry:
      return "no_entry";
    case ReasonCode::kSameScale:
      return "same_scale";
    case ReasonCode::kPivotIsTarget:
      return "pivot_is_target";
    case ReasonCode::kStep:
      return "step";
    case ReasonCode::kCaseByCase:
      return "case_by_case";
    case ReasonCode::kUnmatched:
      return "unmatched";
    case ReasonCode::kFlag:
      return "flag";
    case ReasonCode::kLossy:
      return "lossy";
    case ReasonCode::kValidUntilPassed:
      return "valid_until_passed";
    case ReasonCode::kWindowExpired:
      return "window_expired";
    case ReasonCode::kWithinWindow:
      return "within_window";
    case ReasonCode::kProposedScaleChoice:
      return "proposed_scale_choice";
    case ReasonCode::kLegalBasis:
      return "legal_basis";
    case ReasonCode::kAdvisoryOnly:
      return "advisory_only";
  }
  return "unknown";
}

namespace {

using Params = Poco::JSON::Object;

void MappingStepParams(const Reason& r, const RuleBook& book, Params& p) {
  const MapEntry& e = r.set->entries[r.entry];
  p.set("from", CodeText(book, r.set->source_scale, e.from));
  p.set("to", e.to.empty() ? std::string() : CodeText(book, r.set->target_scale, e.to));
  p.set("to_upper", e.to_upper);
  p.set("target_scale", r.set->target_scale);
  p.set("equivalence", std::string(EquivalenceName(e.equivalence)));
  p.set("rule", r.set->Ref());
  p.set("bilateral", r.set->bilateral());
  p.set("documented", e.documented);
  p.set("comment", e.comment);
  p.set("cite", e.cite);
}

void SanctionParams(const Reason& r, const Decision& d, Params& p) {
  if (r.code == ReasonCode::kSanctionBlocks) {
    const SanctionEntry& s = *r.sanction;
    p.set("record_id", s.record_id);
    p.set("issuing_region", s.issuing_region);
    p.set("native_code", s.native_code);
    p.set("legal_basis", s.legal_basis);
    p.set("decided_on", FormatIsoDate(s.decided_on));
    p.set("ends_on", s.ends_on ? FormatIsoDate(*s.ends_on) : std::string());
  } else if (r.code == ReasonCode::kSanctionNotInForce) {
    p.set("not_yet", r.b == 1);
    if (r.b != 1) p.set("ended_on", DateText(r.a));
  }
  p.set("on", FormatIsoDate(d.on));
}

void LegalBasisParams(const Reason& r, const Decision& d, Params& p) {
  p.set("basis", d.legal_basis ? BasisText(*d.legal_basis) : std::string());
  p.set("agreement", r.agreement != nullptr);
  p.set("documented", d.legal_basis != nullptr && d.legal_basis->documented);
  p.set("cite", d.legal_basis ? d.legal_basis->cite : std::string());
}

// The values ReasonText puts into words, by name (docs/mapping.md lists them per code).
void ReasonParams(const Reason& r, const Decision& d, const RuleBook& book, Params& p) {
  switch (r.code) {
    case ReasonCode::kNoTargetRules:
      p.set("target", RegionCode{r.a}.ToString());
      break;
    case ReasonCode::kTargetRules:
      p.set("target", RegionCode{r.a}.ToString());
      p.set("rules_region", RegionCode{r.b}.ToString());
      p.set("rules_name", r.set->name);
      p.set("own", r.a == r.b);
      p.set("kind", std::string(KindName(d.kind)));
      p.set("rule", r.set->Ref());
      break;
    case ReasonCode::kStatusNotRecognised:
    case ReasonCode::kStatusRecognised:
      p.set("status", std::string(StatusName(static_cast<RecordStatus>(r.a))));
      if (r.set != nullptr) p.set("rule", r.set->Ref());
      break;
    case ReasonCode::kSanctionBlocks:
    case ReasonCode::kSanctionInForce:
    case ReasonCode::kSanctionNotInForce:
      SanctionParams(r, d, p);
      break;
    case ReasonCode::kDatedAfter:
    case ReasonCode::kValidUntilPassed:
      p.set("date", DateText(r.a));
      p.set("on", DateText(r.b));
      break;
    case ReasonCode::kUnknownCode:
    case ReasonCode::kSameScale:
    case ReasonCode::kPivotIsTarget:
      p.set("scale", book.scale(r.a).id);
      break;
    case ReasonCode::kNoRuleInForce:
      p.set("source_scale", book.scale(r.a).id);
      p.set("target_scale", book.scale(r.b).id);
      p.set("on", FormatIsoDate(d.on));
      break;
    case ReasonCode::kNoEntry:
      p.set("rule", r.set->Ref());
      p.set("level", LevelText(book, d.source_scale, r.a));
      break;
    case ReasonCode::kStep:
    case ReasonCode::kCaseByCase:
    case ReasonCode::kUnmatched:
      MappingStepParams(r, book, p);
      break;
    case ReasonCode::kFlag:
      p.set("flag", r.set->entries[r.entry].flag);
      break;
    case ReasonCode::kLossy:
      p.set("equivalence", std::string(EquivalenceName(static_cast<Equivalence>(r.a))));
      break;
    case ReasonCode::kWindowExpired:
    case ReasonCode::kWithinWindow:
      p.set("date", DateText(r.a));
      p.set("valid_through", DateText(r.b));
      p.set("months", r.c);
      p.set("rule", r.set->Ref());
      break;
    case ReasonCode::kProposedScaleChoice: {
      const auto& policy = r.set->kinds[static_cast<int>(d.kind)];
      p.set("cite", policy ? policy->cite : std::string());
      break;
    }
    case ReasonCode::kLegalBasis:
    case ReasonCode::kAdvisoryOnly:
      LegalBasisParams(r, d, p);
      break;
    case ReasonCode::kUnknownScale:
    case ReasonCode::kNoSanction:
      break;
  }
}

}  // namespace

Poco::JSON::Object::Ptr ReasonDetail(const Reason& reason, const Decision& decision,
                                     const RuleBook& book) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("code", std::string(ReasonCodeName(reason.code)));
  Poco::JSON::Object::Ptr params = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  ReasonParams(reason, decision, book, *params);
  json->set("params", params);
  json->set("text", ReasonText(reason, decision, book));
  return json;
}

std::vector<std::string> ReasonTexts(const Decision& decision, const RuleBook& book) {
  std::vector<std::string> texts;
  for (const Reason& reason : decision.reasons) texts.push_back(ReasonText(reason, decision, book));
  return texts;
}

Poco::JSON::Object::Ptr DecisionJson(const Decision& d, const RuleBook& book) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("outcome", std::string(OutcomeName(d.outcome)));
  Poco::JSON::Object::Ptr target = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  target->set("region", d.target.ToString());
  if (d.target_scale >= 0) target->set("scale", book.scale(d.target_scale).id);
  if (d.target_level >= 0) {
    target->set("code", std::string(TargetCode(d, book)));
    target->set("label", std::string(TargetLabel(d, book)));
  }
  if (d.target_upper >= 0) {
    target->set("upper", book.scale(d.target_scale).levels[d.target_upper].code);
  }
  json->set("target", target);
  json->set("on", FormatIsoDate(d.on));
  json->set("rule", d.RuleText());
  json->set("policy", d.PolicyText());
  json->set("equivalence", std::string(EquivalenceName(d.equivalence)));
  json->set("lossy", d.lossy());
  json->set("documented", d.documented);
  if (d.legal_basis != nullptr) {
    Poco::JSON::Object::Ptr basis = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    basis->set("document", d.legal_basis->document);
    basis->set("article", d.legal_basis->article);
    basis->set("title", d.legal_basis->title);
    basis->set("documented", d.legal_basis->documented);
    json->set("legal_basis", basis);
  }
  if (d.sanction != nullptr) {
    Poco::JSON::Object::Ptr sanction = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    sanction->set("record_id", d.sanction->record_id);
    sanction->set("issuing_region", d.sanction->issuing_region);
    sanction->set("legal_basis", d.sanction->legal_basis);
    sanction->set("decided_on", FormatIsoDate(d.sanction->decided_on));
    if (d.sanction->ends_on) sanction->set("ends_on", FormatIsoDate(*d.sanction->ends_on));
    json->set("sanction", sanction);
  }
  Poco::JSON::Array::Ptr reasons = new Poco::JSON::Array;
  for (const auto& text : ReasonTexts(d, book)) reasons->add(text);
  json->set("reasons", reasons);
  Poco::JSON::Array::Ptr details = new Poco::JSON::Array;
  for (const Reason& reason : d.reasons) details->add(ReasonDetail(reason, d, book));
  json->set("reason_details", details);
  return json;
}

}  // namespace carehub::mapping
