#include "hub/publish/discrete_gaussian.h"

#include <sodium.h>

#include <bit>
#include <cstring>
#include <stdexcept>

#include "schemas/error.h"

namespace carehub {
namespace {

// floor(sqrt(n)) of a rational n = num/den, exactly: the largest s with s*s*den <= num.
std::uint64_t FloorSqrt(Rational n) {
  std::uint64_t low = 0;
  std::uint64_t high = std::uint64_t{1} << 32;
  while (low + 1 < high) {
    const std::uint64_t mid = low + (high - low) / 2;
    if (Uint128{mid} * mid * n.den <= n.num) {
      low = mid;
    } else {
      high = mid;
    }
  }
  return low;
}

}  // namespace

KeyedStream::KeyedStream(const std::array<std::uint8_t, 32>& secret, std::string_view label) {
  crypto_generichash(stream_key_.data(), stream_key_.size(),
                     reinterpret_cast<const unsigned char*>(label.data()), label.size(),
                     secret.data(), secret.size());
}

void KeyedStream::Refill() {
  unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  std::memcpy(nonce, &block_, sizeof block_ < sizeof nonce ? sizeof block_ : sizeof nonce);
  ++block_;
  crypto_stream_chacha20(buffer_.data(), buffer_.size(), nonce, stream_key_.data());
  used_ = 0;
}

std::uint64_t KeyedStream::Next64() {
  if (used_ + 8 > buffer_.size()) Refill();
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | buffer_[used_++];
  return value;
}

Uint128 UniformBelow(RandomBits& bits, Uint128 n) {
  if (n == 0) throw Error::InvalidInput("UniformBelow: empty range");
  if (n == 1) return 0;
  const Uint128 max = n - 1;
  const int width = 128 - (static_cast<std::uint64_t>(max >> 64) != 0
                               ? std::countl_zero(static_cast<std::uint64_t>(max >> 64))
                               : 64 + std::countl_zero(static_cast<std::uint64_t>(max)));
  const Uint128 mask = width == 128 ? ~Uint128{0} : ((Uint128{1} << width) - 1);
  while (true) {
    Uint128 draw = (Uint128{bits.Next64()} << 64) | bits.Next64();
    draw &= mask;
    if (draw <= max) return draw;
  }
}

bool Bernoulli(RandomBits& bits, Rational p) { return UniformBelow(bits, p.den) < p.num; }

bool BernoulliExpMinus(RandomBits& bits, Rational gamma) {
  // gamma > 1: exp(-gamma) = exp(-1)^floor(gamma) * exp(-(gamma - floor(gamma))).
  while (gamma.num > gamma.den) {
    if (!BernoulliExpMinus(bits, {1, 1})) return false;
    gamma.num -= gamma.den;
  }
  // gamma in [0, 1]: draw A_k ~ Bernoulli(gamma / k) for k = 1, 2, ... until one fails; the
  // first failing k is odd with probability exp(-gamma) (CKS Algorithm 1).
  std::uint64_t k = 1;
  while (Bernoulli(bits, {gamma.num, gamma.den * k})) ++k;
  return k % 2 == 1;
}

std::int64_t DiscreteLaplace(RandomBits& bits, std::uint64_t t) {
  while (true) {
    const auto u = static_cast<std::uint64_t>(UniformBelow(bits, t));
    if (!BernoulliExpMinus(bits, {u, t})) continue;
    std::uint64_t v = 0;
    while (BernoulliExpMinus(bits, {1, 1})) ++v;
    const std::uint64_t magnitude = u + t * v;  // s = 1: Y = X
    const bool negative = Bernoulli(bits, {1, 2});
    if (negative && magnitude == 0) continue;
    return negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
  }
}

std::int64_t DiscreteGaussian(RandomBits& bits, Rational sigma2) {
  if (sigma2.num == 0 || sigma2.den == 0) throw Error::InvalidInput("DiscreteGaussian: sigma2 > 0");
  const std::uint64_t t = FloorSqrt(sigma2) + 1;
  while (true) {
    const std::int64_t y = DiscreteLaplace(bits, t);
    const Uint128 abs_y = static_cast<Uint128>(y < 0 ? -y : y);
    // gamma = (|y| - sigma2/t)^2 / (2 sigma2) = (|y| den t - num)^2 / (2 num den t^2).
    const Uint128 scaled = abs_y * sigma2.den * t;
    const Uint128 diff = scaled >= sigma2.num ? scaled - sigma2.num : sigma2.num - scaled;
    const Rational gamma{diff * diff, 2 * sigma2.num * sigma2.den * t * t};
    if (BernoulliExpMinus(bits, gamma)) return y;
  }
}

}  // namespace carehub
