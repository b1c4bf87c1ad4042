// Issue 12, TLS on the HTTP API (Poco NetSSL/OpenSSL): a throw-away CA made here with the openssl
// CLI signs a server and a client certificate; HTTPS answers a client that trusts the CA, a
// plain-HTTP client gets nothing, and with a client CA a client without a certificate is refused
// at the handshake while one with a certificate signed by the CA is served.
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <fstream>

#include "hub/http/server.h"
#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA
// (P-256 keys: fast under the sanitizers).
struct Pki {
  testing::TempDir tmp;
  fs::path ca = tmp / "ca.pem";
  fs::path server_cert = tmp / "server.pem";
  fs::path server_key = tmp / "server.key";
  fs::path client_cert = tmp / "client.pem";
  fs::path client_key = tmp / "client.key";

  Pki() {
    const std::string dir = tmp.path().string();
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(tmp / "san.ext") << "subjectAltName=IP:127.0.0.1\n";
    const std::string script =
        "cd " + dir + " && openssl req -x509 " + key +
        " -keyout ca.key -out ca.pem -days 2 -subj /CN=carehub-test-ca && "
        "openssl req " +
        key +
        " -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile san.ext && "
        "openssl req " +
        key +
        " -keyout client.key -out client.csr -subj /CN=department && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out client.pem -days 2";
    std::string out;
    const int status = testing::RunCommand("(" + script + ") 2>&1", &out);
    EXPECT_EQ(status, 0) << out;
  }
};

Poco::Net::Context::Ptr ClientContext(const Pki& pki, bool with_certificate) {
  Poco::Net::initializeSSL();
  Poco::Net::Context::Params params;
  params.caLocation = pki.ca.string();
  params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
  params.loadDefaultCAs = false;
  if (with_certificate) {
    params.certificateFile = pki.client_cert.string();
    params.privateKeyFile = pki.client_key.string();
  }
  return new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
}

// Status of GET /health over HTTPS, or 0 when the connection or handshake failed.
int HttpsHealth(std::uint16_t port, Poco::Net::Context::Ptr context) {
  try {
    Poco::Net::HTTPSClientSession session("127.0.0.1", port, context);
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string body;
    Poco::StreamCopier::copyToString(in, body);
    return static_cast<int>(response.getStatus());
  } catch (const Poco::Exception&) {
    return 0;
  }
}

int PlainHealth(std::uint16_t port) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request("GET", "/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    return static_cast<int>(response.getStatus());
  } catch (const Poco::Exception&) {
    return 0;
  }
}

class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new Pki;
    hub_ = new testing::TempDir;
    Store::Init(hub_->path() / "hub", InitOptions{"sh", std::nullopt, {}});
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete hub_;
  }
  static Pki* pki_;
  static testing::TempDir* hub_;
};
Pki* HttpTlsTest::pki_ = nullptr;
testing::TempDir* HttpTlsTest::hub_ = nullptr;

TEST_F(HttpTlsTest, ServesHttpsWithTheGivenCertificate) {
  HttpOptions options;
  options.tls_cert = pki_->server_cert;
  options.tls_key = pki_->server_key;
  HttpApi api(hub_->path() / "hub", options);
  api.Start("127.0.0.1", 0);
  EXPECT_EQ(HttpsHealth(api.port(), ClientContext(*pki_, false)), 200);
  EXPECT_EQ(PlainHealth(api.port()), 0) << "plain HTTP on the TLS port must get no answer";
}

TEST_F(HttpTlsTest, ClientCaRequiresAClientCertificate) {
  HttpOptions options;
  options.tls_cert = pki_->server_cert;
  options.tls_key = pki_->server_key;
  options.tls_client_ca = pki_->ca;
  HttpApi api(hub_->path() / "hub", options);
  api.Start("127.0.0.1", 0);
  EXPECT_EQ(HttpsHealth(api.port(), ClientContext(*pki_, false)), 0);
  EXPECT_EQ(HttpsHealth(api.port(), ClientContext(*pki_, true)), 200);
}

TEST_F(HttpTlsTest, MissingOrMismatchedFilesAreClearErrors) {
  HttpOptions options;
  options.tls_cert = pki_->server_cert;
  options.tls_key = pki_->tmp / "absent.key";
  HttpApi api(hub_->path() / "hub", options);
  try {
    api.Start("127.0.0.1", 0);
    ADD_FAILURE() << "started without its key";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("absent.key"), std::string::npos) << e.what();
  }
  // The CLI: a certificate without its key.
  std::string out;
  EXPECT_NE(testing::RunCommand(testing::CarehubBinary() + " http --dir " +
                                    (hub_->path() / "hub").string() + " --tls-cert " +
                                    pki_->server_cert.string() + " 2>&1",
                                &out),
            0);
  EXPECT_NE(out.find("--tls-cert and --tls-key go together"), std::string::npos) << out;
}

}  // namespace
}  // namespace carehub
