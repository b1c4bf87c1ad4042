// The web pages of the hub (web/: HTML, CSS, JS, compiled into the binary) and Chart.js from
// Debian's libjs-chart.js (embedded at build time as /vendor/chart.min.js), served by the HTTP
// server for GET and HEAD of a path that matches no API route: "/" is web/index.html. Nothing is
// fetched from outside the hub; every page answers with a Content-Security-Policy of
// default-src 'self' (no inline scripts or styles). Pages are described in docs/WEB.md.
// Thread-safety: immutable data and a stateless handler.
#pragma once

#include <Poco/Net/HTTPRequestHandler.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carehub::http {

struct ApiShared;

struct WebAsset {
  std::string_view path;  // without the leading slash, e.g. "js/rules.js"
  std::string_view content;
  std::string_view content_type;
};

// The asset served at the URL path `path` ("/", "/rules.html", "/vendor/chart.min.js"), or
// nullopt. The path is matched exactly (no directory walking, no percent-decoding).
std::optional<WebAsset> FindWebAsset(std::string_view path);
// Every asset (for tests).
std::vector<WebAsset> WebAssets();

// Answers one GET/HEAD of an asset with its bytes and the security headers.
Poco::Net::HTTPRequestHandler* NewWebAssetHandler(ApiShared& shared, WebAsset asset);

}  // namespace carehub::http
