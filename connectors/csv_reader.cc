#include "connectors/csv_reader.h"

#include <algorithm>
#include <cstring>

#include "schemas/error.h"

namespace carehub {
namespace {
constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kKeptPrefix = 4096;  // of a record too long to hold, for the quarantine

std::string_view FirstLine(std::string_view raw) {
  std::string_view line = raw.substr(0, raw.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}
}  // namespace

CsvReader::CsvReader(std::istream& in, char delimiter, bool skip_bom, std::size_t max_record_bytes)
    : max_record_(std::max<std::size_t>(max_record_bytes, kKeptPrefix)),
      in_(in),
      delimiter_(delimiter),
      skip_bom_(skip_bom) {
  buffer_.resize(std::min(kChunk, max_record_ + 1));
}

void CsvReader::Refill() {
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  in_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
  std::streamsize got = in_.gcount();
  if (in_.bad()) throw Error::IoError("read error");
  if (got == 0) eof_ = true;
  end_ += static_cast<std::size_t>(got);
  bytes_read_ += static_cast<std::uint64_t>(got);
  if (at_start_ && (end_ >= 3 || eof_)) {
    at_start_ = false;
    if (skip_bom_ && end_ >= 3 && std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
  }
}

CsvReader::Parse CsvReader::ParseAt(std::size_t start, std::size_t& record_end, std::size_t& next,
                                    bool& malformed) {
  spans_.clear();
  scratch_.clear();
  malformed = false;
  const char* b = buffer_.data();
  const std::size_t n = end_;
  const char delim = delimiter_;
  std::size_t i = start;
  for (;;) {  // at the start of a field
    if (i < n && b[i] == '"') {
      std::size_t seg = ++i;
      bool escaped = false;
      std::size_t scratch_start = scratch_.size();
      for (;;) {
        if (i == n) {
          if (!eof_) return Parse::kNeedMore;
          malformed = true;  // unterminated quoted field at the end of the file
          break;
        }
        if (b[i] != '"') {
          ++i;
          continue;
        }
        if (i + 1 == n && !eof_) return Parse::kNeedMore;
        if (i + 1 < n && b[i + 1] == '"') {
          scratch_.append(b + seg, i + 1 - seg);
          escaped = true;
          i += 2;
          seg = i;
          continue;
        }
        break;
      }
      std::size_t content_end = i;
      if (escaped) {
        scratch_.append(b + seg, content_end - seg);
        spans_.push_back({scratch_start, scratch_.size() - scratch_start, true});
      } else {
        spans_.push_back({seg, content_end - seg, false});
      }
      if (i < n) ++i;  // the closing quote
      if (i < n && b[i] == '\r') {
        if (i + 1 == n && !eof_) return Parse::kNeedMore;
        if (i + 1 == n || b[i + 1] == '\n') ++i;
      }
      if (i == n) {
        if (!eof_) return Parse::kNeedMore;
        record_end = next = n;
        return Parse::kRecord;
      }
      if (b[i] == delim) {
        ++i;
        if (i == n && !eof_) return Parse::kNeedMore;
        if (i == n) {
          spans_.push_back({i, 0, false});
          record_end = next = n;
          return Parse::kRecord;
        }
        continue;
      }
      if (b[i] == '\n') {
        record_end = i;
        next = i + 1;
        return Parse::kRecord;
      }
      malformed = true;  // text after the closing quote: skip to the end of the field
      while (i < n && b[i] != delim && b[i] != '\n') ++i;
      if (i == n && !eof_) return Parse::kNeedMore;
      if (i < n && b[i] == delim) {
        ++i;
        continue;
      }
      record_end = i;
      next = i < n ? i + 1 : n;
      return Parse::kRecord;
    }
    std::size_t j = i;
    while (j < n) {
      char c = b[j];
      if (c == delim || c == '\n') break;
      if (c == '"') malformed = true;
      ++j;
    }
    if (j == n && !eof_) return Parse::kNeedMore;
    std::size_t field_end = j;
    bool line_end = j == n || b[j] == '\n';
    if (line_end && field_end > i && b[field_end - 1] == '\r') --field_end;
    spans_.push_back({i, field_end - i, false});
    if (!line_end) {
      i = j + 1;
      if (i == n && !eof_) return Parse::kNeedMore;
      if (i == n) {
        spans_.push_back({i, 0, false});
        record_end = next = n;
        return Parse::kRecord;
      }
      continue;
    }
    record_end = j;
    next = j < n ? j + 1 : n;
    return Parse::kRecord;
  }
}

bool CsvReader::Next(CsvRecord& record) {
  record.problem.clear();
  for (;;) {
    if (pos_ == end_) {
      if (eof_) return false;
      Refill();
      continue;
    }
    std::size_t record_end = 0;
    std::size_t next = 0;
    bool malformed = false;
    if (ParseAt(pos_, record_end, next, malformed) == Parse::kNeedMore) {
      if (end_ - pos_ > max_record_) {
        CutOversized(record);
        return true;
      }
      Refill();
      continue;
    }
    if (next - pos_ > max_record_) {  // it fitted in the buffer but not in the limit
      CutOversized(record);
      return true;
    }
    std::size_t raw_end = record_end;
    if (raw_end > pos_ && buffer_[raw_end - 1] == '\r') --raw_end;
    std::string_view raw(buffer_.data() + pos_, raw_end - pos_);
    record_start_ = pos_;
    pos_ = next;
    if (raw.empty()) continue;  // blank line
    record.raw = raw;
    record.malformed = malformed;
    record.fields.clear();
    for (const Span& s : spans_) {
      const char* base = s.in_scratch ? scratch_.data() : buffer_.data();
      record.fields.emplace_back(base + s.offset, s.length);
    }
    if (malformed && CutAfterFirstLine(record)) {
      record.problem =
          "a quoted field opened in this row does not close properly (stray quote?); only this "
          "line is counted as the row and the next line is read as a new row";
    } else if (malformed) {
      record.problem = "not RFC 4180 CSV (a quote inside a field or text after a closing quote)";
    }
    return true;
  }
}

bool CsvReader::CutAfterFirstLine(CsvRecord& record) {
  const std::size_t nl = record.raw.find('\n');
  if (nl == std::string_view::npos) return false;
  pos_ = record_start_ + nl + 1;
  record.raw = FirstLine(record.raw);
  record.fields.clear();
  record.malformed = true;
  return true;
}

void CsvReader::CutOversized(CsvRecord& record) {
  record.fields.clear();
  record.malformed = true;
  std::string_view held(buffer_.data() + pos_, end_ - pos_);
  const std::size_t nl = held.find('\n');
  if (nl != std::string_view::npos && nl <= max_record_) {
    // A field quoted across lines runs past the limit: most likely a stray quote.
    record_start_ = pos_;
    record.raw = FirstLine(held);
    pos_ += nl + 1;
    record.problem = "a quoted field opened in this row is still open after the row limit of " +
                     std::to_string(max_record_) +
                     " bytes (stray quote?); only this line is counted as the row and the next "
                     "line is read as a new row";
    return;
  }
  // One line longer than the limit: keep its start, drop the rest up to the next line end.
  cut_raw_.assign(held.substr(0, kKeptPrefix));
  for (;;) {
    const char* found =
        static_cast<const char*>(std::memchr(buffer_.data() + pos_, '\n', end_ - pos_));
    if (found) {
      pos_ = static_cast<std::size_t>(found - buffer_.data()) + 1;
      break;
    }
    pos_ = end_;
    if (eof_) break;
    Refill();
  }
  record.raw = cut_raw_;
  record.problem = "the row is longer than the row limit of " + std::to_string(max_record_) +
                   " bytes (only its start is kept)";
}

void AppendCsvField(std::string& out, std::string_view value, char delimiter) {
  const char specials[] = {'"', '\r', '\n', delimiter, '\0'};
  if (value.find_first_of(specials) == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace carehub
