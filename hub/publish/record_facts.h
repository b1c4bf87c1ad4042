// The few facts of a stored record that the research tables use (research_tables.h): its kind
// and status, its privacy unit, the region it is counted in, its day, and its codes. Read
// straight from the record's Avro single-object encoding with a ProjectionReader
// (schemas/projection.h), which skips every other field: decoding whole records dominated the
// cost of publishing. The geography rules (docs/DATASETS.md) live here: a person's residence,
// else the assessor's or employer's region, else the record's origin; a facility's region; a
// sanctioned person's residence or organisation's region, else the issuer's.
// Views in RecordFacts point into the bytes and origin last read: valid until the next Read.
// Thread-safety: one RecordFactsReader per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "schemas/projection.h"
#include "schemas/record.h"

namespace carehub {

struct RecordFacts {
  RecordKind kind = RecordKind::kAssessment;
  std::string_view status;  // Avro symbol: "ACTIVE", "EXPIRED", "REVOKED", ...
  // A person: the first 8 bytes of the smallest of its keyed tokens (HMACs are uniform, so
  // collisions are negligible); an organisation: a hash of its USCC, else its local id; with
  // neither, a hash of the record id.
  std::uint64_t unit = 0;
  std::string_view region;  // GB/T 2260 code the record is counted in (may be any text)
  std::int32_t day = 0;     // assessed_on, issued_on, rated_on or decided_on (days since 1970)
  std::optional<std::int32_t> valid_until;  // caregiver qualifications
  std::optional<int> birth_year;            // assessments
  std::string_view sex = "U";               // assessments: "M", "F" or "U"
  std::string_view native_scale;            // assessments
  std::string_view native_code;
  std::optional<int> pivot_level;  // assessments, qualifications, facilities
  bool comparable = false;         // facilities
  std::string_view sanction_type;  // sanctions: "PENALTY", "BLACKLIST", "DISHONESTY"
  bool subject_is_person = false;  // sanctions
};

class RecordFactsReader {
 public:
  RecordFactsReader();
  // Reads the facts of one single object of origin region `origin`. Throws Error::Corruption
  // for a body that does not decode.
  const RecordFacts& Read(std::string_view single_object, std::string_view origin);

 private:
  void ReadAssessment(std::string_view origin);
  void ReadCaregiver(std::string_view origin);
  void ReadFacility();
  void ReadSanction(std::string_view origin);
  std::uint64_t PersonUnit(std::size_t tokens_path);
  std::uint64_t OrgUnit(std::size_t uscc_path, std::size_t local_path, std::size_t region_path);
  std::string_view Text(std::size_t path) const;
  std::optional<std::int64_t> Number(std::size_t path) const;

  ProjectionReader reader_;
  RecordFacts facts_;
  std::string scratch_;
};

}  // namespace carehub
