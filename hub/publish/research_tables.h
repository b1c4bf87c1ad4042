// The research tables of an open-data release, designed from researchers' questions
// (docs/DATASETS.md): care-need levels by prefecture x quarter (pivot GB/T 42195 and native);
// by province x year x 10-year age band x sex; active caregivers by level and prefecture at the
// last eight quarter ends; facilities by their latest grade and prefecture; sanction notices by
// province x year x type. A table is a list of groups (one published total each) whose classes
// are its cells; rows exist for every group and class of a fixed, public domain, so the data
// never decides which rows exist. Records become contributions of a privacy unit (a person
// token, a facility, a sanction subject) to one cell; BoundContributions keeps at most k per
// unit, which bounds what one unit can change (the sensitivity the noise is scaled to).
// Thread-safety: TableCollector belongs to one thread; the rest are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

enum class PeriodKind { kNone, kQuarter, kYear, kQuarterEnd };

struct TableSpec {
  std::string name;  // file stem, e.g. "assessment_levels_by_prefecture_quarter"
  std::string title;
  std::string question;  // the research question the table answers
  std::string unit;      // "persons", "facilities", "sanction notices"
  std::string unit_meaning;
  std::string geo_column;  // "prefecture" or "province"
  PeriodKind period = PeriodKind::kNone;
  std::string period_column;               // "quarter", "year", "quarter_end" or ""
  std::vector<std::string> extra_columns;  // further group columns (scale; age_band, sex; ...)
  std::string class_column;                // the column whose values are the cells of a group
  int max_contributions = 1;  // k: contributions one privacy unit may make (the latest kept)
  // True: a unit contributes at most once per group (so at most 1 to any cell and margin,
  // L2 sensitivity sqrt(k)); false: up to k times anywhere (L2 sensitivity k).
  bool one_per_group = true;
  // The squared L2 sensitivity of the cells (and, separately, of the group totals).
  std::int64_t SquaredSensitivity() const {
    return one_per_group ? max_contributions : std::int64_t{max_contributions} * max_contributions;
  }
};

// One group of a table: its key, its classes (the cells) and whether its period is complete.
struct TableGroup {
  std::string geo;
  std::string period;               // "" when the table has no period column
  std::vector<std::string> extras;  // values of spec.extra_columns
  const std::vector<std::string>* classes = nullptr;
  Date first_day{};      // first and last day the period covers (the day, for a quarter end;
  Date last_day{};       // both 0 without a period)
  bool complete = true;  // false when the period ends on or after the release's as-of day
};

// One unit's contribution of 1 to cell (group, cls); `day` orders a unit's contributions. While
// the collector gathers them, `group` holds the geography index and `extra`/`period` the rest of
// the group key; Finish resolves them into group indexes in place (one vector per table, no copy).
struct Contribution {
  std::uint64_t unit = 0;
  std::uint32_t group = 0;
  std::uint16_t extra = 0;  // collecting only
  std::uint16_t cls = 0;
  std::int32_t period = 0;  // collecting only: quarter or year ordinal, 0 without period
  std::int32_t day = 0;
};

struct TableInput {
  const TableSpec* spec = nullptr;
  std::vector<TableGroup> groups;
  std::vector<Contribution> contributions;
};

// The five tables, in release order.
const std::vector<TableSpec>& ResearchTableSpecs();

// Code lists with Chinese and English labels, for the codebook.
struct CodeLabel {
  std::string code;
  std::string zh;
  std::string en;
};
// The values a column can take with their labels (regions excluded: see regions.h); empty for
// columns whose values are self-describing (quarters, years, dates).
std::vector<CodeLabel> ColumnCodes(const TableSpec& spec, const std::string& column);

// Streams records into the five tables.
class TableCollector {
 public:
  TableCollector();
  ~TableCollector();
  TableCollector(const TableCollector&) = delete;
  TableCollector& operator=(const TableCollector&) = delete;

  // Adds one record (not retracted) of origin region `origin`, given as its single-object
  // encoding (as stored); reads only the fields the tables need (record_facts.h). Throws
  // Error::Corruption for a body that does not decode.
  void AddEncoded(std::string_view single_object, std::string_view origin);
  // The same for a decoded record (encodes it first; for tests).
  void Add(const CanonicalRecord& record, const std::string& origin);
  // The tables with their groups over the periods seen and their contributions, unbounded.
  std::vector<TableInput> Finish();

 private:
  struct State;
  State* state_;
};

// Keeps, per unit, at most spec.max_contributions contributions (the latest; with
// one_per_group the latest per group first) and returns the true counts: per group the total
// and per class the cell. Deterministic (ties broken by group, then class).
struct TrueCounts {
  std::vector<std::int64_t> totals;              // per group
  std::vector<std::vector<std::int64_t>> cells;  // per group, per class
  std::int64_t contributions_dropped = 0;        // by the bound
};
TrueCounts BoundContributions(TableInput& table);

// Flags the groups whose period ends on or after `as_of` as incomplete (data still arriving).
void MarkIncompletePeriods(std::vector<TableInput>& tables, Date as_of);

}  // namespace carehub
