// The exchange wire decoder on arbitrary frames (the input split at each "\n--\n"). Invariant:
// whatever decodes re-encodes, in the version it came in, to frames that decode to the same
// message.
#include "hub/exchange/wire.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = carehub::fuzz::AsText(data, size);
  carehub::wire::Frames frames;
  std::size_t start = 0;
  for (;;) {
    const std::size_t sep = in.find("\n--\n", start);
    frames.emplace_back(in.substr(start, sep == std::string_view::npos ? in.npos : sep - start));
    if (sep == std::string_view::npos) break;
    start = sep + 4;
  }
  try {
    const carehub::wire::Message message = carehub::wire::Decode(frames);
    const carehub::wire::Message again =
        carehub::wire::Decode(carehub::wire::Encode(message, carehub::wire::VersionOf(frames)));
    CAREHUB_FUZZ_CHECK(again == message);
  } catch (const carehub::Error&) {  // WireError: malformed, unknown version
  }
  return 0;
}
