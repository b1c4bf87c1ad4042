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

bool AppendNfc(std::string_view text, std::string& out) {
  if (IsAscii(text)) {
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
