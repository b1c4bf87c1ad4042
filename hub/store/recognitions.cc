#include "hub/store/recognitions.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <type_traits>
#include <variant>

#include "schemas/codec.h"

namespace carehub {
namespace {

using mapping::ReasonCode;

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Date EffectiveDate(const CanonicalRecord& record) {
  return std::visit(
      [](const auto& body) -> Date {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          return body.assessed_on;
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          return body.issued_on;
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          return body.rated_on;
        } else {
          return body.decided_on;
        }
      },
      record.body);
}

bool Decisive(ReasonCode code) {
  switch (code) {
    case ReasonCode::kNoTargetRules:
    case ReasonCode::kStatusNotRecognised:
    case ReasonCode::kSanctionBlocks:
    case ReasonCode::kSanctionNotInForce:
    case ReasonCode::kDatedAfter:
    case ReasonCode::kUnknownScale:
    case ReasonCode::kUnknownCode:
    case ReasonCode::kNoRuleInForce:
    case ReasonCode::kNoEntry:
    case ReasonCode::kUnmatched:
    case ReasonCode::kCaseByCase:
    case ReasonCode::kFlag:
    case ReasonCode::kLossy:
    case ReasonCode::kValidUntilPassed:
    case ReasonCode::kWindowExpired:
    case ReasonCode::kAdvisoryOnly:
      return true;
    default:
      return false;
  }
}

// Step 2 of hub/store/migrations.cc creates the table; this is what one row holds.
constexpr std::string_view kInsert =
    "INSERT INTO recognitions(target, record_id, on_date, record_version, kind, origin, "
    "outcome, target_scale, target_code, target_upper, rule, policy, equivalence, documented, "
    "legal_basis, sanction_id, reasons, decided_at) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)";

}  // namespace

std::vector<std::string> DecisiveReasons(const mapping::Decision& decision,
                                         const mapping::RuleBook& book) {
  std::vector<std::string> out;
  for (const auto& reason : decision.reasons) {
    if (Decisive(reason.code)) out.push_back(mapping::ReasonText(reason, decision, book));
  }
  return out;
}

Recognizer::Recognizer(Store& store, const mapping::RuleBook& book) : store_(store), book_(book) {
  store_.ForEachRecord({RecordKind::kSanction, std::nullopt}, [this](const StoredRecord& stored) {
    sanctions_.Add(DecodeSingleObject(stored.body));
    return true;
  });
}

RecognizedRecord Recognizer::Decide(StoredRecord stored, mapping::RegionCode target,
                                    Date on) const {
  RecognizedRecord out;
  out.record = DecodeSingleObject(stored.body);
  out.stored = std::move(stored);
  out.decision = mapping::Decide(out.record, target, on, book_, sanctions_);
  return out;
}

void Recognizer::Sort(std::vector<RecognizedRecord>& records) {
  std::sort(records.begin(), records.end(),
            [](const RecognizedRecord& a, const RecognizedRecord& b) {
              const Date da = EffectiveDate(a.record), db = EffectiveDate(b.record);
              if (a.record.kind() != b.record.kind()) return a.record.kind() < b.record.kind();
              if (da != db) return da < db;
              return a.stored.record_id < b.stored.record_id;
            });
}

std::vector<RecognizedRecord> Recognizer::ForPerson(const std::vector<Hmac256>& tokens,
                                                    mapping::RegionCode target, Date on) {
  std::vector<RecognizedRecord> out;
  std::set<std::string> seen;
  for (const auto& token : tokens) {
    for (auto& stored : store_.RecordsByToken(token)) {
      if (!seen.insert(stored.record_id).second) continue;
      out.push_back(Decide(std::move(stored), target, on));
    }
  }
  Sort(out);
  return out;
}

std::vector<RecognizedRecord> Recognizer::ForOrganisation(std::string_view uscc_or_local_id,
                                                          mapping::RegionCode target, Date on) {
  std::vector<RecognizedRecord> out;
  for (auto& stored : store_.RecordsBySubjectOrg(uscc_or_local_id)) {
    out.push_back(Decide(std::move(stored), target, on));
  }
  Sort(out);
  return out;
}

