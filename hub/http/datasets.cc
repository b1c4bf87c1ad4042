// Handlers of the open-data routes: the releases `carehub publish` registered in this hub
// (table published_releases), their DCAT catalog and their files. Public: researchers and
// anonymous callers see only these. A file is served only when the release's catalog lists it.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hub/http/router.h"

namespace carehub::http {
namespace {

namespace fs = std::filesystem;
using Poco::Dynamic::Var;

struct Release {
  std::string id;
  fs::path path;
};

std::optional<Release> FindRelease(Store& store, const std::string& id) {
  sqlite::Statement stmt(store.db(),
                         "SELECT release, path FROM published_releases WHERE release = ?");
  stmt.Bind(1, id);
  if (!stmt.Step()) return std::nullopt;
  return Release{stmt.ColumnText(0), fs::path(stmt.ColumnText(1))};
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HttpError::NotFound("release files are missing on the server");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Poco::JSON::Object::Ptr ParseCatalog(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error::Corruption("catalog.json does not parse: " + e.displayText());
  }
}

}  // namespace

void HandleDatasetList(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"datasets"});
  const std::string after = DecodeCursor(call.Query("cursor"), digest).value_or("");
  sqlite::Statement stmt(call.hub.store.db(),
                         "SELECT release, path, catalog_sha256 FROM published_releases WHERE "
                         "release > ? ORDER BY release LIMIT ?");
  stmt.Bind(1, after).Bind(2, limit + 1);
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  std::string last;
  bool more = false;
  while (stmt.Step()) {
    if (static_cast<int>(items->size()) == limit) {
      more = true;
      break;
    }
    last = stmt.ColumnText(0);
    Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    item->set("id", last);
    const fs::path catalog = fs::path(stmt.ColumnText(1)) / "catalog.json";
    std::error_code ec;
    if (fs::exists(catalog, ec)) {
      const auto json = ParseCatalog(ReadFile(catalog));
      item->set("title", json->optValue<std::string>("title", ""));
      item->set("temporal", json->get("temporal"));
      item->set("distributions", json->getArray("distribution")
                                     ? static_cast<int>(json->getArray("distribution")->size())
                                     : 0);
    }
    item->set("catalog_sha256", stmt.ColumnText(2));
    item->set("url", "/v1/datasets/" + last);
    items->add(item);
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("items", items);
  json.set("next_cursor", more ? Var(EncodeCursor(last, digest)) : Var());
  call.SendJson(200, json);
}

void HandleDatasetGet(ApiCall& call) {
  call.AllowQuery({});
  call.Negotiate({MediaType::kJson});
  const auto release = FindRelease(call.hub.store, call.Param("dataset_id"));
  if (!release) throw HttpError::NotFound("no published dataset " + call.Param("dataset_id"));
  // Served byte for byte: its SHA-256 is the one registered at publication.
  call.SendBytes(200, "application/json", ReadFile(release->path / "catalog.json"));
}

void HandleDatasetFile(ApiCall& call) {
  call.AllowQuery({});
  const auto release = FindRelease(call.hub.store, call.Param("dataset_id"));
  if (!release) throw HttpError::NotFound("no published dataset " + call.Param("dataset_id"));
  const std::string& name = call.Param("name");
  const auto catalog = ParseCatalog(ReadFile(release->path / "catalog.json"));
  const auto distributions = catalog->getArray("distribution");
  if (distributions) {
    for (std::size_t i = 0; i < distributions->size(); ++i) {
      const auto d = distributions->getObject(static_cast<unsigned>(i));
      if (!d || d->optValue<std::string>("downloadURL", "") != name) continue;
      call.SendFile(release->path / name,
                    d->optValue<std::string>("mediaType", "application/octet-stream"));
      return;
    }
  }
  throw HttpError::NotFound("dataset " + release->id + " has no file " + name);
}

}  // namespace carehub::http
