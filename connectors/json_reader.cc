#include "connectors/json_reader.h"

#include <cstring>

#include "schemas/error.h"

namespace carehub {
namespace {
constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kMaxElement = 64u << 20;

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

JsonElementReader::JsonElementReader(std::istream& in) : in_(in) { buffer_.resize(kChunk); }

bool JsonElementReader::Refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buffer_.size()) {
    if (buffer_.size() >= kMaxElement) throw Error::InvalidInput("JSON element beyond 64 MiB");
    buffer_.resize(buffer_.size() * 2);
  }
  in_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
  std::streamsize got = in_.gcount();
  if (in_.bad()) throw Error::IoError("read error");
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(got);
  bytes_read_ += static_cast<std::uint64_t>(got);
  return true;
}

bool JsonElementReader::Next(std::string_view& element, std::int64_t& row) {
  if (mode_ == Mode::kUnknown) {
    for (;;) {
      if (pos_ == end_ && !Refill()) {
        mode_ = Mode::kDone;
        return false;
      }
      if (bytes_read_ >= 3 && pos_ == 0 && end_ >= 3 &&
          std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0) {
        pos_ = 3;
        continue;
      }
      while (pos_ < end_ && IsBlank(buffer_[pos_])) {
        if (buffer_[pos_] == '\n') ++row_;  // keep NDJSON line numbers right
        ++pos_;
      }
      if (pos_ < end_) break;
    }
    if (buffer_[pos_] == '[') {
      mode_ = Mode::kArray;
      ++pos_;
      row_ = 0;
    } else if (buffer_[pos_] == '{') {
      mode_ = Mode::kLines;
    } else {
      mode_ = Mode::kDone;
      throw Error::InvalidInput("not a JSON array or NDJSON file");
    }
  }
  if (mode_ == Mode::kArray) return NextArrayElement(element, row);
  if (mode_ == Mode::kLines) return NextLine(element, row);
  return false;
}

bool JsonElementReader::NextLine(std::string_view& element, std::int64_t& row) {
  for (;;) {
    const char* nl =
        static_cast<const char*>(std::memchr(buffer_.data() + pos_, '\n', end_ - pos_));
    if (!nl && !eof_) {
      if (Refill()) continue;
    }
    std::size_t line_end = nl ? static_cast<std::size_t>(nl - buffer_.data()) : end_;
    if (pos_ == end_ && !nl) return false;
    std::size_t b = pos_;
    std::size_t e = line_end;
    pos_ = nl ? line_end + 1 : end_;
    ++row_;
    while (b < e && IsBlank(buffer_[b])) ++b;
    while (e > b && IsBlank(buffer_[e - 1])) --e;
    if (b == e) continue;  // blank line
    element = std::string_view(buffer_.data() + b, e - b);
    row = row_;
    return true;
  }
}

bool JsonElementReader::NextArrayElement(std::string_view& element, std::int64_t& row) {
  for (;;) {
    // Skip blanks and the separating comma.
    std::size_t i = pos_;
    while (i < end_ && (IsBlank(buffer_[i]) || buffer_[i] == ',')) ++i;
    if (i == end_) {
      pos_ = i;
      if (Refill()) continue;
      mode_ = Mode::kDone;
      return false;  // truncated after a complete element: nothing more to report
    }
    if (buffer_[i] == ']') {
      pos_ = i + 1;
      mode_ = Mode::kDone;
      return false;
    }
    // Scan one value: depth of {} and [] outside strings; a scalar ends at , or ] at depth 0.
    int depth = 0;
    bool in_string = false;
    std::size_t j = i;
    bool complete = false;
    for (; j < end_; ++j) {
      char c = buffer_[j];
      if (in_string) {
        if (c == '\\') {
          ++j;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {  // the array's closing bracket after a scalar
          complete = true;
          break;
        }
        if (--depth == 0) {
          ++j;
          complete = true;
          break;
        }
      } else if (c == ',' && depth == 0) {
        complete = true;
        break;
      }
    }
    if (!complete && !eof_) {
      pos_ = i;
      if (Refill()) continue;
      i = pos_;  // Refill moved the data to the front of the buffer
    }
    std::size_t stop = complete ? j : end_;
    if (stop > end_) stop = end_;
    if (stop == i) stop = i + 1;  // a stray '}' where a value should start: one bad element
    std::size_t e = stop;
    while (e > i && IsBlank(buffer_[e - 1])) --e;
    element = std::string_view(buffer_.data() + i, e - i);
    pos_ = stop;
    if (!complete) mode_ = Mode::kDone;
    row = ++row_;
    return true;
  }
}

}  // namespace carehub
