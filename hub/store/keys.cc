#include "hub/store/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "schemas/error.h"

namespace carehub {
namespace fs = std::filesystem;
namespace {

constexpr const char* kCurvePublic = "curve.public";
constexpr const char* kCurveSecret = "curve.secret";
constexpr const char* kSignPublic = "sign.public";
constexpr const char* kSignSecret = "sign.secret";
constexpr unsigned kSecretMode = 0600;
constexpr unsigned kPublicMode = 0644;

void InitSodium() {
  if (sodium_init() < 0) throw Error::IoError("libsodium failed to initialise");
}

// libsodium wants sodium_init() before any other call; it is idempotent and thread-safe.
[[maybe_unused]] const bool kSodiumReady = sodium_init() >= 0;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

template <std::size_t N>
std::array<std::uint8_t, N> FromHex(std::string_view hex, const std::string& what) {
  std::array<std::uint8_t, N> out{};
  std::size_t used = 0;
  if (hex.size() != 2 * N ||
      sodium_hex2bin(out.data(), N, hex.data(), hex.size(), nullptr, &used, nullptr) != 0 ||
      used != N) {
    throw Error::Corruption(what + ": expected " + std::to_string(2 * N) + " hex characters");
  }
  return out;
}

}  // namespace

std::string ToHex(const std::uint8_t* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return out;
}

void WriteSecretFile(const fs::path& path, std::string_view bytes, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) throw Error::InvalidInput(path.string() + " already exists");
    throw Error::IoError("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  // The umask may have narrowed `mode`; secrets must be exactly 0600, so set it explicitly.
  ::fchmod(fd, mode);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw Error::IoError("cannot write " + path.string() + ": " + reason);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw Error::IoError("cannot sync " + path.string());
}

std::string ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::NotFound("cannot read " + path.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool HubKeys::Exist(const fs::path& hub_dir) {
  return fs::exists(hub_dir / "keys" / kSignSecret) || fs::exists(hub_dir / "keys" / kCurveSecret);
}

HubKeys HubKeys::Create(const fs::path& hub_dir) {
  InitSodium();
  const fs::path dir = hub_dir / "keys";
  if (Exist(hub_dir)) throw Error::InvalidInput("keys already exist in " + dir.string());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error::IoError("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);

  HubKeys keys;
  char curve_public[41] = {};
  char curve_secret[41] = {};
  if (zmq_curve_keypair(curve_public, curve_secret) != 0) {
    throw Error::IoError("zmq_curve_keypair failed (libzmq without CURVE?)");
  }
  keys.curve_public_ = curve_public;
  keys.curve_secret_ = curve_secret;
  crypto_sign_keypair(keys.sign_public_.data(), keys.sign_secret_.data());

  // Secrets first: a crash in between leaves "keys exist" rather than a public key without
  // its secret.
  WriteSecretFile(dir / kCurveSecret, keys.curve_secret_ + "\n", kSecretMode);
  WriteSecretFile(dir / kSignSecret, ToHex(keys.sign_secret_) + "\n", kSecretMode);
  WriteSecretFile(dir / kCurvePublic, keys.curve_public_ + "\n", kPublicMode);
  WriteSecretFile(dir / kSignPublic, keys.sign_public_hex() + "\n", kPublicMode);
  sodium_memzero(curve_secret, sizeof curve_secret);
  return keys;
}

HubKeys HubKeys::Load(const fs::path& hub_dir) {
  InitSodium();
  const fs::path dir = hub_dir / "keys";
  if (!fs::exists(dir / kSignSecret)) {
    throw Error::NotFound("no hub keys in " + dir.string() + " (run `carehub init`)");
  }
  HubKeys keys;
  keys.curve_public_ = Trimmed(ReadSmallFile(dir / kCurvePublic));
  keys.curve_secret_ = Trimmed(ReadSmallFile(dir / kCurveSecret));
  if (keys.curve_public_.size() != 40 || keys.curve_secret_.size() != 40) {
    throw Error::Corruption("CURVE keys in " + dir.string() + " are not 40-char Z85 text");
  }
  keys.sign_public_ =
      FromHex<32>(Trimmed(ReadSmallFile(dir / kSignPublic)), (dir / kSignPublic).string());
  keys.sign_secret_ =
      FromHex<64>(Trimmed(ReadSmallFile(dir / kSignSecret)), (dir / kSignSecret).string());
  // libsodium's secret key embeds the public key in its second half: they must agree.
  if (std::memcmp(keys.sign_secret_.data() + 32, keys.sign_public_.data(), 32) != 0) {
    throw Error::Corruption("sign.public does not match sign.secret in " + dir.string());
  }
  return keys;
}

std::string HubKeys::sign_public_hex() const { return ToHex(sign_public_); }

Signature HubKeys::Sign(std::string_view message) const {
  Signature signature{};
  crypto_sign_detached(signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       sign_secret_.data());
  return signature;
}

bool VerifySignature(const SignPublicKey& key, std::string_view message,
                     const Signature& signature) {
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

SignPublicKey ParseSignPublicKey(std::string_view hex) {
  try {
    return FromHex<32>(hex, "Ed25519 public key");
  } catch (const Error& e) {
    throw Error::InvalidInput(e.what());
  }
}

}  // namespace carehub
