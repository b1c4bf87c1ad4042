// XmlRecordReader (Poco SAX / expat) with the zhejiang/facility profile on arbitrary bytes.
// Invariants: rows count up from 1; no value exceeds the field limit + 1 byte.
#include <sstream>

#include "connectors/profile.h"
#include "connectors/xml_reader.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const carehub::Profile& profile = *carehub::FindBuiltinProfile("zhejiang/facility");
  carehub::ReadLimits limits;
  limits.max_field_bytes = 512;
  limits.max_depth = 8;
  std::istringstream in(std::string(carehub::fuzz::AsText(data, size)));
  std::int64_t expected_row = 0;
  try {
    carehub::XmlRecordReader(profile, limits).Read(in, [&](carehub::XmlRecord& record) {
      CAREHUB_FUZZ_CHECK(record.row == ++expected_row);
      for (const std::string& v : record.values) {
        CAREHUB_FUZZ_CHECK(v.size() <= limits.max_field_bytes + 1);
      }
      (void)record.Raw(profile);
    });
  } catch (const carehub::Error&) {  // not XML of this root: a whole-file refusal
  }
  return 0;
}
