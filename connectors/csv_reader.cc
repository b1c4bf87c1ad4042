#include "connectors/csv_reader.h"

#include <cstring>

#include "schemas/error.h"

namespace carehub {
namespace {
constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kMaxRecord = 64u << 20;
}  // namespace

CsvReader::CsvReader(std::istream& in, char delimiter, bool skip_bom)
    : in_(in), delimiter_(delimiter), skip_bom_(skip_bom) {
  buffer_.resize(kChunk);
}

void CsvReader::Refill() {
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buffer_.size()) {
    if (buffer_.size() >= kMaxRecord) {
      throw Error::InvalidInput("CSV record longer than 64 MiB (unterminated quote?)");
    }
    buffer_.resize(buffer_.size() * 2);
  }
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
      Refill();
      continue;
    }
    std::size_t raw_end = record_end;
    if (raw_end > pos_ && buffer_[raw_end - 1] == '\r') --raw_end;
    std::string_view raw(buffer_.data() + pos_, raw_end - pos_);
    pos_ = next;
    if (raw.empty()) continue;  // blank line
    record.raw = raw;
    record.malformed = malformed;
    record.fields.clear();
    for (const Span& s : spans_) {
      const char* base = s.in_scratch ? scratch_.data() : buffer_.data();
      record.fields.emplace_back(base + s.offset, s.length);
    }
    return true;
  }
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
