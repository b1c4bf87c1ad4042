// Streaming splitter for JSON exports: a top-level array of records ([{...},{...}]) or NDJSON
// (one record per line), detected from the first non-blank byte. Returns each element's text
// without parsing it (the engine parses one element at a time with Poco::JSON::Parser), so memory
// stays constant whatever the file size. Not thread-safe; one reader per stream.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>

namespace carehub {

class JsonElementReader {
 public:
  explicit JsonElementReader(std::istream& in);

  // The next element's text (valid until the next call) and its 1-based row: the element index
  // in an array, the line number in NDJSON. False at the end. A truncated or garbled array
  // yields the broken text as an element, which then fails to parse (a malformed row).
  // Throws Error::IoError on a read error, Error::InvalidInput for an element beyond 64 MiB or
  // a stream whose first non-blank byte is neither '[' nor '{' (not JSON at all).
  bool Next(std::string_view& element, std::int64_t& row);
  bool is_array() const { return mode_ == Mode::kArray; }
  std::uint64_t bytes_consumed() const { return bytes_read_ - (end_ - pos_); }

 private:
  enum class Mode { kUnknown, kArray, kLines, kDone };
  bool Refill();  // false at the end of the stream
  bool NextLine(std::string_view& element, std::int64_t& row);
  bool NextArrayElement(std::string_view& element, std::int64_t& row);

  std::istream& in_;
  Mode mode_ = Mode::kUnknown;
  bool eof_ = false;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::int64_t row_ = 0;
};

}  // namespace carehub
