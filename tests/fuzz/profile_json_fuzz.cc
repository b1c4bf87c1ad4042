// Region profile JSON (a file under connectors/profiles or --profiles-dir) on arbitrary text.
// Invariant: a profile that loads names fields and a scale the engine can use.
#include "connectors/profile.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const carehub::Profile p = carehub::LoadProfile(carehub::fuzz::AsText(data, size));
    CAREHUB_FUZZ_CHECK(!p.fields.empty());
    CAREHUB_FUZZ_CHECK(p.FindField(carehub::CanonicalField::kSourceId) != nullptr);
  } catch (const carehub::Error&) {
  }
  return 0;
}
