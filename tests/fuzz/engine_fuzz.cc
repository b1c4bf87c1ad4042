// The whole connector engine (reader, decoders, NFC, validation, record building) on arbitrary
// file contents; the first byte picks one of six profiles covering CSV in GBK, Big5-HKSCS and
// UTF-8, JSON, NDJSON and XML. Invariant: read = accepted + quarantined, and the sink saw each.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
class CountingSink : public carehub::RecordSink {
 public:
  void Accept(carehub::CanonicalRecord&&) override { ++accepted; }
  void Reject(carehub::Rejection&& r) override {
    CAREHUB_FUZZ_CHECK(!r.reason.empty());
    ++rejected;
  }
  std::int64_t accepted = 0;
  std::int64_t rejected = 0;
};

const carehub::ConnectorEngine& Engine() {
  static const carehub::ConnectorEngine engine([] {
    carehub::EngineOptions options;
    options.origin_region = "310000";
    options.federation_key.assign(32, 9);
    options.now_ms = [] { return std::int64_t{1767225600000}; };
    options.limits.max_field_bytes = 1024;
    options.limits.max_row_bytes = 8192;
    options.limits.max_depth = 8;
    return options;
  }());
  return engine;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const kProfiles[] = {"shanghai/assessment", "hongkong/caregiver",
                                          "hongkong/facility",   "jiangsu/facility",
                                          "macau/caregiver",     "zhejiang/facility"};
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("carehub-fuzz-engine-" + std::to_string(getpid())))
          .string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  const carehub::Profile& profile = Engine().FindProfile(kProfiles[data[0] % 6]);
  CountingSink sink;
  try {
    const carehub::ReadStats stats = Engine().Read(path, profile, sink);
    CAREHUB_FUZZ_CHECK(stats.read == stats.accepted + stats.quarantined);
    CAREHUB_FUZZ_CHECK(stats.accepted == sink.accepted);
    CAREHUB_FUZZ_CHECK(stats.quarantined == sink.rejected);
  } catch (const carehub::Error&) {  // a whole-file refusal (no header, wrong root, ...)
  }
  std::filesystem::remove(path);
  return 0;
}
