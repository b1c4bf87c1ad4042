// Avro codec throughput (google-benchmark): single-object encode/decode per record kind, the
// buffer-reusing AppendSingleObject, decoding through schema resolution (a newer writer schema),
// and OCF writing per block codec. items_per_second is records/s on one core.
//   bench_codec --benchmark_min_time=1
#include "schemas/codec.h"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "schemas/ocf.h"

namespace carehub {
namespace {

Date Day(int days) { return Date(std::chrono::days(days)); }

PersonRef Person(int i) {
  PersonRef person;
  Hmac256 token{};
  token.fill(static_cast<std::uint8_t>(i));
  person.tokens.push_back({IdScheme::kPrcResidentId, token});
  person.birth_year = 1930 + i % 40;
  person.sex = i % 2 == 0 ? Sex::kFemale : Sex::kMale;
  person.residence_region = "310115";
  return person;
}

OrgRef Org(int i) {
  return {std::string("91310115MA1K4XXXX") + std::to_string(i % 10), std::nullopt,
          "上海市浦东新区第" + std::to_string(i % 97) + "养老院", "310115"};
}

// A realistic record of each kind: the optionals a typical source fills are set.
CanonicalRecord Sample(RecordKind kind, int i) {
  CanonicalRecord record;
  record.record_id = MakeRecordId("310000", kind, "SH-" + std::to_string(i));
  record.version = 1;
  record.provenance = {
      "310000",         "shanghai/assessment", 1, "sh_2025_03.csv", i, "SH-" + std::to_string(i),
      1764000000000 + i};
  const NativeLevel native{"SH_CARE_NEEDS", std::to_string(i % 6), "照护三级"};
  const PivotLevel pivot{i % 6, std::nullopt, std::nullopt, true};
  switch (kind) {
    case RecordKind::kAssessment:
      record.body = Assessment{
          Person(i), native, pivot, 40 + i % 60, Day(20000 + i % 300), Day(20365 + i % 300),
          Org(i)};
      break;
    case RecordKind::kCaregiver:
      record.body = CaregiverQualification{Person(i),  native,     pivot,  Hmac256{},
                                           Day(19000), Day(20000), Org(i), Org(i + 1)};
      break;
    case RecordKind::kFacility:
      record.body =
          FacilityRating{Org(i), native, pivot, true, 120 + i % 300, Day(19500), Day(21000)};
      break;
    case RecordKind::kSanction:
      record.body = SanctionNotice{SubjectKind::kOrganisation,
                                   Org(i),
                                   std::nullopt,
                                   SanctionType::kPenalty,
                                   native,
                                   "沪民规〔2019〕26号 第十五条",
                                   Day(20100),
                                   Day(21000),
                                   "310115"};
      break;
  }
  return record;
}

std::vector<CanonicalRecord> Samples(RecordKind kind) {
  std::vector<CanonicalRecord> records;
  for (int i = 0; i < 1024; ++i) records.push_back(Sample(kind, i));
  return records;
}

void BM_EncodeSingleObject(benchmark::State& state) {
  const auto records = Samples(static_cast<RecordKind>(state.range(0)));
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string encoded = EncodeSingleObject(records[i++ & 1023]);
    bytes += encoded.size();
    benchmark::DoNotOptimize(encoded);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetLabel(std::string(KindName(static_cast<RecordKind>(state.range(0)))));
}

void BM_AppendSingleObject(benchmark::State& state) {
  const auto records = Samples(static_cast<RecordKind>(state.range(0)));
  std::string buffer;
  std::size_t i = 0;
  for (auto _ : state) {
    buffer.clear();
    AppendSingleObject(records[i++ & 1023], buffer);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(KindName(static_cast<RecordKind>(state.range(0)))));
}

void BM_DecodeSingleObject(benchmark::State& state) {
  std::vector<std::string> encoded;
  for (const auto& record : Samples(static_cast<RecordKind>(state.range(0)))) {
    encoded.push_back(EncodeSingleObject(record));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    CanonicalRecord record = DecodeSingleObject(encoded[i++ & 1023]);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(KindName(static_cast<RecordKind>(state.range(0)))));
}

// The assessment schema with one more optional field (a peer's newer version), registered so
// that decoding goes through Avro C's resolver. The extra field is null in the data, so the
// bytes equal today's encoding; only the fingerprint differs.
void BM_DecodeResolved(benchmark::State& state) {
  std::string newer = SchemaFor(RecordKind::kAssessment).json;
  const auto pos = newer.rfind('}', newer.rfind(']'));
  newer.insert(pos + 1, R"(, {"name": "extra", "type": ["null", "string"], "default": null})");
  const std::uint64_t fingerprint = RegisterWriterSchema(newer);
  std::vector<std::string> encoded;
  for (const auto& record : Samples(RecordKind::kAssessment)) {
    std::string bytes = EncodeSingleObject(record);
    for (int b = 0; b < 8; ++b) bytes[2 + b] = static_cast<char>((fingerprint >> (8 * b)) & 0xff);
    bytes.push_back('\0');  // "extra": union branch 0 (null)
    encoded.push_back(std::move(bytes));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    CanonicalRecord record = DecodeSingleObject(encoded[i++ & 1023]);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_OcfAppend(benchmark::State& state) {
  static const char* const kCodecs[] = {"null", "deflate", "snappy"};
  const char* codec = kCodecs[state.range(0)];
  const auto records = Samples(RecordKind::kAssessment);
  const auto path = std::filesystem::temp_directory_path() / "carehub_bench_codec.avro";
  std::uint64_t bytes = 0;
  {
    OcfWriter writer(path.string(), RecordKind::kAssessment, codec);
    std::size_t i = 0;
    for (auto _ : state) writer.Append(records[i++ & 1023]);
    writer.Close();
    bytes = writer.bytes_written();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations());
  state.counters["file_bytes_per_record"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
  state.SetLabel(codec);
}

// An export's fast path: stored single objects copied into blocks without decoding.
void BM_OcfAppendStored(benchmark::State& state) {
  std::vector<std::string> stored;
  for (const auto& record : Samples(RecordKind::kAssessment)) {
    stored.push_back(EncodeSingleObject(record));
  }
  const auto path = std::filesystem::temp_directory_path() / "carehub_bench_stored.avro";
  {
    OcfWriter writer(path.string(), RecordKind::kAssessment, "null");
    std::size_t i = 0;
    for (auto _ : state) writer.AppendSingleObject(stored[i++ & 1023]);
    writer.Close();
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_EncodeSingleObject)->DenseRange(0, 3);
BENCHMARK(BM_AppendSingleObject)->DenseRange(0, 3);
BENCHMARK(BM_DecodeSingleObject)->DenseRange(0, 3);
BENCHMARK(BM_DecodeResolved);
BENCHMARK(BM_OcfAppend)->DenseRange(0, 2);
BENCHMARK(BM_OcfAppendStored);

}  // namespace
}  // namespace carehub

BENCHMARK_MAIN();
