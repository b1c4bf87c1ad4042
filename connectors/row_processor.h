// The format-independent half of the connector engine: takes one row's native field values
// (UTF-8, in profile field order), validates them in the order of notes/reason_codes.md and
// either builds the CanonicalRecord or a Rejection. Lookups are compiled once per profile; the
// per-file state is the duplicate-id set (connectors/id_set.h). Not thread-safe (one processor per
// file being read).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "connectors/date_pattern.h"
#include "connectors/id_set.h"
#include "connectors/person_token.h"
#include "connectors/profile.h"

namespace carehub {

// The raw row, produced only when a row is rejected.
class RawRow {
 public:
  virtual ~RawRow() = default;
  virtual std::string Text() const = 0;
};

struct ProcessorContext {
  std::string origin_region;  // provenance origin and record id prefix
  const PersonTokenizer* tokenizer = nullptr;
  std::string file_name;  // base name, for provenance and rejections
  std::int64_t ingested_at_ms = 0;
  Date today{};                             // dates after this day are in the future
  std::size_t max_field_bytes = 64u << 10;  // a longer value makes the row malformed_row
};

class RowProcessor {
 public:
  RowProcessor(const Profile& profile, ProcessorContext context);
  ~RowProcessor();

  // `values[i]` is the value of profile.fields[i] ("" when absent), UTF-8; it is put in Unicode
  // NFC before any check. Calls exactly one of sink.Accept / sink.Reject and updates `stats`.
  void Process(std::int64_t row, std::span<const std::string_view> values, const RawRow& raw,
               RecordSink& sink, ReadStats& stats);
  // A row that could not be read at all (malformed_row).
  void Malformed(std::int64_t row, std::string_view field, std::string_view explanation,
                 std::string raw, RecordSink& sink, ReadStats& stats);

 private:
  struct Failure {
    int field = -1;  // profile field index, -1 = whole row
    std::string reason;
  };

  std::span<const std::string_view> Normalise(std::span<const std::string_view> values);
  std::optional<Failure> Validate(std::span<const std::string_view> values);
  CanonicalRecord Build(std::int64_t row, std::span<const std::string_view> values);
  std::string_view Value(std::span<const std::string_view> values, CanonicalField f) const;
  int Index(CanonicalField f) const { return index_[static_cast<int>(f)]; }
  const std::string& Name(CanonicalField f) const;
  std::optional<OrgRef> Org(std::span<const std::string_view> values, bool employer) const;
  PersonRef Person(std::span<const std::string_view> values);

  const Profile& profile_;
  ProcessorContext ctx_;
  int index_[kCanonicalFieldCount];
  std::vector<std::optional<DatePattern>> patterns_;  // per field index (date fields only)
  std::unique_ptr<IdSet> seen_ids_;
  std::vector<std::string> nfc_texts_;  // per field: the NFC form when it differs in bytes
  std::vector<std::string_view> nfc_values_;
  // Per row scratch, filled by Validate and used by Build.
  std::string source_id_;
  std::string record_id_;
  std::string person_id_;
  std::string alt_id_;
  const LevelEntry* level_ = nullptr;
  Date event_date_{};
  std::optional<Date> valid_until_;
  std::optional<Date> birth_;
  Sex sex_ = Sex::kUnknown;
  RecordStatus status_ = RecordStatus::kActive;
  SubjectKind subject_kind_ = SubjectKind::kOrganisation;
  std::optional<int> score_;
  std::optional<int> beds_;
};

// ASCII blanks and full-width spaces stripped from both ends.
std::string_view TrimField(std::string_view text);

}  // namespace carehub
