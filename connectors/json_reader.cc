#include "connectors/json_reader.h"

#include <algorithm>
#include <cstring>

#include "schemas/error.h"

namespace carehub {
namespace {
constexpr std::size_t kChunk = 1 << 20;
constexpr std::size_t kKeptPrefix = 4096;  // of an oversized element, for the quarantine

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

JsonElementReader::JsonElementReader(std::istream& in, std::size_t max_element_bytes, int max_depth)
    : in_(in),
      max_element_(std::max<std::size_t>(max_element_bytes, kKeptPrefix)),
      max_depth_(max_depth) {
  buffer_.resize(kChunk);
}

bool JsonElementReader::Refill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
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

void JsonElementReader::Detect() {
  for (;;) {
    if (pos_ == end_ && !Refill()) {
      mode_ = Mode::kDone;
      return;
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
    array_ = true;
    arrays_ = 1;
    ++pos_;
    row_ = 0;
  } else if (buffer_[pos_] == '{') {
    mode_ = Mode::kLines;
  } else {
    mode_ = Mode::kDone;
    throw Error::InvalidInput("not a JSON array or NDJSON file");
  }
}

bool JsonElementReader::Next(std::string_view& element, std::int64_t& row) {
  problem_.clear();
  if (mode_ == Mode::kUnknown) Detect();
  switch (mode_) {
    case Mode::kArray:
      return NextArrayElement(element, row);
    case Mode::kAfterArray:
      return NextAfterArray(element, row);
    case Mode::kLines:
      return NextLine(element, row);
    default:
      return false;
  }
}

bool JsonElementReader::SkipBlanks(int* commas) {
  for (;;) {
    while (pos_ < end_ && (IsBlank(buffer_[pos_]) || (commas && buffer_[pos_] == ','))) {
      if (buffer_[pos_] == ',') ++*commas;
      ++pos_;
    }
    if (pos_ < end_) return true;
    if (!Refill()) return false;
  }
}

void JsonElementReader::DropOversizedMiddle(std::size_t& scanned) {
  if (scanned <= max_element_) return;
  oversized_ = true;
  const std::size_t from = pos_ + kKeptPrefix;
  const std::size_t to = pos_ + scanned;
  std::memmove(buffer_.data() + from, buffer_.data() + to, end_ - to);
  end_ -= to - from;
  scanned = kKeptPrefix;
}

bool JsonElementReader::ScanValue(std::size_t& stop) {
  // Depth of {} and [] outside strings; a scalar ends before , ] or } at depth 0.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  std::size_t scanned = 0;  // offset from pos_, stable across Refill
  for (;;) {
    for (; pos_ + scanned < end_; ++scanned) {
      const char c = buffer_[pos_ + scanned];
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (++depth > max_depth_) too_deep_ = true;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          stop = pos_ + scanned;
          return true;
        }
        if (--depth == 0) {
          stop = pos_ + scanned + 1;
          return true;
        }
      } else if (c == ',' && depth == 0) {
        stop = pos_ + scanned;
        return true;
      }
    }
    DropOversizedMiddle(scanned);
    if (!Refill()) {
      stop = end_;
      return false;
    }
  }
}

bool JsonElementReader::ScanLine(std::size_t& stop) {
  std::size_t scanned = 0;
  for (;;) {
    const char* nl = static_cast<const char*>(
        std::memchr(buffer_.data() + pos_ + scanned, '\n', end_ - pos_ - scanned));
    if (nl) {
      stop = static_cast<std::size_t>(nl - buffer_.data());
      return true;
    }
    scanned = end_ - pos_;
    DropOversizedMiddle(scanned);
    if (!Refill()) {
      stop = end_;
      return false;
    }
  }
}

void JsonElementReader::Take(std::size_t stop, std::size_t next, std::string_view& element,
                             std::int64_t& row) {
  std::size_t b = pos_;
  std::size_t e = stop;
  if (e - b > max_element_) {  // it fitted in the buffer but not in the limit
    oversized_ = true;
    e = b + kKeptPrefix;
  }
  while (b < e && IsBlank(buffer_[b])) ++b;
  while (e > b && IsBlank(buffer_[e - 1])) --e;
  element = std::string_view(buffer_.data() + b, e - b);
  pos_ = next;
  row = row_;
  if (oversized_ && problem_.empty()) {
    problem_ = "the element is longer than the row limit of " + std::to_string(max_element_) +
               " bytes (only its start is kept)";
  }
  if (too_deep_ && problem_.empty()) {
    problem_ =
        "the element nests arrays/objects deeper than the limit of " + std::to_string(max_depth_);
  }
  oversized_ = false;
  too_deep_ = false;
}

bool JsonElementReader::NextLine(std::string_view& element, std::int64_t& row) {
  for (;;) {
    if (pos_ == end_ && !Refill()) {
      mode_ = Mode::kDone;
      return false;
    }
    std::size_t stop = 0;
    const bool has_newline = ScanLine(stop);
    ++row_;
    Take(stop, has_newline ? stop + 1 : stop, element, row);
    if (!element.empty()) return true;  // blank lines are skipped but counted
    problem_.clear();
  }
}

bool JsonElementReader::NextArrayElement(std::string_view& element, std::int64_t& row) {
  int commas = 0;
  if (!SkipBlanks(&commas)) {
    mode_ = Mode::kDone;
    problem_ = "the JSON array has no closing ']' (the file ends early)";
    element = {};
    row = ++row_;
    return true;
  }
  if (buffer_[pos_] == ']') {
    ++pos_;
    in_array_ = 0;
    mode_ = Mode::kAfterArray;
    return NextAfterArray(element, row);
  }
  if (arrays_ > 1) {
    problem_ = "element of a second top-level JSON array (after the first one ended)";
  } else if (commas != (in_array_ == 0 ? 0 : 1)) {
    problem_ = commas == 0 ? "no comma before this element" : "an extra comma before this element";
  }
  ++in_array_;
  std::size_t stop = 0;
  const bool complete = ScanValue(stop);
  if (stop == pos_) ++stop;  // a stray '}' where a value should start: one bad element
  if (!complete) {
    mode_ = Mode::kDone;
    problem_ = "the file ends inside this element (the JSON array has no closing ']')";
  }
  ++row_;
  Take(stop, stop, element, row);
  return true;
}

bool JsonElementReader::NextAfterArray(std::string_view& element, std::int64_t& row) {
  if (!SkipBlanks(nullptr)) {
    mode_ = Mode::kDone;
    return false;
  }
  if (buffer_[pos_] == '[') {
    ++pos_;
    ++arrays_;
    mode_ = Mode::kArray;
    return NextArrayElement(element, row);
  }
  std::size_t stop = 0;
  if (buffer_[pos_] == '{') {
    ScanValue(stop);
  } else {
    ScanLine(stop);
  }
  if (stop == pos_) ++stop;  // a stray ']' or '}'
  problem_ = "text after the JSON array's closing ']'";
  ++row_;
  Take(stop, stop, element, row);
  return true;
}

}  // namespace carehub
