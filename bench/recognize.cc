// bench_recognize: decides over N synthetic records held in memory (default 1M: assessments of
// all five assessment scales, caregiver certificates, facility ratings and sanction notices of
// seven regions) for rotating target regions, and in the same run decodes the same records
// from their Avro single-object bytes. Prints decisions per CPU-second of one thread (= per
// core), decodes per CPU-second, and the ratio; best of --repeat rounds.
// Usage: bench_recognize [--records N] [--repeat R]
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "bench/synthetic_token.h"
#include "mapping/engine.h"
#include "schemas/codec.h"

namespace {

using carehub::CanonicalRecord;
using carehub::Date;
namespace m = carehub::mapping;

struct Source {
  const char* origin;
  const char* scale;
  std::vector<const char*> codes;
};

const std::vector<Source> kAssessmentSources = {
    {"310000", "SH_CARE_NEEDS", {"0", "1", "2", "3", "4", "5", "6"}},
    {"320000", "MZT039", {"0", "1", "2", "3"}},
    {"330000", "GBT42195", {"0", "1", "2", "3", "4"}},
    {"340000", "NHSA_LTCI", {"0", "1", "2", "3", "4", "5"}},
    {"440000", "GBT42195", {"0", "1", "2", "3", "4"}},
    {"810000", "HK_SCNAMES", {"none", "mild", "moderate", "severe"}},
    {"820000", "GBT42195", {"0", "1", "2", "3", "4"}},
};
const char* kTargets[] = {"310000", "320000", "330000", "340000", "440000",
                          "440400", "440300", "810000", "820000"};

carehub::Hmac256 Token(std::uint64_t person) { return carehub::bench::SyntheticToken(person); }

carehub::PersonRef Person(std::uint64_t person) {
  carehub::PersonRef ref;
  ref.tokens.push_back({carehub::IdScheme::kPrcResidentId, Token(person)});
  ref.birth_year = 1940 + static_cast<int>(person % 30);
  return ref;
}

std::vector<CanonicalRecord> Generate(std::size_t count) {
  std::mt19937_64 rng(42);
  std::vector<CanonicalRecord> records;
  records.reserve(count);
  const Date base = *carehub::ParseIsoDate("2024-01-01");
  for (std::size_t i = 0; i < count; ++i) {
    CanonicalRecord r;
    const std::uint64_t person = rng() % (count / 2 + 1);
    const int day = static_cast<int>(rng() % 600);
    const int pick = static_cast<int>(rng() % 100);
    const Source& source = kAssessmentSources[rng() % kAssessmentSources.size()];
    r.provenance.origin_region = source.origin;
    r.provenance.profile = "bench";
    r.provenance.source_record_id = std::to_string(i);
    if (pick < 60) {
      carehub::Assessment a;
      a.person = Person(person);
      a.native = {source.scale, source.codes[rng() % source.codes.size()], "label"};
      a.assessed_on = base + std::chrono::days{day};
      r.body = a;
    } else if (pick < 85) {
      carehub::CaregiverQualification c;
      c.person = Person(person);
      const bool hk = std::strcmp(source.origin, "810000") == 0;
      c.native =
          hk ? carehub::NativeLevel{"HK_CARE_STAFF", "care_worker", "care worker"}
             : carehub::NativeLevel{"CN_CAREGIVER_SKILL", std::to_string(1 + rng() % 5), "x"};
      c.issued_on = base + std::chrono::days{day};
      r.body = c;
    } else if (pick < 95) {
      carehub::FacilityRating f;
      f.facility.uscc = "91350100M" + std::to_string(100000000 + rng() % 50000);
      f.facility.name = "home";
      f.facility.region = source.origin;
      f.native = {"GBT37276", std::to_string(1 + rng() % 5), "x"};
      f.rated_on = base + std::chrono::days{day};
      r.body = f;
    } else {
      carehub::SanctionNotice s;
      if (rng() % 2 == 0) {
        s.subject_kind = carehub::SubjectKind::kPerson;
        s.subject_person = Person(person);
      } else {
        carehub::OrgRef org;
        org.uscc = "91350100M" + std::to_string(100000000 + rng() % 50000);
        org.region = source.origin;
        s.subject_org = org;
      }
      s.native = {"SANCTION_TYPE", "penalty", "x"};
      s.legal_basis = "bench";
      s.decided_on = base + std::chrono::days{day};
      if (rng() % 2 == 0) s.ends_on = s.decided_on + std::chrono::days{365};
      s.issuing_region = source.origin;
      r.body = s;
    }
    r.record_id = carehub::MakeRecordId(source.origin, r.kind(), r.provenance.source_record_id);
    records.push_back(std::move(r));
  }
  return records;
}

// CPU time of this thread: "per core" throughput, unaffected by other processes taking turns on
// the same cores (the shared 2-core machine), unlike wall time.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 1000000;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--records") == 0) count = std::stoul(argv[i + 1]);
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::stoi(argv[i + 1]);
  }
  std::printf("generating %zu records...\n", count);
  auto records = Generate(count);
  std::vector<std::string> encoded;
  encoded.reserve(count);
  for (const auto& r : records) encoded.push_back(carehub::EncodeSingleObject(r));

  const auto book = m::RuleBook::Load();
  m::SanctionIndex sanctions;
  for (const auto& r : records) sanctions.Add(r);
  m::RegionCode targets[std::size(kTargets)];
  for (std::size_t t = 0; t < std::size(kTargets); ++t) targets[t] = *m::ParseRegion(kTargets[t]);
  const Date on = *carehub::ParseIsoDate("2025-06-01");

  double best_decide = 1e30, best_decode = 1e30;
  std::map<std::string, std::size_t> outcomes;
  for (int round = 0; round < repeat; ++round) {
    double start = CpuSeconds();
    for (const auto& bytes : encoded) {
      CanonicalRecord r = carehub::DecodeSingleObject(bytes);
      benchmark::DoNotOptimize(r);
    }
    best_decode = std::min(best_decode, CpuSeconds() - start);

    outcomes.clear();
    std::size_t counts[4] = {0, 0, 0, 0};
    start = CpuSeconds();
    for (std::size_t i = 0; i < records.size(); ++i) {
      m::Decision d = m::Decide(records[i], targets[i % std::size(targets)], on, book, sanctions);
      ++counts[static_cast<int>(d.outcome)];
      benchmark::DoNotOptimize(d);
    }
    best_decide = std::min(best_decide, CpuSeconds() - start);
    for (int o = 0; o < 4; ++o) {
      outcomes[std::string(m::OutcomeName(static_cast<m::Outcome>(o)))] = counts[o];
    }
  }
  const double decide_rate = static_cast<double>(count) / best_decide;
  const double decode_rate = static_cast<double>(count) / best_decode;
  std::printf("records: %zu (sanction index: %zu notices), targets: %zu regions, best of %d\n",
              count, sanctions.size(), std::size(kTargets), repeat);
  for (const auto& [name, n] : outcomes) std::printf("  %-28s %zu\n", name.c_str(), n);
  std::printf("decide (pure, 1 core):  %.3f s CPU  %.0f decisions/s\n", best_decide, decide_rate);
  std::printf("decode (Avro, 1 core):  %.3f s CPU  %.0f records/s\n", best_decode, decode_rate);
  std::printf("ratio decide/decode throughput: %.1fx\n", decide_rate / decode_rate);
  return 0;
}
