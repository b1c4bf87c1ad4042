// Streaming RFC 4180 CSV reader: quoted fields, doubled quotes, embedded newlines, CRLF or LF,
// an optional UTF-8 BOM, any one-byte delimiter. Reads the stream in 1 MiB chunks and returns one
// record at a time as views into its buffer, so memory stays constant whatever the file size
// (only a single record larger than the buffer grows it, up to 64 MiB). Works on raw bytes: the
// delimiter, quote and line ends are ASCII (< 0x40), which no GBK or Big5 trail byte can be.
// Not thread-safe; one reader per stream. AppendCsvField writes a field the reader reads back.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace carehub {

struct CsvRecord {
  std::vector<std::string_view> fields;  // unquoted and unescaped; valid until the next Next()
  std::string_view raw;                  // the record's bytes as found, without the line end
  // Not RFC 4180: a quote inside an unquoted field, text after a closing quote, or an
  // unterminated quoted field at the end of the file. Fields are then best-effort.
  bool malformed = false;
};

class CsvReader {
 public:
  CsvReader(std::istream& in, char delimiter, bool skip_bom = true);

  // Reads the next record, skipping blank lines. Returns false at the end of the stream.
  // Throws Error::IoError on a read error, Error::InvalidInput for a record beyond 64 MiB.
  bool Next(CsvRecord& record);
  // Bytes of the stream consumed so far (for progress reports).
  std::uint64_t bytes_consumed() const { return bytes_read_ - (end_ - pos_); }

 private:
  struct Span {
    std::size_t offset;
    std::size_t length;
    bool in_scratch;
  };
  enum class Parse { kRecord, kNeedMore };

  Parse ParseAt(std::size_t start, std::size_t& record_end, std::size_t& next, bool& malformed);
  void Refill();

  std::istream& in_;
  char delimiter_;
  bool skip_bom_;
  bool at_start_ = true;
  bool eof_ = false;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::vector<Span> spans_;
  std::string scratch_;
};

// The writing side of the same format: appends `value` to `out` as one field, quoted (with
// doubled quotes) only when it holds a quote, CR, LF or the delimiter.
void AppendCsvField(std::string& out, std::string_view value, char delimiter = ',');

}  // namespace carehub
