// The one wrapper around glibc iconv (iconv_open / iconv / iconv_close): converts text from a
// named encoding ("BIG5-HKSCS", "GBK", "UTF-16LE", ...) to UTF-8 with glibc's own tables, so
// carehub carries no hand-made code tables. An Iconv owns one conversion state: not thread-safe,
// one per thread; moving is fine, copying is not.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace carehub {

class Iconv {
 public:
  // Throws Error::InvalidInput naming `from_encoding` when glibc does not know it.
  explicit Iconv(const std::string& from_encoding);

  enum class Stop { kDone, kInvalid, kIncomplete };
  struct Result {
    std::size_t consumed = 0;  // bytes of `in` converted (all of them when kDone)
    Stop stop = Stop::kDone;   // kInvalid: in[consumed] starts an invalid sequence;
                               // kIncomplete: in ends inside a sequence
  };
  // Appends the UTF-8 form of `in` to `out`, stopping at the first sequence it cannot convert.
  // Each call starts from the initial shift state.
  Result Convert(std::string_view in, std::string& out);
  const std::string& from() const { return from_; }

 private:
  struct Closer {
    void operator()(void* cd) const;
  };
  std::string from_;
  std::unique_ptr<void, Closer> cd_;
};

}  // namespace carehub
