// Handlers of the public rules explorer routes (docs/API.md "Rules"): the shipped rule sets as a
// catalogue (scales with their levels, regions with their scale per kind) and one decision for a
// level rather than a record. Public on purpose: a resident reads them before moving, so nothing
// here touches the store or any person; the decision runs the same engine as
// POST /v1/recognitions on a synthetic ACTIVE record with no subject (so no sanction applies).
#include <Poco/JSON/Array.h>

#include <chrono>

#include "hub/http/router.h"
#include "mapping/engine.h"

namespace carehub::http {
namespace {

using mapping::RegionCode;
using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

// The regions a record can come from: the hubs of the federation (domain.md §1).
constexpr int kOriginRegions[] = {310000, 320000, 330000, 340000, 440000, 810000, 820000};
constexpr RecordKind kExplorerKinds[] = {RecordKind::kAssessment, RecordKind::kCaregiver,
                                         RecordKind::kFacility};

Date Today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

Object::Ptr NewObject() { return new Object(Poco::JSON_PRESERVE_KEY_ORDER); }

Object::Ptr BasisJson(const mapping::LegalBasis& basis) {
  Object::Ptr json = NewObject();
  json->set("document", basis.document);
  json->set("title", basis.title);
  json->set("article", basis.article);
  json->set("documented", basis.documented);
  return json;
}

Object::Ptr ScaleJson(const mapping::Scale& scale) {
  Object::Ptr json = NewObject();
  json->set("id", scale.id);
  json->set("kind", std::string(KindName(scale.kind)));
  json->set("name", scale.name);
  json->set("pivot", scale.pivot);
  json->set("documented", scale.documented);
  Array::Ptr levels = new Array;
  for (const mapping::ScaleLevel& level : scale.levels) {
    Object::Ptr l = NewObject();
    l->set("code", level.code);
    l->set("label", level.label);
    levels->add(l);
  }
  json->set("levels", levels);
  return json;
}

// A region with rules of its own in force on `on`: its name and the scale it uses per kind.
Object::Ptr RegionJson(const mapping::RuleSet& rules) {
  Object::Ptr json = NewObject();
  json->set("code", rules.region.ToString());
  json->set("name", rules.name);
  Object::Ptr kinds = NewObject();
  for (RecordKind kind : kAllKinds) {
    const auto& policy = rules.kinds[static_cast<int>(kind)];
    if (policy && !policy->scale.empty()) kinds->set(std::string(KindName(kind)), policy->scale);
  }
  json->set("scales", kinds);
  return json;
}

Date DateParam(const ApiCall& call, const std::string& name, Date fallback) {
  const auto text = call.Query(name);
  if (!text) return fallback;
  const auto parsed = ParseIsoDate(*text);
  if (!parsed) throw HttpError::BadParameter(name, "expected a date YYYY-MM-DD");
  return *parsed;
}

RegionCode RegionParam(const ApiCall& call, const std::string& name) {
  const auto text = call.Query(name);
  if (!text) throw HttpError::BadParameter(name, "required (region code or alias)");
  const auto region = mapping::ParseRegion(*text);
  if (!region) throw HttpError::BadParameter(name, "not a region code or alias");
  return *region;
}

RecordKind KindParam(const ApiCall& call) {
  const auto text = call.Query("kind");
  if (!text) return RecordKind::kAssessment;
  const auto kind = ParseKind(*text);
  if (!kind || *kind == RecordKind::kSanction) {
    throw HttpError::BadParameter("kind", "expected assessment, caregiver or facility");
  }
  return *kind;
}

// The scale a level is read in: the `scale` parameter, else the one the origin's rules use for
// the kind.
const mapping::Scale& ScaleParam(const ApiCall& call, const mapping::RuleBook& book,
                                 RegionCode origin, RecordKind kind, Date on) {
  std::string id;
  if (const auto text = call.Query("scale")) {
    id = *text;
  } else if (const mapping::ResolvedPolicy policy = book.Policy(origin, kind, on)) {
    id = policy.policy->scale;
  }
  if (id.empty()) throw HttpError::BadParameter("scale", "required: the origin has no scale");
  const int index = book.FindScale(id);
  if (index < 0) throw HttpError::BadParameter("scale", "unknown scale " + id);
  if (book.scale(index).kind != kind) {
    throw HttpError::BadParameter("scale",
                                  id + " is not a scale of " + std::string(KindName(kind)));
  }
  return book.scale(index);
}

// A record that holds nothing but what the explorer was asked: origin, kind, scale, level and
// the date it was issued on. No person and no organisation identifier.
CanonicalRecord SyntheticRecord(RecordKind kind, RegionCode origin, const mapping::Scale& scale,
                                int level, Date dated) {
  CanonicalRecord record;
  record.status = RecordStatus::kActive;
  record.provenance.origin_region = origin.ToString();
  const NativeLevel native{scale.id, scale.levels[level].code, scale.levels[level].label};
  switch (kind) {
    case RecordKind::kAssessment: {
      Assessment body;
      body.native = native;
      body.assessed_on = dated;
      record.body = std::move(body);
      break;
    }
    case RecordKind::kCaregiver: {
      CaregiverQualification body;
      body.native = native;
      body.issued_on = dated;
      record.body = std::move(body);
      break;
    }
    default: {
      FacilityRating body;
      body.facility.region = origin.ToString();
      body.native = native;
      body.rated_on = dated;
      record.body = std::move(body);
      break;
    }
  }
  return record;
}

// What the target asks beyond the level: validity window, statuses, what happens on expiry.
Object::Ptr ConditionsJson(const mapping::Decision& decision, const mapping::RuleBook& book) {
  Object::Ptr json = NewObject();
  const mapping::ResolvedPolicy resolved = book.Policy(decision.target, decision.kind, decision.on);
  if (!resolved) return json;
  const mapping::KindPolicy& policy = *resolved.policy;
  json->set("rules_of", resolved.set->region.ToString());
  json->set("rules_name", resolved.set->name);
  json->set("validity_months", policy.validity_months ? Var(*policy.validity_months) : Var());
  json->set("validity_cite", policy.validity_cite);
  Array::Ptr statuses = new Array;
  for (RecordStatus status : policy.recognised_statuses) {
    statuses->add(std::string(StatusName(status)));
  }
  json->set("recognised_statuses", statuses);
  json->set("on_expiry", std::string(mapping::OutcomeName(policy.on_expiry)));
  json->set("sanctions_block", policy.sanctions_block);
  json->set("scale_documented", policy.documented);
  // The window the engine computed: the last day the level is still valid in the target.
  for (const mapping::Reason& reason : decision.reasons) {
    if (reason.code == mapping::ReasonCode::kWithinWindow ||
        reason.code == mapping::ReasonCode::kWindowExpired) {
      json->set("valid_from", FormatIsoDate(Date(std::chrono::days(reason.a))));
      json->set("valid_until", FormatIsoDate(Date(std::chrono::days(reason.b))));
    }
  }
  return json;
}

}  // namespace

void HandleRulesCatalog(ApiCall& call) {
  call.AllowQuery({"on"});
  call.Negotiate({MediaType::kJson});
  const Date on = DateParam(call, "on", Today());
  const mapping::RuleBook& book = *call.shared.book;
  Array::Ptr scales = new Array;
  for (int i = 0; i < book.scale_count(); ++i) scales->add(ScaleJson(book.scale(i)));
  Array::Ptr regions = new Array;
  for (const RegionCode code : book.Regions()) {
    if (const mapping::RuleSet* rules = book.RegionRules(code, on))
      regions->add(RegionJson(*rules));
  }
  Array::Ptr origins = new Array;
  for (const int code : kOriginRegions) origins->add(RegionCode{code}.ToString());
  Array::Ptr kinds = new Array;
  for (const RecordKind kind : kExplorerKinds) kinds->add(std::string(KindName(kind)));
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("on", FormatIsoDate(on));
  json.set("kinds", kinds);
  json.set("origins", origins);
  json.set("regions", regions);
  json.set("scales", scales);
  call.SendJson(200, json);
}

void HandleRulesDecision(ApiCall& call) {
  call.AllowQuery({"kind", "origin", "scale", "level", "target", "on", "dated"});
  call.Negotiate({MediaType::kJson});
  const mapping::RuleBook& book = *call.shared.book;
  const RecordKind kind = KindParam(call);
  const RegionCode origin = RegionParam(call, "origin");
  const RegionCode target = RegionParam(call, "target");
  const Date on = DateParam(call, "on", Today());
  const Date dated = DateParam(call, "dated", on);
  const mapping::Scale& scale = ScaleParam(call, book, origin, kind, on);
  const auto level_text = call.Query("level");
  if (!level_text) throw HttpError::BadParameter("level", "required (a code of " + scale.id + ")");
  const int level = scale.FindCode(*level_text);
  if (level < 0) {
    throw HttpError::BadParameter("level", "no level " + *level_text + " in " + scale.id);
  }

  const CanonicalRecord record = SyntheticRecord(kind, origin, scale, level, dated);
  const mapping::SanctionIndex no_sanctions;
  const mapping::Decision decision = mapping::Decide(record, target, on, book, no_sanctions);

  Object::Ptr query = NewObject();
  query->set("kind", std::string(KindName(kind)));
  query->set("origin", origin.ToString());
  query->set("scale", scale.id);
  query->set("level", scale.levels[level].code);
  query->set("level_label", scale.levels[level].label);
  query->set("target", target.ToString());
  query->set("on", FormatIsoDate(on));
  query->set("dated", FormatIsoDate(dated));
  const mapping::Agreement* agreement = book.FindAgreement(target, origin, kind, on);
  Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("query", query);
  json.set("decision", mapping::DecisionJson(decision, book));
  json.set("conditions", ConditionsJson(decision, book));
  json.set("agreement", agreement ? Var(BasisJson(agreement->legal_basis)) : Var());
  call.SendJson(200, json);
}

}  // namespace carehub::http
