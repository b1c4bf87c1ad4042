// CsvReader on arbitrary bytes: the first byte picks the delimiter; small row limit so cutting
// paths run. Invariant: every record's raw text lies in the input or the kept cut prefix.
#include <sstream>

#include "connectors/csv_reader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const char delimiters[] = {',', ';', '\t', '|'};
  std::istringstream in(std::string(carehub::fuzz::AsText(data + 1, size - 1)));
  carehub::CsvReader reader(in, delimiters[data[0] % 4], true, 4096 + data[0] % 64);
  carehub::CsvRecord record;
  std::size_t records = 0;
  while (reader.Next(record)) {
    ++records;
    CAREHUB_FUZZ_CHECK(record.raw.size() <= size);
    CAREHUB_FUZZ_CHECK(!record.malformed || !record.problem.empty());
    if (!record.malformed) CAREHUB_FUZZ_CHECK(!record.fields.empty());
  }
  CAREHUB_FUZZ_CHECK(records <= size);
  return 0;
}
