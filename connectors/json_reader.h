// Streaming splitter for JSON exports: a top-level array of records ([{...},{...}]) or NDJSON
// (one record per line), detected from the first non-blank byte. Returns each element's text
// without parsing it (the engine parses one element at a time with Poco::JSON::Parser), so memory
// stays bounded whatever the file size. Strict about structure: nothing after the array's
// closing ']' is dropped and nothing missing is passed over in silence; each such thing comes
// back as an element with a problem() (the engine quarantines it). Not thread-safe.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

namespace carehub {

class JsonElementReader {
 public:
  // An element longer than `max_element_bytes` is skipped (never held in memory whole) and
  // returned as its first bytes with a problem().
  // An element nested deeper than `max_depth` arrays/objects is flagged the same way.
  explicit JsonElementReader(std::istream& in, std::size_t max_element_bytes = 64u << 20,
                             int max_depth = 64);

  // The next element's text (valid until the next call) and its 1-based row: the element index
  // in an array, the line number in NDJSON. False at the end. When the element is not a clean
  // array element or line, problem() says why ("" otherwise): a second top-level array, text
  // after the closing ']' (each value or line is one element), a missing or doubled comma,
  // an array without its closing ']' (an empty element at the end), a file ending inside an
  // element, an element beyond the size limit.
  // Throws Error::IoError on a read error, Error::InvalidInput for a stream whose first
  // non-blank byte is neither '[' nor '{' (not JSON at all).
  bool Next(std::string_view& element, std::int64_t& row);
  const std::string& problem() const { return problem_; }
  bool is_array() const { return array_; }
  std::uint64_t bytes_consumed() const { return bytes_read_ - (end_ - pos_); }

 private:
  enum class Mode { kUnknown, kArray, kAfterArray, kLines, kDone };
  bool Refill();  // false at the end of the stream
  void Detect();
  bool NextLine(std::string_view& element, std::int64_t& row);
  bool NextArrayElement(std::string_view& element, std::int64_t& row);
  bool NextAfterArray(std::string_view& element, std::int64_t& row);
  // Skips blanks (and counts commas when `commas` is given); false at the end of the stream.
  bool SkipBlanks(int* commas);
  // From pos_ (the first byte of a value): the offset just past the value's end. False when the
  // stream ends first (stop = the end of the data).
  bool ScanValue(std::size_t& stop);
  // From pos_: the offset of the line end ('\n', or the end of the data); false at the end.
  bool ScanLine(std::size_t& stop);
  // Keeps the buffer bounded while scanning an element longer than the limit: drops its
  // middle, keeping the first kKeptPrefix bytes and the not yet scanned rest.
  void DropOversizedMiddle(std::size_t& scanned);
  // The element [pos_, stop) as a view, flagged when it was cut; consumes it.
  void Take(std::size_t stop, std::size_t next, std::string_view& element, std::int64_t& row);

  std::istream& in_;
  std::size_t max_element_;
  int max_depth_;
  bool too_deep_ = false;  // the element being scanned nests deeper than max_depth_
  Mode mode_ = Mode::kUnknown;
  bool array_ = false;
  bool eof_ = false;
  int arrays_ = 0;             // top-level arrays begun
  std::int64_t in_array_ = 0;  // elements of the current array so far
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t bytes_read_ = 0;
  bool oversized_ = false;  // the element being scanned was cut
  std::int64_t row_ = 0;
  std::string problem_;
};

}  // namespace carehub
