// Whole-file transcoding for the connector engine: a std::istream that reads another stream
// through glibc iconv (connectors/iconv.h) into UTF-8, 64 KiB at a time, so memory stays
// constant. Used for files whose bytes are not in the profile's field encoding: UTF-16 files
// (told by their byte-order mark) and XML that declares a legacy encoding (GBK, Big5, ...).
// A byte sequence that is not valid in the source encoding becomes the byte 0xFF, which is never
// valid UTF-8, so the row holding it is quarantined by the readers' UTF-8 check instead of being
// repaired in silence. Not thread-safe; one per stream.
#pragma once

#include <istream>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>

#include "connectors/iconv.h"

namespace carehub {

class TranscodingStreambuf : public std::streambuf {
 public:
  TranscodingStreambuf(std::istream& source, const std::string& from_encoding);

 protected:
  int_type underflow() override;

 private:
  void ConvertPending();

  std::istream& source_;
  Iconv iconv_;
  std::string pending_;  // source bytes not converted yet (a sequence split by a chunk end)
  std::string out_;
  std::size_t unit_;  // bytes skipped past an invalid sequence: 2 in UTF-16, to stay aligned
  bool source_done_ = false;
};

class TranscodingStream : public std::istream {
 public:
  TranscodingStream(std::istream& source, const std::string& from_encoding)
      : std::istream(nullptr), buf_(source, from_encoding) {
    rdbuf(&buf_);
  }

 private:
  TranscodingStreambuf buf_;
};

// "UTF-16LE" or "UTF-16BE" when `head` starts with that byte-order mark.
std::optional<std::string> Utf16FromBom(std::string_view head);
// The encoding an XML declaration at the start of `head` names ("GBK"), upper-cased; nullopt
// when there is none or it is one expat reads itself (UTF-8, UTF-16, US-ASCII, ISO-8859-1).
std::optional<std::string> XmlLegacyEncoding(std::string_view head);

}  // namespace carehub
