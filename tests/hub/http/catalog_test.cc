// The hub's one DCAT-AP catalog (issue 13): GET /v1/catalog lists every series and release, and
// every IRI in it that points at the hub resolves there: nodes to a JSON-LD document holding
// them, download URLs to the file with the listed checksum. A release made with cell suppression
// before differential privacy (no series) is listed as withdrawn and its files are gone (410).
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "connectors/connector.h"
#include "connectors/generator.h"
#include "hub/http/server.h"
#include "hub/publish/publish.h"
#include "hub/store/ingest.h"
#include "hub/store/published_files.h"
#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using Poco::JSON::Array;
using Poco::JSON::Object;

struct Reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

Reply Get(std::uint16_t port, const std::string& target) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  Poco::Net::HTTPRequest request("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("Accept", "application/ld+json, */*");
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply{static_cast<int>(response.getStatus()), response.getContentType(), ""};
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

void Ingest(Store& store, const std::string& profile, std::int64_t rows, std::uint64_t seed,
            const fs::path& file) {
  ConnectorEngine engine(EngineOptionsFor(store));
  GeneratorOptions options;
  options.rows = rows;
  options.seed = seed;
  Generator(engine.FindProfile(profile), options).Write(file.string());
  Ingester ingester(store, engine);
  IngestOptions ingest;
  ingest.profile = profile;
  ingester.IngestFile(file.string(), ingest);
}

// Every typed node of a document (embedded ones too) by @id, and every @id value referenced.
void Walk(const Object::Ptr& node, std::map<std::string, Object::Ptr>& nodes,
          std::set<std::string>& refs) {
  if (node->has("@id")) {
    refs.insert(node->getValue<std::string>("@id"));
    if (node->has("@type")) nodes[node->getValue<std::string>("@id")] = node;
  }
  for (const auto& [key, value] : *node) {
    if (value.type() == typeid(Object::Ptr)) Walk(value.extract<Object::Ptr>(), nodes, refs);
    if (value.type() != typeid(Array::Ptr)) continue;
    const auto array = value.extract<Array::Ptr>();
    for (std::size_t i = 0; i < array->size(); ++i) {
      if (const auto item = array->getObject(static_cast<unsigned>(i))) Walk(item, nodes, refs);
    }
  }
}

std::map<std::string, Object::Ptr> NodesOf(const std::string& json_ld,
                                           std::set<std::string>& refs) {
  Poco::JSON::Parser parser;
  const auto document = parser.parse(json_ld).extract<Object::Ptr>();
  std::map<std::string, Object::Ptr> nodes;
  const auto graph = document->getArray("@graph");
  for (std::size_t i = 0; graph && i < graph->size(); ++i) {
    Walk(graph->getObject(static_cast<unsigned>(i)), nodes, refs);
  }
  return nodes;
}

std::string IdOf(const Object::Ptr& node, const std::string& key) {
  return node->getObject(key)->getValue<std::string>("@id");
}

// One hub per test process: Shanghai assessments, a release registered the way the hub made them
// before differential privacy, then two releases of one series (caregivers ingested between).
struct Env {
  testing::TempDir tmp;
  fs::path hub = tmp / "hub";
  std::unique_ptr<HttpApi> api;
  std::string base;
  std::string first;
  std::string second;

  Env() {
    Store store = Store::Init(hub, InitOptions{"sh", std::nullopt, {}});
    Ingest(store, "shanghai/assessment", 120, 31, tmp / "a.csv");
    HttpOptions options;
    options.max_threads = 4;
    api = std::make_unique<HttpApi>(hub, options);
    api->Start("127.0.0.1", 0);
    base = "http://127.0.0.1:" + std::to_string(api->port());
    RegisterSuppressedRelease(store);
    PublishOptions publish;
    publish.out_dir = tmp / "open";
    publish.base_url = base;
    first = Publish(store, publish, 1796515200000).release;
    Ingest(store, "shanghai/caregiver", 40, 32, tmp / "c.csv");
    second = Publish(store, publish, 1796601600000).release;
  }

  // Files registered, no series: what migration 8 left of the releases made before it.
  void RegisterSuppressedRelease(Store& store) {
    const fs::path dir = tmp / "open" / "2024q4";
    fs::create_directories(dir);
    const std::string csv = "prefecture,level,count\r\n310115,3,<10\r\n";
    std::ofstream(dir / "levels.csv", std::ios::binary) << csv;
    std::ofstream(dir / "catalog.json") << "{}";
    sqlite::Statement insert(store.db(),
                             "INSERT INTO published_releases(release, path, catalog_sha256, "
                             "published_at) VALUES('2024q4', ?, ?, 1735603200000)");
    insert.Bind(1, dir.string()).Bind(2, Sha256HexOf("{}"));
    insert.Step();
    RecordPublishedFiles(store.db(), "2024q4", {{"levels.csv", csv}});
  }
};

class CatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = new Env; }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  std::uint16_t port() const { return env_->api->port(); }
  static Env* env_;
  const std::string& base_ = env_->base;
  const std::string& first_ = env_->first;
  const std::string& second_ = env_->second;
};
Env* CatalogTest::env_ = nullptr;

// Every IRI of the catalog under the base URL answers: a node's IRI with a JSON-LD document that
// holds the node, a download URL with the file whose SHA-256 the catalog lists.
TEST_F(CatalogTest, EveryIriOfTheHubCatalogResolvesOnTheHub) {
  const Reply catalog = Get(port(), "/v1/catalog");
  ASSERT_EQ(catalog.status, 200) << catalog.body;
  EXPECT_EQ(catalog.content_type, "application/ld+json");
  std::set<std::string> refs;
  const auto nodes = NodesOf(catalog.body, refs);
  std::map<std::string, std::string> downloads;  // url -> sha256
  for (const auto& [id, node] : nodes) {
    if (node->getValue<std::string>("@type") != "dcat:Distribution") continue;
    const auto checksum = node->getObject("spdx:checksum")->getObject("spdx:checksumValue");
    downloads[IdOf(node, "dcat:downloadURL")] = checksum->getValue<std::string>("@value");
  }
  EXPECT_EQ(downloads.size(), 2u * 13u);  // two releases of 13 files besides catalog.json
  int resolved_nodes = 0;
  for (const std::string& iri : refs) {
    if (!iri.starts_with(base_)) continue;
    const std::string target = iri.substr(base_.size(), iri.find('#') - base_.size());
    const Reply reply = Get(port(), target.empty() ? "/" : target);
    ASSERT_EQ(reply.status, 200) << iri;
    if (downloads.count(iri)) {
      EXPECT_EQ(Sha256HexOf(reply.body), downloads[iri]) << iri;
      EXPECT_NE(reply.content_type.find(iri.ends_with(".csv") ? "text/csv" : ""),
                std::string::npos);
    } else if (nodes.count(iri)) {
      ASSERT_EQ(reply.content_type, "application/ld+json") << iri;
      std::set<std::string> ignored;
      EXPECT_TRUE(NodesOf(reply.body, ignored).count(iri)) << "no node " << iri << " at " << target;
      ++resolved_nodes;
    }
  }
  EXPECT_GT(resolved_nodes, 30);
  for (const auto& [url, sha] : downloads) EXPECT_TRUE(refs.count(url)) << url;
}

// One catalog, one series with both releases in order; the second points to the first.
TEST_F(CatalogTest, CatalogListsTheSeriesAndEveryReleaseLinkedInOrder) {
  std::set<std::string> refs;
  const auto nodes = NodesOf(Get(port(), "/v1/catalog").body, refs);
  const std::string series = base_ + "/v1/datasets/series/hub-310000";
  const std::string first = base_ + "/v1/datasets/" + first_;
  const std::string second = base_ + "/v1/datasets/" + second_;
  ASSERT_TRUE(nodes.count(base_ + "/v1/catalog"));
  const auto catalog = nodes.at(base_ + "/v1/catalog");
  EXPECT_EQ(catalog->getValue<std::string>("@type"), "dcat:Catalog");
  std::set<std::string> listed;
  const auto datasets = catalog->getArray("dcat:dataset");
  for (std::size_t i = 0; i < datasets->size(); ++i) {
    listed.insert(datasets->getObject(static_cast<unsigned>(i))->getValue<std::string>("@id"));
  }
  EXPECT_EQ(listed, (std::set<std::string>{series, first, second, base_ + "/v1/datasets/2024q4"}));
  ASSERT_TRUE(nodes.count(series));
  EXPECT_EQ(nodes.at(series)->getValue<std::string>("@type"), "dcat:DatasetSeries");
  EXPECT_EQ(IdOf(nodes.at(series), "dcat:first"), first);
  EXPECT_EQ(IdOf(nodes.at(series), "dcat:last"), second);
  EXPECT_EQ(nodes.at(series)->getArray("dcat:seriesMember")->size(), 2u);
  EXPECT_EQ(IdOf(nodes.at(second), "dcat:prev"), first);
  EXPECT_EQ(IdOf(nodes.at(second), "dcat:inSeries"), series);
  EXPECT_FALSE(nodes.at(first)->has("dcat:prev"));
  EXPECT_EQ(Get(port(), "/v1/datasets/series/nope").status, 404);
}

// The release made with cell suppression is withdrawn: listed as such, no distributions, its
// IRI gives the withdrawal notice, its files 410; the dataset list says so.
TEST_F(CatalogTest, SuppressionReleaseIsWithdrawnNotPresentedAsProtected) {
  std::set<std::string> refs;
  const auto nodes = NodesOf(Get(port(), "/v1/catalog").body, refs);
  const std::string old = base_ + "/v1/datasets/2024q4";
  ASSERT_TRUE(nodes.count(old));
  const auto node = nodes.at(old);
  EXPECT_EQ(IdOf(node, "adms:status"),
            "http://publications.europa.eu/resource/authority/dataset-status/WITHDRAWN");
  EXPECT_FALSE(node->has("dcat:distribution"));
  EXPECT_EQ(IdOf(node, "dct:publisher"), base_ + "/v1/catalog#publisher");
  const std::string description =
      node->getObject("dct:description")->getValue<std::string>("@value");
  EXPECT_NE(description.find("cell suppression"), std::string::npos);
  EXPECT_EQ(description.find("differential privacy:"), std::string::npos);
  EXPECT_EQ(node->getArray("dct:isReplacedBy")->getObject(0)->getValue<std::string>("@id"),
            base_ + "/v1/datasets/series/hub-310000");
  const Reply notice = Get(port(), "/v1/datasets/2024q4");
  ASSERT_EQ(notice.status, 200);
  EXPECT_EQ(notice.content_type, "application/ld+json");
  EXPECT_NE(notice.body.find("WITHDRAWN"), std::string::npos);
  const Reply file = Get(port(), "/v1/datasets/2024q4/files/levels.csv");
  EXPECT_EQ(file.status, 410);
  EXPECT_EQ(file.body.find("<10"), std::string::npos);
  const Reply list = Get(port(), "/v1/datasets");
  ASSERT_EQ(list.status, 200);
  Poco::JSON::Parser parser;
  const auto items = parser.parse(list.body).extract<Object::Ptr>()->getArray("items");
  std::map<std::string, std::string> status;
  for (std::size_t i = 0; i < items->size(); ++i) {
    const auto item = items->getObject(static_cast<unsigned>(i));
    status[item->getValue<std::string>("id")] = item->getValue<std::string>("status");
  }
  EXPECT_EQ(status["2024q4"], "withdrawn");
  EXPECT_EQ(status[first_], "current");
}

}  // namespace
}  // namespace carehub
