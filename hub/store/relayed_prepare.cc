// PrepareRelayed (relayed_bulk.h): the lookup columns of a relayed batch's bodies, read on the
// exchange's decoder thread while the writer writes the batch before. A body of a builtin writer
// schema is read with a ProjectionReader (schemas/projection.h: only the dozen values the columns
// need, as views into the body, every other field skipped by its type) instead of being decoded
// into a CanonicalRecord (~40 values, a dozen heap strings per record: the decode and its
// allocations were most of that thread's CPU in a catch-up, docs/PERFORMANCE.md "Session
// 11"). The walk checks the whole body as the decoder does (lengths, union branches, enum
// symbols, nothing after the record); anything else — a registered (foreign) writer schema,
// whose fields schema resolution maps, a body the walk refuses, a number outside an Avro int —
// is decoded in full (PrepareRelayedOne), which throws where the decoder throws. Given the
// writer's encoding dictionaries, the bodies are compressed here too (the writer's other large
// per-body cost), with the same zstd parameters, so into the same bytes. A body a version-6
// BATCH sent compressed is stored as received (the frame is taken over, not compressed again).
#include <algorithm>
#include <cstring>

#include "hub/store/lookup_keys.h"
#include "hub/store/relayed_bulk.h"
#include "hub/store/zstd_codec.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "schemas/projection.h"

namespace carehub {
namespace {

// Paths of every builtin schema the columns read (a path a schema lacks gives no value).
enum Slot : std::size_t {
  kRecordId,
  kStatus,
  kSourceRecordId,
  kPivotLevel,
  kPersonTokens,   // assessment, caregiver: person.tokens.token
  kSubjectTokens,  // sanction: subject_person.tokens.token
  kAssessedOn,
  kIssuedOn,
  kRatedOn,
  kDecidedOn,
  kValidUntil,  // assessment, caregiver, facility
  kEndsOn,      // sanction
  kFacilityUscc,
  kFacilityLocalId,
  kSubjectUscc,
  kSubjectLocalId,
};

std::vector<std::string> Paths() {
  return {"record_id",
          "status",
          "provenance.source_record_id",
          "pivot.level",
          "person.tokens.token",
          "subject_person.tokens.token",
          "assessed_on",
          "issued_on",
          "rated_on",
          "decided_on",
          "valid_until",
          "ends_on",
          "facility.uscc",
          "facility.local_id",
          "subject_org.uscc",
          "subject_org.local_id"};
}

bool IsBuiltin(std::uint64_t fingerprint) {
  const auto& builtins = BuiltinSchemas();
  return std::any_of(builtins.begin(), builtins.end(),
                     [&](const SchemaInfo& s) { return s.fingerprint == fingerprint; });
}

// Reads the columns of one body; false when the full decode must decide (a value the decoder
// would read differently: an Avro int outside 32 bits).
class Projector {
 public:
  bool Columns(std::string_view origin, const ChangeEntry& e, RelayedColumns& p) {
    reader_.Read(e.body);  // throws Error::Corruption as the decoder would
    p.kind = reader_.kind();
    const ProjectedValue* status = reader_.First(kStatus);
    const ProjectedValue* id = reader_.First(kRecordId);
    const ProjectedValue* source = reader_.First(kSourceRecordId);
    if (status == nullptr || id == nullptr || source == nullptr) return false;
    p.status = static_cast<RecordStatus>(status->number);
    RecordColumns& c = p.columns;
    if (!Int(kPivotLevel, c.pivot_level)) return false;
    std::optional<int> effective;
    std::optional<int> until;
    switch (p.kind) {
      case RecordKind::kAssessment:
        if (!Int(kAssessedOn, effective) || !Int(kValidUntil, until)) return false;
        Tokens(kPersonTokens, c.tokens);
        break;
      case RecordKind::kCaregiver:
        if (!Int(kIssuedOn, effective) || !Int(kValidUntil, until)) return false;
        Tokens(kPersonTokens, c.tokens);
        break;
      case RecordKind::kFacility:
        if (!Int(kRatedOn, effective) || !Int(kValidUntil, until)) return false;
        c.subject_org = OrgKey(kFacilityUscc, kFacilityLocalId);
        break;
      case RecordKind::kSanction:
        if (!Int(kDecidedOn, effective) || !Int(kEndsOn, until)) return false;
        c.subject_org = OrgKey(kSubjectUscc, kSubjectLocalId);
        Tokens(kSubjectTokens, c.tokens);
        break;
    }
    if (!effective) return false;  // a required date: the decoder reads one in every record
    c.effective_on = *effective;
    if (until) c.valid_until = *until;
    p.record_key = RecordKey(e.record_id);
    p.fingerprint = SingleObjectFingerprint(e.body).value_or(0);
    p.of_entry = id->text == e.record_id;
    p.derived_id = e.version == 1 && MakeRecordId(origin, p.kind, source->text) == id->text;
    return true;
  }

