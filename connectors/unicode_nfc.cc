#include "connectors/unicode_nfc.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

namespace carehub {
namespace {
struct FreeDeleter {
  void operator()(utf8proc_uint8_t* p) const { std::free(p); }
};
}  // namespace

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// True when `text` is well-formed UTF-8 made only of code points that NFC leaves as they are
// wherever they stand: ASCII, U+00A0-U+00FF, CJK symbols U+3000-U+3029, CJK ideographs
// U+3400-U+9FFF and fullwidth forms U+FF01-U+FF5E. None of them has a canonical decomposition
// or a non-zero combining class, and none is the second of a canonical composition (those are
// combining marks, Hangul jamo and a few Indic vowel signs), so a text of them is already NFC
// (tests/connectors/encodings_test.cc checks every one against utf8proc). The names and labels
// of the Chinese profiles are such text: they skip utf8proc's decompose-and-recompose.
bool IsNfcStable(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    const unsigned lead = *p;
    if (lead < 0x80) {
      ++p;
    } else if ((lead == 0xC2 || lead == 0xC3) && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
      if (lead == 0xC2 && p[1] < 0xA0) return false;  // C1 controls: left to utf8proc
      p += 2;
    } else if ((lead & 0xF0) == 0xE0 && end - p >= 3 && (p[1] & 0xC0) == 0x80 &&
               (p[2] & 0xC0) == 0x80) {
      const unsigned cp = ((lead & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
      const bool stable = (cp >= 0x3000 && cp <= 0x3029) || (cp >= 0x3400 && cp <= 0x9FFF) ||
                          (cp >= 0xFF01 && cp <= 0xFF5E);
      if (!stable) return false;
      p += 3;
    } else {
      return false;
    }
  }
  return true;
}

bool AppendNfc(std::string_view text, std::string& out) {
  if (IsNfcStable(text)) {
    out.append(text);
    return true;
  }
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(mapped);
  if (n < 0) return false;
  out.append(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
  return true;
}

std::string ToNfc(std::string_view text) {
  std::string out;
  if (!AppendNfc(text, out)) out.assign(text);
  return out;
}

}  // namespace carehub
