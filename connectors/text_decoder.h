// Legacy encodings -> UTF-8 for the connector engine: GBK (code page 936) and Big5 (code page
// 950) through flat lookup tables built once from Poco::Encodings' mapping tables (Poco 1.11
// ships Windows936Encoding and Windows950Encoding), Big5-HKSCS (Hong Kong's Big5 with the 5000
// HKSCS characters such as 邨 峯 綫 啓 着) through glibc iconv, plus a UTF-8 validator. The one
// place that knows about field encodings. GBK/Big5/UTF-8 decoders share static tables and are
// thread-safe; a Big5-HKSCS decoder owns an iconv state: one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "connectors/iconv.h"
#include "connectors/profile.h"

namespace carehub {

class TextDecoder {
 public:
  explicit TextDecoder(TextEncoding encoding);
  ~TextDecoder();
  TextDecoder(TextDecoder&&) noexcept;

  // Appends the UTF-8 form of `in` to `out`. Returns false (out partially appended) when `in`
  // holds a byte sequence that is not valid in the encoding (for UTF-8: not valid UTF-8).
  bool Decode(std::string_view in, std::string& out) const;
  // Like Decode but never fails: each undecodable byte becomes U+FFFD.
  void DecodeLossy(std::string_view in, std::string& out) const;
  TextEncoding encoding() const { return encoding_; }

 private:
  bool DecodeImpl(std::string_view in, std::string& out, bool lossy) const;
  bool DecodeIconv(std::string_view in, std::string& out, bool lossy) const;

  TextEncoding encoding_;
  const std::uint16_t* table_ = nullptr;  // (lead << 8 | trail) -> BMP code point, 0 = invalid
  const std::int32_t* single_ = nullptr;  // byte -> code point, -2 lead byte, -1 invalid
  std::unique_ptr<Iconv> iconv_;          // Big5-HKSCS
};

// Length of the longest valid UTF-8 prefix of `in` (== in.size() when all of it is valid).
std::size_t ValidUtf8Prefix(std::string_view in);
inline bool IsValidUtf8(std::string_view in) { return ValidUtf8Prefix(in) == in.size(); }

}  // namespace carehub
