// Every text decoder on arbitrary bytes: GBK, Big5, Big5-HKSCS (iconv), UTF-8, the UTF-16 and
// GBK whole-stream transcoders, and NFC. Invariants: a successful or lossy decode is valid UTF-8;
// NFC of valid UTF-8 is valid UTF-8 and idempotent.
#include <sstream>

#include "connectors/text_decoder.h"
#include "connectors/transcoding_stream.h"
#include "connectors/unicode_nfc.h"
#include "tests/fuzz/fuzz_support.h"

namespace {
void CheckDecoder(carehub::TextEncoding encoding, std::string_view in) {
  const carehub::TextDecoder decoder(encoding);
  std::string out;
  if (decoder.Decode(in, out)) CAREHUB_FUZZ_CHECK(carehub::IsValidUtf8(out));
  out.clear();
  decoder.DecodeLossy(in, out);
  CAREHUB_FUZZ_CHECK(carehub::IsValidUtf8(out));
  const std::string nfc = carehub::ToNfc(out);
  CAREHUB_FUZZ_CHECK(carehub::IsValidUtf8(nfc));
  CAREHUB_FUZZ_CHECK(carehub::ToNfc(nfc) == nfc);
}

void CheckStream(const char* encoding, std::string_view in) {
  std::istringstream source{std::string(in)};
  carehub::TranscodingStream stream(source, encoding);
  std::string out{std::istreambuf_iterator<char>(stream), {}};
  // Invalid input becomes 0xFF bytes; everything else is UTF-8.
  std::string cleaned;
  for (char c : out) {
    if (c != '\xFF') cleaned.push_back(c);
  }
  CAREHUB_FUZZ_CHECK(carehub::IsValidUtf8(cleaned));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = carehub::fuzz::AsText(data, size);
  for (auto e : {carehub::TextEncoding::kUtf8, carehub::TextEncoding::kGbk,
                 carehub::TextEncoding::kBig5, carehub::TextEncoding::kBig5Hkscs}) {
    CheckDecoder(e, in);
  }
  CheckStream("UTF-16LE", in);
  CheckStream("GBK", in);
  (void)carehub::XmlLegacyEncoding(in);
  (void)carehub::Utf16FromBom(in);
  return 0;
}
