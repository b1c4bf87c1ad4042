// Avro single-object decoding of an untrusted body (what a peer or an HTTP client sends).
// Invariant: whatever decodes re-encodes and decodes to the same record. Avro C tries huge
// allocations on garbage lengths: run with allocator_may_return_null=1 (replay_main, scripts/fuzz).
#include "schemas/codec.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const carehub::CanonicalRecord record =
        carehub::DecodeSingleObject(carehub::fuzz::AsText(data, size));
    const std::string encoded = carehub::EncodeSingleObject(record);
    CAREHUB_FUZZ_CHECK(carehub::DecodeSingleObject(encoded) == record);
  } catch (const carehub::Error&) {
  }
  return 0;
}
