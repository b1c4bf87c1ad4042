// Streaming RFC 4180 CSV reader: quoted fields, doubled quotes, embedded newlines, CRLF or LF,
// an optional UTF-8 BOM, any one-byte delimiter. Reads the stream in 1 MiB chunks and returns one
// record at a time as views into its buffer, so memory stays bounded by the row limit whatever
// the file size. A broken record that spans lines (a stray quote opened a field that a later
// quote closes, or that runs to the end of the file or past the row limit) is cut after its
// first line, reported as malformed, and reading goes on at the next line: one stray quote costs
// one row, not the rest of the file. Works on raw bytes: the
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
  // Not RFC 4180: a quote inside an unquoted field, text after a closing quote, an
  // unterminated quoted field, or a record beyond the row limit. Fields are then best-effort
  // (none for a cut record) and `problem` says what is wrong.
  bool malformed = false;
  std::string problem;
};

class CsvReader {
 public:
  // A record longer than `max_record_bytes` is cut (see above) and never held whole.
  CsvReader(std::istream& in, char delimiter, bool skip_bom = true,
            std::size_t max_record_bytes = 64u << 20);

  // Reads the next record, skipping blank lines. Returns false at the end of the stream.
  // Throws Error::IoError on a read error.
  bool Next(CsvRecord& record);
  // For a record the caller finds broken (e.g. a wrong column count) that spans lines: keeps
  // only its first line in `record.raw` and makes the next Next() start at the line after it.
  // False (nothing changed) for a one-line record. Call before the next Next().
  bool CutAfterFirstLine(CsvRecord& record);
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
  // The record at pos_ is longer than the row limit: cut it (first line, or first bytes).
  void CutOversized(CsvRecord& record);

  std::size_t max_record_;
  std::string cut_raw_;           // the kept start of a record too long to hold
  std::size_t record_start_ = 0;  // offset of the last record returned, for CutAfterFirstLine
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
