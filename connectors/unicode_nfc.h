// Unicode normalisation form C for every text the engine matches or stores, through utf8proc
// (the one file that calls it): "dependência" typed as e + U+0302 (NFD, as macOS and some
// databases write it) and the precomposed form are the same text after this. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace carehub {

// True when `text` is pure ASCII (always NFC; the fast path for most fields).
bool IsAscii(std::string_view text);
// True when `text` is well-formed UTF-8 of code points that are NFC in any context (ASCII,
// Latin-1 letters, CJK ideographs and symbols, fullwidth forms): NFC leaves it unchanged.
bool IsNfcStable(std::string_view text);
// `text` (valid UTF-8) in NFC, appended to `out`. Returns false, appending nothing, when
// `text` is not valid UTF-8.
bool AppendNfc(std::string_view text, std::string& out);
// `text` in NFC; the text itself when it is not valid UTF-8.
std::string ToNfc(std::string_view text);

}  // namespace carehub
