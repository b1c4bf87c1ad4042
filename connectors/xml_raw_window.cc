#include "connectors/xml_raw_window.h"

#include <algorithm>

namespace carehub {
namespace {

// Expat counts a character at its first byte and a CR LF pair as one line end.
bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

XmlRawWindow::XmlRawWindow(std::streambuf* source, std::size_t max_row_bytes)
    : source_(source), max_(std::max<std::size_t>(max_row_bytes, 1)) {}

XmlRawWindow::int_type XmlRawWindow::underflow() {
  const std::streamsize n = source_->sgetn(chunk_, sizeof chunk_);
  if (n <= 0) return traits_type::eof();
  window_.append(chunk_, static_cast<std::size_t>(n));
  const bool tracking = in_record_ && record_start_ != std::string::npos;
  if (tracking && !record_cut_ && window_.size() - record_start_ > max_) {
    // The record outgrew the limit: keep its first max_ bytes aside, track the rest as a tail.
    cut_.assign(window_, record_start_, max_);
    record_cut_ = true;
  }
  // Between records (or past a cut record's limit) only a tail is kept: a start tag the parser
  // has not reported yet lies within the last max_ bytes read, or is longer than a row may be.
  if ((!tracking || record_cut_) && window_.size() > 2 * max_ + sizeof chunk_) {
    Drop(window_.size() - max_ - sizeof chunk_);
  }
  setg(chunk_, chunk_, chunk_ + n);
  return traits_type::to_int_type(chunk_[0]);
}

void XmlRawWindow::Drop(std::size_t n) {
  n = std::min(n, window_.size());
  std::size_t i = 0;
  while (i < n) {
    const auto byte = static_cast<unsigned char>(window_[i]);
    if (byte == '\r' || byte == '\n') {
      if (byte == '\r' && i + 1 < window_.size() && window_[i + 1] == '\n') ++i;  // one line end
      ++first_line_;
      first_column_ = 0;
    } else if (!IsContinuation(byte)) {
      ++first_column_;
    }
    ++i;
  }
  window_.erase(0, i);
  if (record_start_ != std::string::npos) {
    record_start_ = record_start_ >= i ? record_start_ - i : std::string::npos;
  }
}

std::size_t XmlRawWindow::Offset(int line, int column) const {
  int l = first_line_;
  int c = first_column_;
  for (std::size_t i = 0; i < window_.size(); ++i) {
    const auto byte = static_cast<unsigned char>(window_[i]);
    if (IsContinuation(byte)) continue;
    if (l == line && c == column) return i;
    if (l > line) return std::string::npos;
    if (byte == '\r' || byte == '\n') {
      if (byte == '\r' && i + 1 < window_.size() && window_[i + 1] == '\n') ++i;
      ++l;
      c = 0;
    } else {
      ++c;
    }
  }
  return l == line && c == column ? window_.size() : std::string::npos;
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
  const std::size_t at = Offset(line, column);
  if (at == std::string::npos || at >= window_.size() || window_[at] != '<') {
    record_start_ = std::string::npos;
    return;
  }
  Drop(at);
  record_start_ = 0;
}

void XmlRawWindow::EndRecord() { in_record_ = false; }

std::optional<std::string_view> XmlRawWindow::RecordBytes(int line, int column, bool& cut) const {
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
    const std::size_t close = Offset(line, column);
    if (close == std::string::npos || close + 1 >= window.size() || window[close] != '<' ||
        window[close + 1] != '/') {
      return std::nullopt;
    }
    end = TagEnd(close);
  }
  if (end == std::string::npos) return std::nullopt;
  cut = end - record_start_ > max_;
  return window.substr(record_start_, std::min(end - record_start_, max_));
}

std::optional<std::string_view> XmlRawWindow::OpenRecordBytes(int line, int column,
                                                              bool& cut) const {
  cut = record_cut_;
  if (record_cut_) return std::string_view(cut_);
  if (record_start_ == std::string::npos) return std::nullopt;
  std::size_t end = line < 0 ? std::string::npos : Offset(line, column);
  if (end == std::string::npos || end < record_start_) end = window_.size();
  cut = end - record_start_ > max_;
  return std::string_view(window_).substr(record_start_, std::min(end - record_start_, max_));
}

}  // namespace carehub
