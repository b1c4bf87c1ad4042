// Row generation for `carehub gen`. Randomness is a pure function of (seed, profile, row), so
// any row can be regenerated alone (Generator::Row) and files are byte-identical across runs.
//
// Overlap rules (why regions share people): a row of region R draws person (R, n) from R's own
// block, except with probability kOverlap a person of another home region whose identifiers the
// profile can carry (PRC-id profiles take everyone: Hong Kong and Macau residents through their
// residence permits). Caregivers live in a separate block; a sanction against a person names a
// caregiver of any region, so blacklisted staff can be found where they work.
#include "connectors/generator.h"

#include <cstdio>
#include <fstream>

#include "connectors/generator_internal.h"
#include "connectors/identifiers.h"
#include "schemas/error.h"

namespace carehub {
namespace {

using CF = CanonicalField;

// District codes used as the address part of generated resident ids, per home province.
const std::vector<std::string>& AddressCodes(const std::string& home) {
  static const std::map<std::string, std::vector<std::string>> kCodes = {
      {"310000", {"310115", "310104", "310105", "310110", "310112", "310230"}},
      {"320000", {"320104", "320102", "320105", "320106", "320111"}},
      {"330000", {"330106", "330102", "330105", "330108", "330110"}},
      {"340000", {"340104", "340102", "340103", "340111", "340121"}},
      {"440000", {"440106", "440104", "440305", "440304", "440402", "440403"}},
      {"810000", {"810000"}},
      {"820000", {"820000"}},
  };
  return kCodes.at(home);
}

std::string PrcId(const std::string& address, Date birth, Sex sex, Rng& rng) {
  std::chrono::year_month_day ymd{birth};
  std::string id = address + Pad(static_cast<int>(ymd.year()), 4) +
                   Pad(static_cast<unsigned>(ymd.month()), 2) +
                   Pad(static_cast<unsigned>(ymd.day()), 2);
  int sequence = static_cast<int>(rng.Below(500)) * 2 + (sex == Sex::kMale ? 1 : 0);
  id += Pad(sequence, 3);
  id.push_back(PrcCheckCharacter(id));
  return id;
}

bool HasField(const Profile& profile, CF field) { return profile.FindField(field) != nullptr; }

}  // namespace

SyntheticPerson MakeSyntheticPerson(std::uint64_t seed, const std::string& home_region,
                                    std::int64_t number) {
  Rng rng(Mix(Mix(seed, Hash(home_region)), static_cast<std::uint64_t>(number)));
  SyntheticPerson person;
  person.home_region = home_region;
  person.sex = rng.Below(2) == 0 ? Sex::kMale : Sex::kFemale;
  const Date earliest = *ParseIsoDate("1930-01-01");
  person.birth = earliest + std::chrono::days(rng.Below(36 * 365));
  const auto& codes = AddressCodes(home_region);
  person.prc_id = PrcId(codes[rng.Below(codes.size())], person.birth, person.sex, rng);
  // About half of Hong Kong and Macau residents hold a mainland residence permit.
  if (home_region[0] == '8' && rng.Below(2) == 0) person.prc_id.clear();
  if (home_region == "810000") {
    std::string body(1, static_cast<char>('A' + rng.Below(26)));
    if (rng.Below(5) == 0) body.push_back(static_cast<char>('A' + rng.Below(26)));
    body += Pad(static_cast<std::int64_t>(rng.Below(1'000'000)), 6);
    person.hk_id = body + "(" + HkIdCheckCharacter(body) + ")";
  } else if (home_region == "820000") {
    const char first = "157"[rng.Below(3)];
    person.macau_id = std::string(1, first) +
                      Pad(static_cast<std::int64_t>(rng.Below(1'000'000)), 6) + "(" +
                      std::to_string(rng.Below(10)) + ")";
  }
  person.name = SyntheticName(home_region, person.sex, rng);
  return person;
}

Generator::Generator(const Profile& profile, GeneratorOptions options)
    : profile_(profile), options_(options) {
  if (options_.rows < 0) throw Error::InvalidInput("--rows must not be negative");
  if (options_.defect_rate < 0 || options_.defect_rate > 1) {
    throw Error::InvalidInput("--defect-rate must be between 0 and 1");
  }
  const bool has_person = HasField(profile, CF::kPersonId);
  defect_kinds_ = {"missing_field", "duplicate_row", "bad_date", "future_date", "unknown_level"};
  if (has_person) defect_kinds_.push_back("bad_id_format");
  if (has_person && profile.id_scheme != IdScheme::kMoId) {
    defect_kinds_.push_back("bad_check_digit");
  }
  if (HasField(profile, CF::kOrgUscc)) defect_kinds_.push_back("bad_uscc");
  if (HasField(profile, CF::kResidenceRegion) || HasField(profile, CF::kOrgRegion) ||
      HasField(profile, CF::kIssuingRegion)) {
    defect_kinds_.push_back("bad_region_code");
  }
  if (has_person) defect_kinds_.push_back("before_birth");
  if (HasField(profile, CF::kTotalScore) || HasField(profile, CF::kBeds)) {
    defect_kinds_.push_back("bad_number");
  }
  defect_kinds_.push_back("malformed_row");
}

GeneratedRow Generator::Row(std::int64_t index) const {
  RowPlan plan(profile_, options_, index);
  return plan.Build(defect_kinds_);
}

GenerationSummary Generator::Write(const std::string& path) const {
  GenerationSummary summary;
  NativeWriter writer(profile_, path);
  for (std::int64_t i = 0; i < options_.rows; ++i) {
    GeneratedRow row = Row(i);
    writer.Write(row);
    ++summary.rows;
    if (row.defect.empty()) {
      ++summary.accepted;
    } else {
      ++summary.quarantined;
      ++summary.by_reason[row.defect];
    }
  }
  writer.Close();
  std::ofstream sidecar(path + ".expected.json", std::ios::binary | std::ios::trunc);
  sidecar << "{\"profile\": \"" << profile_.name << "\", \"rows\": " << summary.rows
          << ", \"accepted\": " << summary.accepted << ", \"quarantined\": " << summary.quarantined
          << ", \"by_reason\": {";
  bool first = true;
  for (const auto& [reason, count] : summary.by_reason) {
    sidecar << (first ? "" : ", ") << "\"" << reason << "\": " << count;
    first = false;
  }
  char rate[32];
  std::snprintf(rate, sizeof rate, "%g", options_.defect_rate);
  sidecar << "}, \"seed\": " << options_.seed << ", \"defect_rate\": " << rate << ", \"as_of\": \""
          << FormatIsoDate(options_.as_of) << "\"}\n";
  if (!sidecar) throw Error::IoError("cannot write " + path + ".expected.json");
  return summary;
}

// ---- RowPlan: one row's values -------------------------------------------------------------

RowPlan::RowPlan(const Profile& profile, const GeneratorOptions& options, std::int64_t index)
    : profile_(profile),
      options_(options),
      index_(index),
      rng_(Mix(Mix(options.seed, Hash(profile.name)), static_cast<std::uint64_t>(index))) {}

std::string RowPlan::SourceId(std::int64_t index) const {
  std::string region(profile_.RegionName().substr(0, 2));
  for (char& c : region) c = static_cast<char>(c - 'a' + 'A');
  const char kind = "ACFS"[static_cast<int>(profile_.kind)];
  return region + "-" + kind + "-" + Pad(index + 1, 8);
}

// Whether row `index` carries a defect, and which, from a stream of its own (so a row can ask
// about another row cheaply).
std::string RowPlan::DefectOf(const Profile& profile, const GeneratorOptions& options,
                              const std::vector<std::string>& kinds, std::int64_t index) {
  Rng rng(
      Mix(Mix(options.seed ^ 0x5EEDull, Hash(profile.name)), static_cast<std::uint64_t>(index)));
  if (rng.Uniform() >= options.defect_rate) return "";
  return kinds[rng.Below(kinds.size())];
}

GeneratedRow RowPlan::Build(const std::vector<std::string>& kinds) {
  GeneratedRow row;
  row.values.assign(profile_.fields.size(), "");
  std::string defect = DefectOf(profile_, options_, kinds, index_);
  FillValid(row);
  if (!defect.empty() && !ApplyDefect(defect, kinds, row)) {
    defect = "missing_field";  // always possible: every profile has required fields
    ApplyDefect(defect, kinds, row);
  }
  row.defect = defect;
  return row;
}

}  // namespace carehub
