// Internals of the synthetic-data generator (connectors/generator.h): the per-row random
// stream, the row planner that fills a profile's fields and injects one defect, synthetic names,
// and the writer of native files (CSV/JSON/NDJSON/XML in UTF-8, GBK or Big5).
#pragma once

#include <Poco/TextEncoding.h>

#include <fstream>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "connectors/generator.h"

namespace carehub {

inline std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// splitmix64: tiny, fast to seed per row, good enough for synthetic data.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t Below(std::uint64_t bound) { return bound == 0 ? 0 : Next() % bound; }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

inline std::uint64_t Hash(std::string_view text) {  // FNV-1a
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Zero-padded decimal.
inline std::string Pad(std::int64_t number, int width) {
  std::string digits = std::to_string(number);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// A plausible name for a resident of `home_region` (Chinese, Cantonese romanisation, or
// Portuguese), only from characters that GBK and Big5 both encode.
std::string SyntheticName(const std::string& home_region, Sex sex, Rng& rng);
// A plausible organisation name (care home, assessment agency, training body) in `home_region`.
std::string SyntheticOrgName(const std::string& home_region, RecordKind kind, std::int64_t number,
                             Rng& rng);

class RowPlan {
 public:
  RowPlan(const Profile& profile, const GeneratorOptions& options, std::int64_t index);
  GeneratedRow Build(const std::vector<std::string>& kinds);
  static std::string DefectOf(const Profile& profile, const GeneratorOptions& options,
                              const std::vector<std::string>& kinds, std::int64_t index);

 private:
  std::string SourceId(std::int64_t index) const;
  void FillValid(GeneratedRow& row);
  bool ApplyDefect(const std::string& defect, const std::vector<std::string>& kinds,
                   GeneratedRow& row);
  void Set(GeneratedRow& row, CanonicalField field, std::string value) const;
  std::string Get(const GeneratedRow& row, CanonicalField field) const;
  std::string FormatDate(CanonicalField field, int year, unsigned month, unsigned day) const;
  std::string FormatDate(CanonicalField field, Date date) const;
  bool HasPersonField() const;
  bool HasUsccField() const;
  SyntheticPerson PickPerson(std::int64_t block_offset, bool any_home);
  void FillOrg(GeneratedRow& row, bool employer, const std::string& region_code,
               std::int64_t number);

  const Profile& profile_;
  const GeneratorOptions& options_;
  std::int64_t index_;
  Rng rng_;
  Date event_{};
};

// Writes rows in the profile's format and encoding, streaming (constant memory).
class NativeWriter {
 public:
  NativeWriter(const Profile& profile, const std::string& path);
  void Write(const GeneratedRow& row);
  void Close();

 private:
  void Put(std::string_view utf8);  // encodes and appends to the output buffer
  void Flush();

  const Profile& profile_;
  std::string path_;
  std::ofstream out_;
  std::string buffer_;
  std::unique_ptr<Poco::TextEncoding> target_;    // null for UTF-8
  std::unordered_map<int, std::string> encoded_;  // code point -> target bytes (cache)
  std::int64_t written_ = 0;
};

}  // namespace carehub
