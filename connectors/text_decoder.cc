#include "connectors/text_decoder.h"

#include <Poco/TextEncoding.h>
#include <Poco/Windows936Encoding.h>
#include <Poco/Windows950Encoding.h>

#include <memory>
#include <vector>

namespace carehub {
namespace {

struct Tables {
  std::vector<std::uint16_t> pairs = std::vector<std::uint16_t>(1 << 16, 0);
  std::int32_t single[256] = {};
};

std::unique_ptr<Tables> BuildTables(const Poco::TextEncoding& enc) {
  auto t = std::make_unique<Tables>();
  const Poco::TextEncoding::CharacterMap& map = enc.characterMap();
  for (int b = 0; b < 256; ++b) {
    t->single[b] = map[b] >= 0 ? map[b] : (map[b] == -2 ? -2 : -1);
  }
  for (int lead = 0x81; lead <= 0xFE; ++lead) {
    if (t->single[lead] != -2) continue;
    for (int trail = 0x40; trail <= 0xFE; ++trail) {
      unsigned char bytes[2] = {static_cast<unsigned char>(lead),
                                static_cast<unsigned char>(trail)};
      int cp = enc.queryConvert(bytes, 2);
      if (cp > 0 && cp <= 0xFFFF) t->pairs[(lead << 8) | trail] = static_cast<std::uint16_t>(cp);
    }
  }
  return t;
}

const Tables& GbkTables() {
  static const std::unique_ptr<Tables> tables = BuildTables(Poco::Windows936Encoding());
  return *tables;
}

const Tables& Big5Tables() {
  static const std::unique_ptr<Tables> tables = BuildTables(Poco::Windows950Encoding());
  return *tables;
}

void AppendUtf8(std::uint32_t cp, std::string& out) {
  char buf[3];
  if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    out.append(buf, 2);
  } else {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    out.append(buf, 3);
  }
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

std::size_t ValidUtf8Prefix(std::string_view in) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and code points beyond U+10FFFF.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return n;
}

TextDecoder::TextDecoder(TextEncoding encoding) : encoding_(encoding) {
  if (encoding == TextEncoding::kBig5Hkscs) {
    iconv_ = std::make_unique<Iconv>("BIG5-HKSCS");
  } else if (encoding == TextEncoding::kGbk) {
    table_ = GbkTables().pairs.data();
    single_ = GbkTables().single;
  } else if (encoding == TextEncoding::kBig5) {
    table_ = Big5Tables().pairs.data();
    single_ = Big5Tables().single;
  }
}

TextDecoder::~TextDecoder() = default;
TextDecoder::TextDecoder(TextDecoder&&) noexcept = default;

bool TextDecoder::DecodeIconv(std::string_view in, std::string& out, bool lossy) const {
  for (;;) {
    const Iconv::Result r = iconv_->Convert(in, out);
    if (r.stop == Iconv::Stop::kDone) return true;
    if (!lossy) return false;
    out.append(kReplacement);
    in.remove_prefix(r.consumed + 1);
  }
}

bool TextDecoder::Decode(std::string_view in, std::string& out) const {
  return DecodeImpl(in, out, false);
}

void TextDecoder::DecodeLossy(std::string_view in, std::string& out) const {
  DecodeImpl(in, out, true);
}

bool TextDecoder::DecodeImpl(std::string_view in, std::string& out, bool lossy) const {
  if (iconv_) return DecodeIconv(in, out, lossy);
  if (encoding_ == TextEncoding::kUtf8) {
    while (!in.empty()) {
      std::size_t ok = ValidUtf8Prefix(in);
      out.append(in.data(), ok);
      if (ok == in.size()) return true;
      if (!lossy) return false;
      out.append(kReplacement);
      in.remove_prefix(ok + 1);
    }
    return true;
  }
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII runs are copied as they are.
    std::size_t start = i;
    while (i < n && s[i] < 0x80) ++i;
    if (i > start) out.append(in.data() + start, i - start);
    if (i == n) break;
    std::int32_t single = single_[s[i]];
    if (single >= 0) {
      AppendUtf8(static_cast<std::uint32_t>(single), out);
      ++i;
      continue;
    }
    std::uint16_t cp = (single == -2 && i + 1 < n) ? table_[(s[i] << 8) | s[i + 1]] : 0;
    if (cp == 0) {
      if (!lossy) return false;
      out.append(kReplacement);
      ++i;
      continue;
    }
    AppendUtf8(cp, out);
    i += 2;
  }
  return true;
}

}  // namespace carehub
