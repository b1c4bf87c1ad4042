#include "schemas/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

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

HmacSha256::HmacSha256(std::string_view key) : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()) {
  if (inner_ == nullptr || outer_ == nullptr) {
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    throw Error::IoError("OpenSSL SHA-256: out of memory");
  }
  std::array<std::uint8_t, 64> block{};  // the key, hashed first when longer than a block
  if (key.size() > block.size()) {
    const auto digest = Sha256Of(key);
    std::copy(digest.begin(), digest.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, 64> pad{};
  for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x36;
  Check(EVP_DigestInit_ex2(inner_, Sha256Md(), nullptr), "init");
  Check(EVP_DigestUpdate(inner_, pad.data(), pad.size()), "update");
  for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block[i] ^ 0x5c;
  Check(EVP_DigestInit_ex2(outer_, Sha256Md(), nullptr), "init");
  Check(EVP_DigestUpdate(outer_, pad.data(), pad.size()), "update");
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(pad.data(), pad.size());
}

HmacSha256::~HmacSha256() {
  EVP_MD_CTX_free(inner_);  // the provider's SHA-256 state is cleared when freed
  EVP_MD_CTX_free(outer_);
}

std::array<std::uint8_t, 32> HmacSha256::Mac(std::initializer_list<std::string_view> parts) const {
  struct Work {
    Work() : ctx(EVP_MD_CTX_new()) {
      if (ctx == nullptr) throw Error::IoError("OpenSSL SHA-256: out of memory");
    }
    ~Work() { EVP_MD_CTX_free(ctx); }
    evp_md_ctx_st* ctx;
  };
  thread_local Work work;
  std::array<std::uint8_t, 32> digest{};
  unsigned int size = 0;
  Check(EVP_MD_CTX_copy_ex(work.ctx, inner_), "copy");
  for (std::string_view part : parts) {
    Check(EVP_DigestUpdate(work.ctx, part.data(), part.size()), "update");
  }
  Check(EVP_DigestFinal_ex(work.ctx, digest.data(), &size), "final");
  Check(EVP_MD_CTX_copy_ex(work.ctx, outer_), "copy");
  Check(EVP_DigestUpdate(work.ctx, digest.data(), digest.size()), "update");
  Check(EVP_DigestFinal_ex(work.ctx, digest.data(), &size), "final");
  return digest;
}

}  // namespace carehub
