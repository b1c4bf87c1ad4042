// Recognition rule-set JSON (mapping/rules/*.json or a rules directory) on arbitrary text.
#include "mapping/rule_set.h"
#include "schemas/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)carehub::mapping::ParseRuleSet(
        {"fuzz.json", std::string(carehub::fuzz::AsText(data, size))});
  } catch (const carehub::Error&) {
  }
  return 0;
}
