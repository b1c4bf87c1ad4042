// Reads a few named fields of single-object-encoded records without materialising them (the
// open-data tables need a dozen of a record's ~40 values). A ProjectionReader is given field
// paths ("assessed_on", "person.tokens.token", "pivot.level"); for each writer schema it meets
// (builtin or registered, by fingerprint) it compiles once a plan that walks the Avro binary body
// field by field, keeps the wanted values and skips every other field by its writer type, as
// Avro schema resolution does. Unions and arrays are transparent in paths: the null branch gives
// no value, an array gives one value per item; a path the writer schema lacks gives no value.
// Values are numbers (int, long, boolean, date) or views (string, bytes, fixed, enum symbol)
// into the body or the schema, valid until the next Read.
// Bad bodies throw Error::Corruption like DecodeSingleObject: never reads outside the bytes.
// Thread-safety: one ProjectionReader per thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

struct ProjectedValue {
  std::int64_t number = 0;  // int, long, boolean (0/1), enum index
  std::string_view text;    // string, bytes, fixed, enum symbol
};

class ProjectionReader {
 public:
  explicit ProjectionReader(std::vector<std::string> paths);
  ~ProjectionReader();
  ProjectionReader(const ProjectionReader&) = delete;
  ProjectionReader& operator=(const ProjectionReader&) = delete;

  // Reads one single object (C3 01, fingerprint, body). Throws Error::Corruption for a bad
  // header, an unknown fingerprint, a short or over-long body or an impossible length.
  void Read(std::string_view single_object);

  RecordKind kind() const { return kind_; }
  // The values of paths[i] in the last record read (empty when absent).
  std::span<const ProjectedValue> Values(std::size_t i) const { return values_[i]; }
  // The first value of paths[i], or nullptr.
  const ProjectedValue* First(std::size_t i) const {
    return values_[i].empty() ? nullptr : &values_[i].front();
  }

  struct Plan;  // compiled per writer schema (projection.cc)

 private:
  const Plan& PlanFor(std::uint64_t fingerprint);

  std::vector<std::string> paths_;
  std::map<std::uint64_t, std::unique_ptr<Plan>> plans_;
  std::vector<std::vector<ProjectedValue>> values_;
  RecordKind kind_ = RecordKind::kAssessment;
};

}  // namespace carehub
