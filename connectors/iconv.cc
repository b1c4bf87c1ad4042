#include "connectors/iconv.h"

#include <errno.h>
#include <iconv.h>

#include "schemas/error.h"

namespace carehub {

void Iconv::Closer::operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }

Iconv::Iconv(const std::string& from_encoding) : from_(from_encoding) {
  iconv_t cd = iconv_open("UTF-8", from_encoding.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    throw Error::InvalidInput("unknown text encoding \"" + from_encoding + "\"");
  }
  cd_.reset(cd);
}

Iconv::Result Iconv::Convert(std::string_view in, std::string& out) {
  iconv_t cd = static_cast<iconv_t>(cd_.get());
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // initial shift state
  char* src = const_cast<char*>(in.data());       // iconv's signature; it does not write
  std::size_t src_left = in.size();
  Result result;
  while (src_left > 0) {
    const std::size_t start = out.size();
    const std::size_t room = src_left * 4 + 16;  // a byte becomes at most 4 UTF-8 bytes
    out.resize(start + room);
    char* dst = out.data() + start;
    std::size_t dst_left = room;
    const std::size_t rc = iconv(cd, &src, &src_left, &dst, &dst_left);
    const int err = errno;
    out.resize(out.size() - dst_left);
    if (rc != static_cast<std::size_t>(-1)) break;
    if (err == E2BIG) continue;
    result.consumed = in.size() - src_left;
    result.stop = err == EINVAL ? Stop::kIncomplete : Stop::kInvalid;
    return result;
  }
  result.consumed = in.size();
  return result;
}

}  // namespace carehub
