#include "schemas/error.h"

namespace carehub {

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput:
      return "invalid input";
    case ErrorKind::kCorruption:
      return "corruption";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kIoError:
      return "I/O error";
    case ErrorKind::kProtocol:
      return "protocol error";
    case ErrorKind::kUnauthorized:
      return "unauthorized";
  }
  return "error";
}

Error::Error(ErrorKind kind, const std::string& message)
    : std::runtime_error(message), kind_(kind) {}

}  // namespace carehub
