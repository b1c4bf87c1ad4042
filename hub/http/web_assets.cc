#include "hub/http/web_assets.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <array>
#include <chrono>
#include <iostream>
#include <utility>

#include "hub/http/router.h"
#include "schemas/embedded.h"

namespace carehub::embedded_web {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_web
namespace carehub::embedded_chartjs {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_chartjs

namespace carehub::http {
namespace {

constexpr std::string_view kVendorPrefix = "vendor/";

std::string_view ContentType(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
  }};
  for (const auto& [suffix, type] : kTypes) {
    if (path.ends_with(suffix)) return type;
  }
  return "application/octet-stream";
}

class WebAssetHandler : public Poco::Net::HTTPRequestHandler {
 public:
  WebAssetHandler(ApiShared& shared, WebAsset asset) : shared_(shared), asset_(asset) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const auto start = std::chrono::steady_clock::now();
    response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(std::string(asset_.content_type));
    response.setContentLength64(static_cast<Poco::Int64>(asset_.content.size()));
    // The pages load scripts, styles and data from the hub only (no inline code at all); they
    // hold no personal data (the console fetches that from the API), so they may be cached
    // if revalidated.
    SetSecurityHeaders(response, /*personal_data=*/false);
    response.set("Cache-Control", "no-cache");
    try {
      if (request.getMethod() == "HEAD") {
        response.send();
      } else {
        response.sendBuffer(asset_.content.data(), asset_.content.size());
      }
    } catch (const std::exception&) {
      // The client went away; nothing to answer.
    }
    if (shared_.options.access_log) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      std::cerr << request.getMethod() << " /" << asset_.path << " 200 " << ms << "ms\n";
    }
  }

 private:
  ApiShared& shared_;
  WebAsset asset_;
};

}  // namespace

std::vector<WebAsset> WebAssets() {
  std::vector<WebAsset> assets;
  for (std::size_t i = 0; i < embedded_web::kFileCount; ++i) {
    const EmbeddedFile& f = embedded_web::kFiles[i];
    assets.push_back({f.path, f.content, ContentType(f.path)});
  }
  // Chart.js keeps its Debian name under vendor/ (the path is stored in a static string).
  static const std::vector<std::string> vendor_paths = [] {
    std::vector<std::string> paths;
    for (std::size_t i = 0; i < embedded_chartjs::kFileCount; ++i) {
      paths.push_back(std::string(kVendorPrefix) + std::string(embedded_chartjs::kFiles[i].path));
    }
    return paths;
  }();
  for (std::size_t i = 0; i < embedded_chartjs::kFileCount; ++i) {
    assets.push_back(
        {vendor_paths[i], embedded_chartjs::kFiles[i].content, ContentType(vendor_paths[i])});
  }
  return assets;
}

std::optional<WebAsset> FindWebAsset(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  std::string_view name = path.substr(1);
  if (name.empty()) name = "index.html";
  static const std::vector<WebAsset> assets = WebAssets();
  for (const WebAsset& asset : assets) {
    if (asset.path == name) return asset;
  }
  return std::nullopt;
}

Poco::Net::HTTPRequestHandler* NewWebAssetHandler(ApiShared& shared, WebAsset asset) {
  return new WebAssetHandler(shared, asset);
}

}  // namespace carehub::http
