// SHA-256 through OpenSSL's EVP interface, which runs the CPU's SHA extensions (SHA-NI) or its
// AVX2 code where the CPU has them: about 4x libsodium's portable C on the 100-300 byte messages
// an ingest hashes per record (record ids, bodies, content and change-log entry hashes) and on
// whole files. The digests are SHA-256's, the same as any other implementation's.
// Thread-safety: a Sha256Hasher belongs to one thread at a time; Sha256Of may run on any thread.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace carehub {

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Sha256Hasher& Update(std::string_view bytes);
  // The digest of everything updated since construction or the last Final, then starts over.
  std::array<std::uint8_t, 32> Final();

 private:
  evp_md_ctx_st* ctx_;
};

// SHA-256 of `bytes` (a context per thread, reused).
std::array<std::uint8_t, 32> Sha256Of(std::string_view bytes);

// HMAC-SHA256 (RFC 2104) under one fixed key through the same SHA-256: the key's inner and
// outer states are prepared once, so the MAC of a short message costs two SHA-256 blocks. The
// bytes of any HMAC-SHA256 (e.g. libsodium's crypto_auth_hmacsha256). Mac may run on any thread
// concurrently; the key material is wiped when the object goes.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // The MAC of the concatenation of `parts`.
  std::array<std::uint8_t, 32> Mac(std::initializer_list<std::string_view> parts) const;

 private:
  evp_md_ctx_st* inner_;  // after the key XOR ipad block
  evp_md_ctx_st* outer_;  // after the key XOR opad block
};

}  // namespace carehub
