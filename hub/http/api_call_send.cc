// How an ApiCall answers (router.h): JSON, bytes or a file, each with its status and length.
#include <Poco/JSON/Stringifier.h>
#include <Poco/StreamCopier.h>

#include <fstream>
#include <sstream>

#include "hub/http/router.h"

namespace carehub::http {

using Poco::Net::HTTPResponse;

void ApiCall::SendJson(int status, const Poco::Dynamic::Var& json) {
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(json, out);
  const std::string body = out.str();
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/json");
  response.setContentLength64(static_cast<Poco::Int64>(body.size()));
  response.sendBuffer(body.data(), body.size());
}

void ApiCall::SendBytes(int status, const std::string& content_type, const std::string& bytes) {
  response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
  response.setContentType(content_type);
  response.setContentLength64(static_cast<Poco::Int64>(bytes.size()));
  response.sendBuffer(bytes.data(), bytes.size());
}

void ApiCall::SendFile(const std::filesystem::path& path, const std::string& content_type) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!in || ec) throw HttpError::NotFound("file is missing on the server");
  response.setStatusAndReason(HTTPResponse::HTTP_OK);
  response.setContentType(content_type);
  response.setContentLength64(static_cast<Poco::Int64>(size));
  std::ostream& out = response.send();
  Poco::StreamCopier::copyStream64(in, out);
}

}  // namespace carehub::http
