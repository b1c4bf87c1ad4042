// Handlers of the open-data routes: the releases `carehub publish` registered in this hub
// (table published_releases), the hub's DCAT-AP catalog of all of them, each series and each
// release's catalog (JSON-LD, served as application/ld+json) and their files. Releases made
// with cell suppression before differential privacy (no series) are withdrawn: their IRI gives
// a withdrawal notice and their files 410 (hub/publish/hub_catalog.h). Public: researchers and
// anonymous callers see only these. A file is served only when publication recorded it
// (table published_files) and its bytes still have the recorded SHA-256; it is opened inside the
// release folder one path component at a time without following symlinks, and never when it is
// one of the hub's database files (docs/STORE.md: one descriptor per database file).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "hub/http/router.h"
#include "hub/publish/hub_catalog.h"
#include "hub/store/published_files.h"

namespace carehub::http {
namespace {

namespace fs = std::filesystem;
using Poco::Dynamic::Var;

struct Release {
  std::string id;
  fs::path path;
  std::optional<std::string> series;  // nullopt: made with cell suppression (withdrawn)
};

std::optional<Release> FindRelease(Store& store, const std::string& id) {
  sqlite::Statement stmt(store.db(),
                         "SELECT release, path, series FROM published_releases WHERE release = ?");
  stmt.Bind(1, id);
  if (!stmt.Step()) return std::nullopt;
  return Release{stmt.ColumnText(0), fs::path(stmt.ColumnText(1)), stmt.ColumnOptionalText(2)};
}

// A file descriptor closed at scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// "a/b.csv" -> {"a", "b.csv"}; nullopt for absolute names, empty parts, ".", ".." or NUL.
std::optional<std::vector<std::string>> RelativeParts(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  if (name.empty() || name.front() == '/' || name.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  while (start <= name.size()) {
    const std::size_t slash = std::min(name.find('/', start), name.size());
    std::string part = name.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    parts.push_back(std::move(part));
    start = slash + 1;
  }
  return parts;
}

// True when `st` is the hub's database, WAL or SHM file (compared by stat, which opens nothing).
bool IsDatabaseFile(const struct stat& st, const fs::path& hub_dir) {
  for (const char* name : {"carehub.db", "carehub.db-wal", "carehub.db-shm"}) {
    struct stat db {};
    if (::stat((hub_dir / name).c_str(), &db) == 0 && db.st_dev == st.st_dev &&
        db.st_ino == st.st_ino) {
      return true;
    }
  }
  return false;
}

// The bytes of `expected` inside `release_dir`, or nullopt (logged without the path's content)
// when it cannot be reached without leaving the folder or following a symlink, is not a regular
// file, is a database file, or no longer has its recorded size and SHA-256.
std::optional<std::string> ReadReleaseFile(const fs::path& release_dir,
                                           const PublishedFile& expected, const fs::path& hub_dir) {
  const auto parts = RelativeParts(expected.name);
  if (!parts) return std::nullopt;
  Fd dir(::open(release_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  for (std::size_t i = 0; dir.get() >= 0 && i + 1 < parts->size(); ++i) {
    dir = Fd(
        ::openat(dir.get(), (*parts)[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (dir.get() < 0) return std::nullopt;
  struct stat before {};
  if (::fstatat(dir.get(), parts->back().c_str(), &before, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(before.st_mode) || before.st_size != expected.bytes ||
      IsDatabaseFile(before, hub_dir)) {
    return std::nullopt;
  }
  Fd file(::openat(dir.get(), parts->back().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat after {};
  if (file.get() < 0 || ::fstat(file.get(), &after) != 0 || after.st_ino != before.st_ino ||
      after.st_dev != before.st_dev) {
    return std::nullopt;
  }
  std::string bytes(static_cast<std::size_t>(expected.bytes), '\0');
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(file.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    done += static_cast<std::size_t>(n);
  }
  if (Sha256HexOf(bytes) != expected.sha256) {
    std::cerr << "carehub http: a published file no longer has its recorded SHA-256; not served\n";
    return std::nullopt;
  }
  return bytes;
}

// The release's catalog.json, checked against the SHA-256 registered at publication.
std::optional<std::string> ReadCatalog(Store& store, const Release& release) {
  sqlite::Statement stmt(store.db(),
                         "SELECT catalog_sha256 FROM published_releases WHERE release = ?");
  stmt.Bind(1, release.id);
  if (!stmt.Step()) return std::nullopt;
  PublishedFile catalog{"catalog.json", stmt.ColumnText(0), 0};
  struct stat st {};
  if (::lstat((release.path / "catalog.json").c_str(), &st) != 0) return std::nullopt;
  catalog.bytes = st.st_size;
  return ReadReleaseFile(release.path, catalog, store.dir());
}

std::string MediaTypeOf(const std::string& name) {
  const auto ends = [&name](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".csv")) return "text/csv; charset=utf-8";
  if (ends(".avro")) return "application/avro";
  if (ends(".json") || ends(".avsc")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

Poco::JSON::Object::Ptr ParseCatalog(const std::string& text) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error::Corruption("catalog.json does not parse: " + e.displayText());
  }
}

// The dcat:Dataset node of a release catalog (nullptr when absent).
Poco::JSON::Object::Ptr DatasetNode(const Poco::JSON::Object::Ptr& catalog) {
  const auto graph = catalog->getArray("@graph");
  if (!graph) return nullptr;
  for (std::size_t i = 0; i < graph->size(); ++i) {
    const auto node = graph->getObject(static_cast<unsigned>(i));
    if (node && node->optValue<std::string>("@type", "") == "dcat:Dataset") return node;
  }
  return nullptr;
}

// A literal of a JSON-LD node: a plain value or the @value of a typed or language literal.
std::string LiteralOf(const Poco::JSON::Object::Ptr& node, const std::string& key) {
  if (!node || !node->has(key)) return "";
  const Var value = node->get(key);
  if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
    return value.extract<Poco::JSON::Object::Ptr>()->optValue<std::string>("@value", "");
  }
  return value.convert<std::string>();
}

// Every release in publication order, with its catalog when it is a current (DP) release whose
// catalog.json still has its registered SHA-256.
std::vector<PublishedRelease> LoadReleases(Store& store) {
  sqlite::Statement stmt(store.db(),
                         "SELECT release, path, series, published_at FROM published_releases "
                         "ORDER BY published_at, release");
  std::vector<PublishedRelease> out;
  while (stmt.Step()) {
    PublishedRelease release{stmt.ColumnText(0), stmt.ColumnOptionalText(2), stmt.ColumnInt64(3),
                             std::nullopt};
    if (release.series) {
      release.catalog_json = ReadCatalog(
          store, Release{release.release, fs::path(stmt.ColumnText(1)), release.series});
    }
    out.push_back(std::move(release));
  }
  return out;
}

// The base URL the releases were published with, else this request's host.
std::string BaseUrl(const ApiCall& call, const std::vector<PublishedRelease>& releases) {
  const auto published = CatalogBaseUrl(releases);
  if (published) return *published;
  return "http://" +
         (call.request.getHost().empty() ? std::string("localhost") : call.request.getHost());
}

// JSON-LD is JSON: application/ld+json, application/json, */* or no Accept are answered.
void NegotiateJsonLd(ApiCall& call) {
  const bool wants_json_ld =
      call.request.has("Accept") &&
      call.request.get("Accept").find("application/ld+json") != std::string::npos;
  if (!wants_json_ld) call.Negotiate({MediaType::kJson});
}

}  // namespace

void HandleDatasetList(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"datasets"});
  const std::string after = DecodeCursor(call.Query("cursor"), digest).value_or("");
  sqlite::Statement stmt(call.hub.store.db(),
                         "SELECT release, path, catalog_sha256, series FROM published_releases "
                         "WHERE release > ? ORDER BY release LIMIT ?");
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
    const auto series = stmt.ColumnOptionalText(3);
    item->set("series", series ? Var(*series) : Var());
    item->set("status", series ? "current" : "withdrawn");
    const auto catalog =
        ReadCatalog(call.hub.store, Release{last, fs::path(stmt.ColumnText(1)), series});
    if (catalog) {
      const auto dataset = DatasetNode(ParseCatalog(*catalog));
      item->set("title", LiteralOf(dataset, "dct:title"));
      item->set("issued", LiteralOf(dataset, "dct:issued"));
      const auto distributions = dataset ? dataset->getArray("dcat:distribution") : nullptr;
      item->set("distributions", distributions ? static_cast<int>(distributions->size()) : 0);
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
  NegotiateJsonLd(call);
  const auto release = FindRelease(call.hub.store, call.Param("dataset_id"));
  if (!release) throw HttpError::NotFound("no published dataset " + call.Param("dataset_id"));
  if (!release->series) {  // made with cell suppression: only its withdrawal notice
    const auto releases = LoadReleases(call.hub.store);
    const auto self = std::find_if(releases.begin(), releases.end(),
                                   [&](const auto& r) { return r.release == release->id; });
    call.SendBytes(
        200, "application/ld+json",
        RenderWithdrawnRelease(BaseUrl(call, releases), call.shared.region, *self, releases));
    return;
  }
  // Served byte for byte: its SHA-256 is the one registered at publication.
  const auto catalog = ReadCatalog(call.hub.store, *release);
  if (!catalog) throw HttpError::NotFound("the catalog of " + release->id + " is not available");
  call.SendBytes(200, "application/ld+json", *catalog);
}

void HandleDatasetFile(ApiCall& call) {
  call.AllowQuery({});
  const auto release = FindRelease(call.hub.store, call.Param("dataset_id"));
  if (!release) throw HttpError::NotFound("no published dataset " + call.Param("dataset_id"));
  if (!release->series) {
    throw HttpError(410, "withdrawn",
                    "release " + release->id +
                        " was made with cell suppression, before differential privacy, and is "
                        "withdrawn: see /v1/catalog for the current releases");
  }
  const std::string& name = call.Param("name");
  const auto recorded = FindPublishedFile(call.hub.store.db(), release->id, name);
  const auto bytes =
      recorded ? ReadReleaseFile(release->path, *recorded, call.hub.store.dir()) : std::nullopt;
  if (!bytes) throw HttpError::NotFound("dataset " + release->id + " has no file " + name);
  call.SendBytes(200, MediaTypeOf(name), *bytes);
}

}  // namespace carehub::http

namespace carehub::http {

void HandleCatalog(ApiCall& call) {
  call.AllowQuery({});
  NegotiateJsonLd(call);
  const auto releases = LoadReleases(call.hub.store);
  call.SendBytes(200, "application/ld+json",
                 RenderHubCatalog(BaseUrl(call, releases), call.shared.region, releases));
}

void HandleSeriesGet(ApiCall& call) {
  call.AllowQuery({});
  NegotiateJsonLd(call);
  const auto releases = LoadReleases(call.hub.store);
  const auto document = RenderSeriesDocument(BaseUrl(call, releases), call.shared.region,
                                             call.Param("series"), releases);
  if (!document) throw HttpError::NotFound("no dataset series " + call.Param("series"));
  call.SendBytes(200, "application/ld+json", *document);
}

}  // namespace carehub::http
