// The original bytes of an XML record for the quarantine (issue 14): a stream buffer between the
// file and the SAX parser that keeps what the parser read from the open record's start on, and
// turns the parser's positions (expat's: line from 1, column in characters from 0, a BOM or a
// multi-byte character counting one) into byte offsets. A record's raw text is then the file's
// own bytes, not values rebuilt with entities expanded. Memory stays bounded: at most
// `max_row_bytes` of a record are kept (a longer record's raw is cut there), and between records
// only the last `max_row_bytes` read. Not thread-safe; one per parse.
#pragma once

#include <cstddef>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>

namespace carehub {

class XmlRawWindow : public std::streambuf {
 public:
  XmlRawWindow(std::streambuf* source, std::size_t max_row_bytes);

  // A record element starts at this parser position (its '<').
  void BeginRecord(int line, int column);
  // The record element ended (its end event was reported).
  void EndRecord();
  // The record's bytes as found, ending at the parser position of its end event (the start of
  // its end tag, or just after an empty element's "/>"). Cut to max_row_bytes (`cut` says so).
  // nullopt when the positions do not fall on the record in the window (an element that came
  // out of an entity): the caller then rebuilds the row. Valid until the parser reads again.
  std::optional<std::string_view> RecordBytes(int line, int column, bool& cut);
  // A record the parse stopped in (a syntax error, the depth limit): its bytes up to that
  // position, or to the end of what was read when the position is not in the window.
  std::optional<std::string_view> OpenRecordBytes(int line, int column, bool& cut);
  // True when the open record has outgrown max_row_bytes.
  bool record_cut() const { return record_cut_; }
  // False when the record just ended is certainly within max_row_bytes (the window from its
  // start is not longer), so its bytes can be looked up later, only if they are wanted.
  bool record_may_exceed() const {
    return record_cut_ ||
           (record_start_ != std::string::npos && window_.size() - record_start_ > max_);
  }

 protected:
  int_type underflow() override;

 private:
  // A byte offset in window_ with the parser position of the byte there.
  struct Pos {
    std::size_t offset = 0;
    int line = 1;
    int column = 0;
  };
  // Moves `pos` forward to (line, column); false (pos unchanged) when that is not in the window
  // from pos on. Parser positions only grow, so the cursor passes each byte once.
  bool Seek(Pos& pos, int line, int column) const;
  // Moves `pos` forward to the first character at or after `offset`.
  void Advance(Pos& pos, std::size_t offset) const;
  // The end of the tag that opens at `at` ('<'): one past its '>' (quotes respected), or npos.
  std::size_t TagEnd(std::size_t at) const;
  // Erases the bytes before keep_ (no longer needed), once per chunk read.
  void Compact();

  std::streambuf* source_;
  std::size_t max_;
  std::string window_;
  char chunk_[4096];
  Pos cursor_;            // where the last position was found; nothing before it is needed
  std::size_t keep_ = 0;  // bytes before this offset are no longer needed (compacted lazily)
  bool in_record_ = false;
  std::size_t record_start_ = std::string::npos;  // in window_, while in a record
  std::string cut_;  // a record's first max_ bytes once it outgrew the window
  bool record_cut_ = false;
};

}  // namespace carehub
