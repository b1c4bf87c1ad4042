// Key material of one hub, kept in <hub dir>/keys: a CURVE key pair for ZeroMQ transport
// encryption (curve.public / curve.secret, 40-char Z85 text from zmq_curve_keypair) and an
// Ed25519 signing key pair for change-log heads (sign.public / sign.secret, lowercase hex of
// libsodium's 32-byte public and 64-byte secret key). Secret files are mode 0600.
// Thread-safety: a HubKeys is immutable after Load/Create; Sign may run concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace carehub {

using SignPublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;

class HubKeys {
 public:
  // Creates <hub_dir>/keys with fresh key pairs. Throws Error::InvalidInput when key files
  // already exist (keys are never silently replaced), Error::IoError when writing fails.
  static HubKeys Create(const std::filesystem::path& hub_dir);
  // Loads <hub_dir>/keys. Throws Error::NotFound when absent, Error::Corruption when malformed.
  static HubKeys Load(const std::filesystem::path& hub_dir);
  static bool Exist(const std::filesystem::path& hub_dir);

  const std::string& curve_public() const { return curve_public_; }  // Z85, 40 chars
  const std::string& curve_secret() const { return curve_secret_; }  // Z85, 40 chars
  const SignPublicKey& sign_public() const { return sign_public_; }
  std::string sign_public_hex() const;

  // Ed25519 detached signature of `message`.
  Signature Sign(std::string_view message) const;

 private:
  HubKeys() = default;
  std::string curve_public_;
  std::string curve_secret_;
  SignPublicKey sign_public_{};
  std::array<std::uint8_t, 64> sign_secret_{};
};

// Ed25519 verification of a detached signature.
bool VerifySignature(const SignPublicKey& key, std::string_view message,
                     const Signature& signature);
// Parses 64 hex chars into a public key; throws Error::InvalidInput otherwise.
SignPublicKey ParseSignPublicKey(std::string_view hex);

std::string ToHex(const std::uint8_t* bytes, std::size_t size);
template <std::size_t N>
std::string ToHex(const std::array<std::uint8_t, N>& bytes) {
  return ToHex(bytes.data(), N);
}

// Writes `bytes` to `path` atomically-enough for key files: created with O_EXCL and `mode`,
// fsynced. Throws Error::IoError (Error::InvalidInput when the file exists).
void WriteSecretFile(const std::filesystem::path& path, std::string_view bytes, unsigned mode);
std::string ReadSmallFile(const std::filesystem::path& path);

}  // namespace carehub