 private:
  // The first value of `slot` as an Avro int (absent: nullopt); false when outside 32 bits.
  bool Int(std::size_t slot, std::optional<int>& out) const {
    const ProjectedValue* v = reader_.First(slot);
    if (v == nullptr) return true;
    if (v->number < INT32_MIN || v->number > INT32_MAX) return false;
    out = static_cast<int>(v->number);
    return true;
  }

  void Tokens(std::size_t slot, std::vector<Hmac256>& out) const {
    for (const ProjectedValue& v : reader_.Values(slot)) {
      Hmac256 token{};
      if (v.text.size() != token.size()) throw Error::Corruption("avro fixed of unexpected size");
      std::memcpy(token.data(), v.text.data(), token.size());
      out.push_back(token);
    }
  }

  // The organisation's key as ColumnsOf takes it: its USCC when present, else its local id.
  std::optional<std::string> OrgKey(std::size_t uscc, std::size_t local_id) const {
    if (const ProjectedValue* v = reader_.First(uscc)) return std::string(v->text);
    if (const ProjectedValue* v = reader_.First(local_id)) return std::string(v->text);
    return std::nullopt;
  }

  ProjectionReader reader_{Paths()};
};

// `p` as a new RelayedColumns, its heap buffers (tokens, compressed) kept for reuse.
RelayedColumns& Cleared(RelayedColumns& p) {
  p.kind = RecordKind::kAssessment;
  p.status = RecordStatus::kActive;
  p.columns.subject_org.reset();
  p.columns.pivot_level.reset();
  p.columns.effective_on.reset();
  p.columns.valid_until.reset();
  p.columns.tokens.clear();
  p.record_key = 0;
  p.fingerprint = 0;
  p.of_entry = false;
  p.derived_id = false;
  p.dict.reset();
  p.compressed.clear();
  p.received.reset();
  return p;
}

}  // namespace

std::vector<RelayedColumns> PrepareRelayed(
    std::string_view origin, std::span<const ChangeEntry> entries,
    const std::map<std::uint64_t, DictionaryPtr>* dictionaries,
    std::span<CompressedBody> received) {
  std::vector<RelayedColumns> out;
  PrepareRelayed(origin, entries, dictionaries, received, out);
  return out;
}

void PrepareRelayed(std::string_view origin, std::span<const ChangeEntry> entries,
                    const std::map<std::uint64_t, DictionaryPtr>* dictionaries,
                    std::span<CompressedBody> received, std::vector<RelayedColumns>& out) {
  thread_local Projector projector;  // its plans are compiled once per writer schema
  thread_local zstd::Compressor compressor;
  out.reserve(entries.size());
  const bool as_received = received.size() == entries.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ChangeEntry& e = entries[i];
    RelayedColumns& p = i < out.size() ? Cleared(out[i]) : out.emplace_back();
    const auto fingerprint = SingleObjectFingerprint(e.body);
    bool projected = false;
    if (fingerprint && IsBuiltin(*fingerprint)) {
      try {
        projected = projector.Columns(origin, e, p);
      } catch (const Error&) {
        projected = false;
      }
    }
    if (!projected) p = PrepareRelayedOne(origin, e);
    if (as_received && received[i].dict) {  // stored as received, not compressed again
      p.received = received[i].dict;
      p.dict = p.received->id();
      // Taken over (not swapped with the old buffer: both would then be held per entry).
      p.compressed = std::move(received[i].frame);
      continue;
    }
    if (dictionaries == nullptr || !fingerprint) continue;
    if (const auto d = dictionaries->find(*fingerprint); d != dictionaries->end() && d->second) {
      compressor.Compress(d->second->dict, e.body, p.compressed);
      p.dict = d->second->id();
    }
  }
  out.resize(entries.size());
}

}  // namespace carehub
