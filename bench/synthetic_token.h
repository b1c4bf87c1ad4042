// Synthetic person tokens for the benchmarks: real tokens are HMAC-SHA256 outputs, i.e.
// uniformly random bytes, so a splitmix64 stream seeded with a number stands in for them
// (deterministic, no federation key needed). Header-only; pure.
#pragma once

#include <cstdint>
#include <cstring>

#include "schemas/record.h"

namespace carehub::bench {

inline Hmac256 SyntheticToken(std::uint64_t seed) {
  Hmac256 token{};
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < token.size(); i += 8) {
    x += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(token.data() + i, &z, sizeof z);
  }
  return token;
}

}  // namespace carehub::bench
