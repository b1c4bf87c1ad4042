// The store side of mutual recognition: reads records from a hub Store, decodes them, builds
// the sanctions index from every notice the hub holds (any origin), asks mapping::Decide, and
// for a whole-store run writes the decisions into the `recognitions` table (one transaction).
// Ownership: a Recognizer borrows the Store and the RuleBook (both must outlive it and every
// RecognizedRecord it returns, whose decisions point into the book and the sanctions index).
// Thread-safety: like the Store, one thread at a time.
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/store/store.h"
#include "mapping/engine.h"

namespace carehub {

struct RecognizedRecord {
  StoredRecord stored;     // as stored (body = Avro bytes)
  CanonicalRecord record;  // decoded
  mapping::Decision decision;
};

// How a recognised record is shown, the same in `carehub recognize` and the HTTP API: the
// native level as the source gave it, and its date with what the date means.
const NativeLevel& NativeLevelOf(const CanonicalRecord& record);
std::string EventDateText(const CanonicalRecord& record);  // "assessed 2024-01-31"
// {record_id, kind, origin, version, status, profile, native{scale,code,label}, date,
// decision}: the shape of `carehub recognize --json` and POST /v1/recognitions.
Poco::JSON::Object::Ptr RecognizedRecordJson(const RecognizedRecord& item,
                                             const mapping::RuleBook& book);

// Counts of one `--all` run.
struct RecognitionSummary {
  std::string target;
  Date on{};
  std::int64_t records = 0;
  std::int64_t sanctions_indexed = 0;
  // (outcome name, origin) -> count
  std::map<std::pair<std::string, std::string>, std::int64_t> by_outcome_origin;
  double seconds_total = 0;
  double seconds_deciding = 0;  // inside mapping::Decide only
};

class Recognizer {
 public:
  // Indexes every sanction notice in the store (decoding them).
  Recognizer(Store& store, const mapping::RuleBook& book);

  const mapping::SanctionIndex& sanctions() const { return sanctions_; }

  // Every record carrying any of `tokens` (assessments, caregiver qualifications and notices
  // against the person), each once, decided for `target` on `on`; ordered by kind, then date.
  std::vector<RecognizedRecord> ForPerson(const std::vector<Hmac256>& tokens,
                                          mapping::RegionCode target, Date on);
  // Every record whose subject organisation is `uscc_or_local_id` (facility ratings and
  // notices against it), decided likewise.
  std::vector<RecognizedRecord> ForOrganisation(std::string_view uscc_or_local_id,
                                                mapping::RegionCode target, Date on);

  // Decides every record of the store for `target` on `on` and replaces the target's rows of
  // the recognitions table with the new decisions, in one BEGIN IMMEDIATE transaction: a crash
  // leaves the previous run's rows or all of the new ones. `now_ms` is stored as decided_at.
  RecognitionSummary DecideAll(mapping::RegionCode target, Date on, std::int64_t now_ms);

 private:
  RecognizedRecord Decide(StoredRecord stored, mapping::RegionCode target, Date on) const;
  static void Sort(std::vector<RecognizedRecord>& records);

  Store& store_;
  const mapping::RuleBook& book_;
  mapping::SanctionIndex sanctions_;
};

// The reasons that decide the outcome (conditions, blocks, expiry), as stored in
// recognitions.reasons; the full ordered list is ReasonTexts.
std::vector<std::string> DecisiveReasons(const mapping::Decision& decision,
                                         const mapping::RuleBook& book);

}  // namespace carehub
