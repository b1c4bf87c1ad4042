#include "connectors/xml_raw_window.h"

#include <algorithm>
#include <cstring>

namespace carehub {
namespace {

// Expat counts a character at its first byte and a CR LF pair (or a lone CR) as one line end.
bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

XmlRawWindow::XmlRawWindow(std::streambuf* source, std::size_t max_row_bytes)
    : source_(source), max_(std::max<std::size_t>(max_row_bytes, 1)) {}

XmlRawWindow::int_type XmlRawWindow::underflow() {
  const std::streamsize n = source_->sgetn(chunk_, sizeof chunk_);
  if (n <= 0) return traits_type::eof();
  Compact();
  window_.append(chunk_, static_cast<std::size_t>(n));
  const bool tracking = in_record_ && record_start_ != std::string::npos;
  if (tracking && !record_cut_ && window_.size() - record_start_ > max_) {
    // The record outgrew the limit: keep its first max_ bytes aside, track the rest as a tail.
    cut_.assign(window_, record_start_, max_);
    record_cut_ = true;
  }
  // Between records (or past a cut record's limit) only a tail is kept: a start tag the parser
  // has not reported yet lies within the last max_ bytes read, or is longer than a row may be.
  if ((!tracking || record_cut_) && window_.size() - cursor_.offset > 2 * max_ + sizeof chunk_) {
    Advance(cursor_, window_.size() - max_ - sizeof chunk_);
    keep_ = cursor_.offset;
    record_start_ = std::string::npos;
  }
  setg(chunk_, chunk_, chunk_ + n);
  return traits_type::to_int_type(chunk_[0]);
}

void XmlRawWindow::Compact() {
  if (keep_ == 0) return;
  window_.erase(0, keep_);
  cursor_.offset -= keep_;
  if (record_start_ != std::string::npos) record_start_ -= keep_;
  keep_ = 0;
}

bool XmlRawWindow::Seek(Pos& pos, int line, int column) const {
  const char* bytes = window_.data();
  const std::size_t size = window_.size();
  std::size_t i = pos.offset;
  int c = pos.column;
  // Whole lines first (memchr finds the line ends), then the characters of the target line.
  for (int l = pos.line; l < line; ++l) {
    const void* lf = std::memchr(bytes + i, '\n', size - i);
    const std::size_t end = lf ? static_cast<const char*>(lf) - bytes : size;
    const void* cr = std::memchr(bytes + i, '\r', end - i);
    if (cr != nullptr && static_cast<const char*>(cr) + 1 != bytes + end) {
      i = static_cast<const char*>(cr) - bytes + 1;  // a lone CR ends the line
    } else if (lf != nullptr) {
      i = end + 1;
    } else {
      return false;  // the line has not been read yet
    }
    c = 0;
  }
  if (line < pos.line) return false;
  while (i < size) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    if (IsContinuation(byte)) {
      ++i;
      continue;
    }
    if (c == column) break;
    if (byte == '\r' || byte == '\n' || c > column) return false;
    ++c;
    ++i;
  }
  if (c != column) return false;
  pos = {i, line, c};
  return true;
}

void XmlRawWindow::Advance(Pos& pos, std::size_t offset) const {
  const auto* bytes = reinterpret_cast<const unsigned char*>(window_.data());
  while (pos.offset < offset && pos.offset < window_.size()) {
    const unsigned char byte = bytes[pos.offset++];
    if (IsContinuation(byte)) continue;
    if (byte == '\r' || byte == '\n') {
      if (byte == '\r' && pos.offset < window_.size() && bytes[pos.offset] == '\n') ++pos.offset;
      ++pos.line;
      pos.column = 0;
    } else {
      ++pos.column;
    }
  }
  // Never stop inside a character: its position is that of its first byte.
  while (pos.offset < window_.size() && IsContinuation(bytes[pos.offset])) ++pos.offset;
}

std::size_t XmlRawWindow::TagEnd(std::size_t at) const {
  char quote = 0;
  for (std::size_t i = at + 1; i < window_.size(); ++i) {
    const char ch = window_[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '>') {
      return i + 1;
    }
  }
  return std::string::npos;
}

void XmlRawWindow::BeginRecord(int line, int column) {
  in_record_ = true;
  record_cut_ = false;
  cut_.clear();
  record_start_ = std::string::npos;
  Pos at = cursor_;
  if (!Seek(at, line, column) || at.offset >= window_.size() || window_[at.offset] != '<') {
    return;  // not in the window (an element out of an entity): the row is rebuilt
  }
  cursor_ = at;
  keep_ = at.offset;
  record_start_ = at.offset;
}

void XmlRawWindow::EndRecord() { in_record_ = false; }

std::optional<std::string_view> XmlRawWindow::RecordBytes(int line, int column, bool& cut) {
  cut = record_cut_;
  if (record_cut_) return std::string_view(cut_);
  if (record_start_ == std::string::npos) return std::nullopt;
  const std::string_view window(window_);
  const std::size_t open_end = TagEnd(record_start_);
  if (open_end == std::string::npos) return std::nullopt;
  std::size_t end = std::string::npos;
  if (window[open_end - 2] == '/') {
    end = open_end;  // an empty element: its start tag is the whole record
  } else {
    Pos close = cursor_;
    if (!Seek(close, line, column) || close.offset + 1 >= window.size() ||
        window[close.offset] != '<' || window[close.offset + 1] != '/') {
      return std::nullopt;
    }
    cursor_ = close;
    end = TagEnd(close.offset);
  }
  if (end == std::string::npos) return std::nullopt;
  cut = end - record_start_ > max_;
  return window.substr(record_start_, std::min(end - record_start_, max_));
}

std::optional<std::string_view> XmlRawWindow::OpenRecordBytes(int line, int column, bool& cut) {
  cut = record_cut_;
  if (record_cut_) return std::string_view(cut_);
  if (record_start_ == std::string::npos) return std::nullopt;
  std::size_t end = window_.size();
  Pos stop = cursor_;
  if (line >= 0 && Seek(stop, line, column) && stop.offset > record_start_) end = stop.offset;
  cut = end - record_start_ > max_;
  return std::string_view(window_).substr(record_start_, std::min(end - record_start_, max_));
}

}  // namespace carehub
