// Shared by the libFuzzer targets in tests/fuzz: the input as a string, a tiny check that aborts
// (so a broken invariant is a crash libFuzzer keeps), and the sanitizer defaults every test
// executable carries. Each target defines LLVMFuzzerTestOneInput; built either with
// -fsanitize=fuzzer (scripts/build fuzz) or with replay_main.cc (ctest replays the corpora).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace carehub::fuzz {

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

#define CAREHUB_FUZZ_CHECK(condition)                                                        \
  do {                                                                                       \
    if (!(condition)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (false)

}  // namespace carehub::fuzz
