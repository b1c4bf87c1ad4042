// carehub::Error — the one exception tree of carehub (see shared/style.md §2).
// Thrown for failures that end an operation; expected outcomes (a rejected row, a missing
// record) are values instead. Every library throws only this type (or lets a Poco/zmq
// exception through at a boundary that maps it). Messages never contain personal data.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace carehub {

enum class ErrorKind { kInvalidInput, kCorruption, kNotFound, kIoError, kProtocol, kUnauthorized };

std::string_view ErrorKindName(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message);

  static Error InvalidInput(const std::string& message) {
    return {ErrorKind::kInvalidInput, message};
  }
  static Error Corruption(const std::string& message) { return {ErrorKind::kCorruption, message}; }
  static Error NotFound(const std::string& message) { return {ErrorKind::kNotFound, message}; }
  static Error IoError(const std::string& message) { return {ErrorKind::kIoError, message}; }
  static Error Protocol(const std::string& message) { return {ErrorKind::kProtocol, message}; }
  static Error Unauthorized(const std::string& message) {
    return {ErrorKind::kUnauthorized, message};
  }

  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace carehub
