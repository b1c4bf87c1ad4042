#include "schemas/sha256.h"

#include <openssl/evp.h>

#include "schemas/error.h"

namespace carehub {
namespace {

// Fetched once: an implicit fetch on every digest (EVP_sha256()) costs as much as hashing a
// short message.
const EVP_MD* Sha256Md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  if (md == nullptr) throw Error::IoError("OpenSSL has no SHA-256");
  return md;
}

void Check(int ok, const char* what) {
  if (ok != 1) throw Error::IoError(std::string("OpenSSL SHA-256: ") + what + " failed");
}

}  // namespace

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw Error::IoError("OpenSSL SHA-256: out of memory");
  Check(EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr), "init");
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher& Sha256Hasher::Update(std::string_view bytes) {
  Check(EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()), "update");
  return *this;
}

std::array<std::uint8_t, 32> Sha256Hasher::Final() {
  std::array<std::uint8_t, 32> digest{};
  unsigned int size = 0;
  Check(EVP_DigestFinal_ex(ctx_, digest.data(), &size), "final");
  Check(EVP_DigestInit_ex2(ctx_, nullptr, nullptr), "init");  // same digest, fresh state
  return digest;
}

std::array<std::uint8_t, 32> Sha256Of(std::string_view bytes) {
  thread_local Sha256Hasher hasher;
  return hasher.Update(bytes).Final();
}

}  // namespace carehub
