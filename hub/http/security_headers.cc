// The security headers every answer carries (router.h SetSecurityHeaders), pages and API alike.
#include <Poco/Net/HTTPServerResponse.h>

#include "hub/http/router.h"

namespace carehub::http {

// On every answer: no MIME sniffing; a Content-Security-Policy allowing only this origin's own
// scripts, styles and images (the web pages at / have no inline script or style) and no framing;
// no referrer. Answers that may hold personal data (every non-public route) are never cached.
void SetSecurityHeaders(Poco::Net::HTTPServerResponse& response, bool personal_data) {
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy",
               "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'");
  response.set("Referrer-Policy", "no-referrer");
  response.set("X-Frame-Options", "DENY");
  if (personal_data) response.set("Cache-Control", "no-store");
}

}  // namespace carehub::http