RecognitionSummary Recognizer::DecideAll(mapping::RegionCode target, Date on, std::int64_t now_ms) {
  const auto start = std::chrono::steady_clock::now();
  RecognitionSummary summary;
  summary.target = target.ToString();
  summary.on = on;
  summary.sanctions_indexed = static_cast<std::int64_t>(sanctions_.size());
  const std::int64_t on_days = on.time_since_epoch().count();

  // Records are read through a second connection: this Store's connection holds the write
  // transaction, and the Store forbids writing through it while ForEachRecord iterates. WAL
  // gives the reader a consistent snapshot beside the writer.
  Store reader = Store::Open(store_.dir());
  auto& db = store_.db();
  sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
  sqlite::Statement clear(db, "DELETE FROM recognitions WHERE target = ?1");
  clear.Bind(1, summary.target);
  clear.Run();
  sqlite::Statement insert(db, kInsert);
  double deciding = 0;
  reader.ForEachRecord({}, [&](const StoredRecord& stored) {
    const CanonicalRecord record = DecodeSingleObject(stored.body);
    const auto t0 = std::chrono::steady_clock::now();
    const mapping::Decision d = mapping::Decide(record, target, on, book_, sanctions_);
    deciding += Since(t0);

    const std::string outcome(mapping::OutcomeName(d.outcome));
    Poco::JSON::Array reasons;
    for (auto& text : DecisiveReasons(d, book_)) reasons.add(text);
    std::ostringstream reasons_json;
    reasons.stringify(reasons_json);
    std::optional<std::string> scale, code, upper, basis, sanction;
    if (d.target_scale >= 0) scale = book_.scale(d.target_scale).id;
    if (d.target_level >= 0) code = std::string(mapping::TargetCode(d, book_));
    if (d.target_upper >= 0) upper = book_.scale(d.target_scale).levels[d.target_upper].code;
    if (d.legal_basis != nullptr) {
      basis = d.legal_basis->document;
      if (!d.legal_basis->article.empty()) *basis += " " + d.legal_basis->article;
    }
    if (d.sanction != nullptr) sanction = d.sanction->record_id;

    insert.Bind(1, summary.target)
        .Bind(2, stored.record_id)
        .Bind(3, on_days)
        .Bind(4, stored.version)
        .Bind(5, KindName(stored.kind))
        .Bind(6, stored.origin)
        .Bind(7, outcome)
        .Bind(8, scale)
        .Bind(9, code)
        .Bind(10, upper)
        .Bind(11, d.RuleText())
        .Bind(12, d.PolicyText())
        .Bind(13, mapping::EquivalenceName(d.equivalence))
        .Bind(14, d.documented ? 1 : 0)
        .Bind(15, basis)
        .Bind(16, sanction)
        .Bind(17, reasons_json.str())
        .Bind(18, now_ms);
    insert.Run();
    ++summary.records;
    ++summary.by_outcome_origin[{outcome, stored.origin}];
    return true;
  });
  tx.Commit();
  summary.seconds_deciding = deciding;
  summary.seconds_total = Since(start);
  return summary;
}

const NativeLevel& NativeLevelOf(const CanonicalRecord& record) {
  return std::visit([](const auto& body) -> const NativeLevel& { return body.native; },
                    record.body);
}

std::string EventDateText(const CanonicalRecord& record) {
  return std::visit(
      [](const auto& body) -> std::string {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          return "assessed " + FormatIsoDate(body.assessed_on);
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          return "issued " + FormatIsoDate(body.issued_on);
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          return "rated " + FormatIsoDate(body.rated_on);
        } else {
          return "decided " + FormatIsoDate(body.decided_on);
        }
      },
      record.body);
}

Poco::JSON::Object::Ptr RecognizedRecordJson(const RecognizedRecord& item,
                                             const mapping::RuleBook& book) {
  Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  json->set("record_id", item.stored.record_id);
  json->set("kind", std::string(KindName(item.record.kind())));
  json->set("origin", item.stored.origin);
  json->set("version", item.stored.version);
  json->set("status", std::string(StatusName(item.record.status)));
  json->set("profile", item.record.provenance.profile);
  const NativeLevel& native = NativeLevelOf(item.record);
  Poco::JSON::Object::Ptr n = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  n->set("scale", native.scale);
  n->set("code", native.code);
  n->set("label", native.label);
  json->set("native", n);
  json->set("date", EventDateText(item.record));
  json->set("decision", mapping::DecisionJson(item.decision, book));
  return json;
}

}  // namespace carehub
