// Exact samplers for the discrete Gaussian mechanism (Canonne, Kamath, Steinke 2020, "The
// Discrete Gaussian for Differential Privacy", https://arxiv.org/abs/2004.00010, Algorithms 1-3):
// Bernoulli(exp(-gamma)), discrete Laplace and discrete Gaussian N_Z(0, sigma^2), using integer
// and rational arithmetic only (no floating point, whose samplers leak: Mironov 2012).
// Randomness comes from a RandomBits source; KeyedStream derives one from a secret key and a
// label with libsodium (BLAKE2b keyed hash -> ChaCha20 keystream), so a draw is a deterministic
// function of key and label and unpredictable without the key.
// Thread-safety: a KeyedStream belongs to one thread; the samplers are pure given the stream.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace carehub {

// GCC/Clang 128-bit integers (__extension__: not ISO C++) hold exact products of rationals.
__extension__ typedef unsigned __int128 Uint128;

// A positive rational number num/den (den > 0).
struct Rational {
  Uint128 num = 0;
  Uint128 den = 1;
};

// Uniform random bits, 64 at a time.
class RandomBits {
 public:
  virtual ~RandomBits() = default;
  virtual std::uint64_t Next64() = 0;
};

// ChaCha20 keystream under BLAKE2b-256(key = secret, message = label): the same secret and label
// give the same stream.
class KeyedStream final : public RandomBits {
 public:
  KeyedStream(const std::array<std::uint8_t, 32>& secret, std::string_view label);
  std::uint64_t Next64() override;

 private:
  void Refill();
  std::array<std::uint8_t, 32> stream_key_{};
  std::uint64_t block_ = 0;  // ChaCha20 nonce: the index of the 256-byte chunk
  std::array<std::uint8_t, 256> buffer_{};
  std::size_t used_ = sizeof(buffer_);
};

// Uniform integer in [0, n), n > 0, by rejection (no modulo bias).
Uint128 UniformBelow(RandomBits& bits, Uint128 n);
// Bernoulli(p) for a rational p in [0, 1].
bool Bernoulli(RandomBits& bits, Rational p);
// Bernoulli(exp(-gamma)) for a rational gamma >= 0 (CKS Algorithm 1).
bool BernoulliExpMinus(RandomBits& bits, Rational gamma);
// Discrete Laplace with scale t (P(x) proportional to exp(-|x|/t)), t >= 1 (CKS Algorithm 2, s=1).
std::int64_t DiscreteLaplace(RandomBits& bits, std::uint64_t t);
// Discrete Gaussian N_Z(0, sigma2) for a rational variance sigma2 > 0 (CKS Algorithm 3).
std::int64_t DiscreteGaussian(RandomBits& bits, Rational sigma2);

}  // namespace carehub
