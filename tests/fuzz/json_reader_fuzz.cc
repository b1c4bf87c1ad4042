// JsonElementReader on arbitrary bytes with a small element and depth limit. Invariants: rows
// strictly increase, an element is never longer than the limit, the reader always ends.
#include <sstream>

#include "connectors/json_reader.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(carehub::fuzz::AsText(data, size)));
  constexpr std::size_t kLimit = 4096;
  carehub::JsonElementReader reader(in, kLimit, 8);
  std::string_view element;
  std::int64_t row = 0;
  std::int64_t last = 0;
  try {
    while (reader.Next(element, row)) {
      CAREHUB_FUZZ_CHECK(row > last);
      CAREHUB_FUZZ_CHECK(element.size() <= kLimit);
      last = row;
    }
  } catch (const carehub::Error&) {  // not JSON at all: a whole-file refusal
  }
  return 0;
}
