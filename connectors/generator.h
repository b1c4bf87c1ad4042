// Deterministic synthetic native exports for any region profile (`carehub gen`): valid check
// digits, realistic level distributions, people shared across regions (relocating residents,
// caregivers working in another region), and injected defects of known kinds with the exact
// expected outcome per row, so tests and benchmarks know what the connector must accept and
// reject. Everything is driven by the Profile (field names, formats, code tables): adding a
// region adds data only. Same (profile, seed, rows, defect rate, as-of date) -> same bytes.
// A Generator is immutable after construction; Row() is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/profile.h"
#include "schemas/record.h"

namespace carehub {

// A synthetic person. Identifiers are fake but valid (check digits right); they are personal
// data in a real export, so callers must treat them as such (never log them).
struct SyntheticPerson {
  std::string home_region;  // 310000, 810000, ...
  std::string prc_id;       // GB 11643; HK/Macau residents: their residence permit if any, else ""
  std::optional<std::string> hk_id;     // "A123456(3)"
  std::optional<std::string> macau_id;  // "1234567(8)"
  std::string name;
  Date birth{};
  Sex sex = Sex::kUnknown;
};

// People are a function of (seed, home region, number) only, so the same seed yields the same
// people in every region's files.
SyntheticPerson MakeSyntheticPerson(std::uint64_t seed, const std::string& home_region,
                                    std::int64_t number);

inline constexpr Date kDefaultAsOf{std::chrono::year{2025} / 12 / 31};

struct GeneratorOptions {
  std::int64_t rows = 1000;
  std::uint64_t seed = 1;
  double defect_rate = 0.02;
  // "Today" of the export: valid dates lie before it, future_date defects decades after it. A
  // fixed default (never the clock) keeps files byte-identical whenever they are generated; it
  // must not lie after the ingest clock, or valid rows would read as future_date.
  Date as_of = kDefaultAsOf;
};

// One row as generated, before it is written in the profile's format.
struct GeneratedRow {
  std::vector<std::string> values;  // UTF-8, one per Profile::fields entry
  std::string defect;               // "" for a valid row, else the expected reason code
  std::optional<SyntheticPerson>
      person;                // the row's person (assessment, caregiver, person sanction)
  bool malformed = false;    // written so the reader cannot parse it as a record
  bool undecodable = false;  // malformed CSV: a byte that is no character in the encoding
  Date event_date{};         // assessed_on / issued_on / rated_on / decided_on of a valid row
};

struct GenerationSummary {
  std::int64_t rows = 0;
  std::int64_t accepted = 0;
  std::int64_t quarantined = 0;
  std::map<std::string, std::int64_t> by_reason;
};

class Generator {
 public:
  Generator(const Profile& profile, GeneratorOptions options);

  GeneratedRow Row(std::int64_t index) const;  // index in [0, rows)

  // Writes the native file and, beside it, `<path>.expected.json`. Throws Error::IoError.
  GenerationSummary Write(const std::string& path) const;

  const Profile& profile() const { return profile_; }

 private:
  const Profile& profile_;
  GeneratorOptions options_;
  std::vector<std::string> defect_kinds_;  // the kinds this profile can carry
};

}  // namespace carehub
