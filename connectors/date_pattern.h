// Date patterns of region profiles ("YYYY-MM-DD", "DD/MM/YYYY", "YYYYMMDD", "YYYY年M月D日"):
// compiled once per field, then parsed and formatted without allocation. Immutable, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

class DatePattern {
 public:
  // YYYY four digits, MM/DD exactly two digits, M/D one or two digits, anything else literal.
  // Throws Error::InvalidInput for a pattern without exactly one year, month and day.
  explicit DatePattern(std::string_view pattern);

  // nullopt when `text` does not match or is not a real calendar day.
  std::optional<Date> Parse(std::string_view text) const;
  std::string Format(Date date) const;
  const std::string& pattern() const { return pattern_; }

 private:
  enum class Token { kYear, kMonth2, kDay2, kMonth, kDay, kLiteral };
  struct Part {
    Token token;
    std::string literal;
  };
  std::string pattern_;
  std::vector<Part> parts_;
};

}  // namespace carehub
