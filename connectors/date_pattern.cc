#include "connectors/date_pattern.h"

#include <chrono>

#include "schemas/error.h"

namespace carehub {

DatePattern::DatePattern(std::string_view pattern) : pattern_(pattern) {
  int years = 0, months = 0, days = 0;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern.substr(i, 4) == "YYYY") {
      parts_.push_back({Token::kYear, {}});
      ++years;
      i += 4;
    } else if (pattern.substr(i, 2) == "MM") {
      parts_.push_back({Token::kMonth2, {}});
      ++months;
      i += 2;
    } else if (pattern.substr(i, 2) == "DD") {
      parts_.push_back({Token::kDay2, {}});
      ++days;
      i += 2;
    } else if (pattern[i] == 'M') {
      parts_.push_back({Token::kMonth, {}});
      ++months;
      ++i;
    } else if (pattern[i] == 'D') {
      parts_.push_back({Token::kDay, {}});
      ++days;
      ++i;
    } else {
      if (parts_.empty() || parts_.back().token != Token::kLiteral) {
        parts_.push_back({Token::kLiteral, {}});
      }
      parts_.back().literal.push_back(pattern[i]);
      ++i;
    }
  }
  if (years != 1 || months != 1 || days != 1) {
    throw Error::InvalidInput("date pattern \"" + pattern_ + "\" needs one YYYY, MM and DD");
  }
}

std::optional<Date> DatePattern::Parse(std::string_view text) const {
  int year = 0;
  unsigned month = 0, day = 0;
  std::size_t i = 0;
  auto digits = [&](std::size_t min, std::size_t max, int& out) {
    std::size_t n = 0;
    out = 0;
    while (n < max && i < text.size() && text[i] >= '0' && text[i] <= '9') {
      out = out * 10 + (text[i] - '0');
      ++i;
      ++n;
    }
    return n >= min;
  };
  for (const Part& part : parts_) {
    int v = 0;
    switch (part.token) {
      case Token::kYear:
        if (!digits(4, 4, v)) return std::nullopt;
        year = v;
        break;
      case Token::kMonth2:
      case Token::kMonth:
        if (!digits(part.token == Token::kMonth ? 1 : 2, 2, v)) return std::nullopt;
        month = static_cast<unsigned>(v);
        break;
      case Token::kDay2:
      case Token::kDay:
        if (!digits(part.token == Token::kDay ? 1 : 2, 2, v)) return std::nullopt;
        day = static_cast<unsigned>(v);
        break;
      case Token::kLiteral:
        if (text.substr(i, part.literal.size()) != part.literal) return std::nullopt;
        i += part.literal.size();
        break;
    }
  }
  if (i != text.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                  std::chrono::day{day}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::string DatePattern::Format(Date date) const {
  std::chrono::year_month_day ymd{date};
  int y = static_cast<int>(ymd.year());
  unsigned m = static_cast<unsigned>(ymd.month());
  unsigned d = static_cast<unsigned>(ymd.day());
  std::string out;
  auto two = [&out](unsigned v, bool pad) {
    if (pad || v >= 10) out.push_back(static_cast<char>('0' + v / 10));
    out.push_back(static_cast<char>('0' + v % 10));
  };
  for (const Part& part : parts_) {
    switch (part.token) {
      case Token::kYear:
        out.push_back(static_cast<char>('0' + (y / 1000) % 10));
        out.push_back(static_cast<char>('0' + (y / 100) % 10));
        out.push_back(static_cast<char>('0' + (y / 10) % 10));
        out.push_back(static_cast<char>('0' + y % 10));
        break;
      case Token::kMonth2:
        two(m, true);
        break;
      case Token::kMonth:
        two(m, false);
        break;
      case Token::kDay2:
        two(d, true);
        break;
      case Token::kDay:
        two(d, false);
        break;
      case Token::kLiteral:
        out += part.literal;
        break;
    }
  }
  return out;
}

}  // namespace carehub
