#include "connectors/transcoding_stream.h"

#include <algorithm>
#include <cctype>

#include "schemas/error.h"

namespace carehub {
namespace {
constexpr std::size_t kChunk = 64 * 1024;
constexpr char kNeverUtf8 = '\xFF';
}  // namespace

TranscodingStreambuf::TranscodingStreambuf(std::istream& source, const std::string& from_encoding)
    : source_(source), iconv_(from_encoding), unit_(from_encoding.starts_with("UTF-16") ? 2 : 1) {}

void TranscodingStreambuf::ConvertPending() {
  std::string_view rest = pending_;
  for (;;) {
    const Iconv::Result r = iconv_.Convert(rest, out_);
    rest.remove_prefix(r.consumed);
    if (r.stop == Iconv::Stop::kDone) break;
    if (r.stop == Iconv::Stop::kIncomplete && !source_done_) break;  // wait for the rest
    out_.push_back(kNeverUtf8);
    rest.remove_prefix(r.stop == Iconv::Stop::kIncomplete ? rest.size()
                                                          : std::min(unit_, rest.size()));
  }
  pending_.erase(0, pending_.size() - rest.size());
}

TranscodingStreambuf::int_type TranscodingStreambuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  out_.clear();
  while (out_.empty()) {
    if (source_done_ && pending_.empty()) return traits_type::eof();
    if (!source_done_) {
      const std::size_t had = pending_.size();
      pending_.resize(had + kChunk);
      source_.read(pending_.data() + had, static_cast<std::streamsize>(kChunk));
      if (source_.bad()) throw Error::IoError("read error");
      const auto got = static_cast<std::size_t>(source_.gcount());
      pending_.resize(had + got);
      if (got == 0) source_done_ = true;
    }
    ConvertPending();
  }
  setg(out_.data(), out_.data(), out_.data() + out_.size());
  return traits_type::to_int_type(*gptr());
}

std::optional<std::string> Utf16FromBom(std::string_view head) {
  if (head.starts_with("\xFF\xFE")) return "UTF-16LE";
  if (head.starts_with("\xFE\xFF")) return "UTF-16BE";
  return std::nullopt;
}

std::optional<std::string> XmlLegacyEncoding(std::string_view head) {
  if (head.starts_with("\xEF\xBB\xBF")) return std::nullopt;  // a UTF-8 BOM wins
  if (!head.starts_with("<?xml")) return std::nullopt;
  const std::size_t decl_end = head.find("?>");
  const std::string_view decl = head.substr(0, decl_end);
  const std::size_t key = decl.find("encoding");
  if (key == std::string_view::npos) return std::nullopt;
  const std::size_t open = decl.find_first_of("\"'", key);
  if (open == std::string_view::npos) return std::nullopt;
  const std::size_t close = decl.find(decl[open], open + 1);
  if (close == std::string_view::npos) return std::nullopt;
  std::string name(decl.substr(open + 1, close - open - 1));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (const char* native : {"UTF-8", "UTF8", "UTF-16", "US-ASCII", "ISO-8859-1"}) {
    if (name == native) return std::nullopt;
  }
  return name;
}

}  // namespace carehub
