#include "hub/publish/hub_catalog.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <map>
#include <sstream>

#include "hub/publish/dcat.h"
#include "hub/publish/json_ld.h"
#include "schemas/record.h"

namespace carehub {
namespace {

using json_ld::NewObject;
using json_ld::Node;
using json_ld::Ref;
using json_ld::Text;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kWithdrawn =
    "http://publications.europa.eu/resource/authority/dataset-status/WITHDRAWN";

std::string Document(const Array::Ptr& graph) {
  Object document(Poco::JSON_PRESERVE_KEY_ORDER);
  document.set("@context", DcatContext());
  document.set("@graph", graph);
  std::ostringstream text;
  document.stringify(text, 2);
  return text.str() + "\n";
}

// The @graph of a release catalog, or nullptr when it does not parse.
Array::Ptr GraphOf(const std::optional<std::string>& catalog_json) {
  if (!catalog_json) return nullptr;
  try {
    Poco::JSON::Parser parser;
    const auto document = parser.parse(*catalog_json).extract<Object::Ptr>();
    return document ? document->getArray("@graph") : nullptr;
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

// Nodes by @id in first-seen order; a later node with the same @id replaces the earlier one.
class NodeSet {
 public:
  void Put(const Object::Ptr& node) {
    const std::string id = node->optValue<std::string>("@id", "");
    if (id.empty()) return;
    if (!nodes_.count(id)) order_.push_back(id);
    nodes_[id] = node;
  }
  Object::Ptr Find(const std::string& id) const {
    const auto it = nodes_.find(id);
    return it == nodes_.end() ? nullptr : it->second;
  }
  void AppendTo(Array& graph) const {
    for (const std::string& id : order_) graph.add(nodes_.at(id));
  }

 private:
  std::vector<std::string> order_;
  std::map<std::string, Object::Ptr> nodes_;
};

bool IsCurrent(const PublishedRelease& release) {
  return release.series.has_value() && GraphOf(release.catalog_json) != nullptr;
}

// Series in order of their first release, each with its releases in publication order.
std::vector<std::pair<std::string, std::vector<std::string>>> SeriesMembers(
    const std::vector<PublishedRelease>& releases) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const PublishedRelease& release : releases) {
    if (!IsCurrent(release)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const auto& entry) { return entry.first == *release.series; });
    if (it == out.end()) it = out.insert(out.end(), {*release.series, {}});
    it->second.push_back(release.release);
  }
  return out;
}

Object::Ptr DefaultPublisher(const std::string& base_url, const std::string& hub_region) {
  Object::Ptr node = Node(PublisherIri(base_url), "foaf:Agent");
  node->set("foaf:name", "Civil affairs department of region " + hub_region + " (carehub hub)");
  return node;
}

// Every node of the current releases' catalogs (their own dcat:Catalog aside), merged; each
// series node links its members.
NodeSet MergeReleases(const std::string& base_url, const std::string& hub_region,
                      const std::vector<PublishedRelease>& releases) {
  NodeSet nodes;
  nodes.Put(DefaultPublisher(base_url, hub_region));
  for (const PublishedRelease& release : releases) {
    if (!release.series) continue;
    const Array::Ptr graph = GraphOf(release.catalog_json);
    for (std::size_t i = 0; graph && i < graph->size(); ++i) {
      const Object::Ptr node = graph->getObject(static_cast<unsigned>(i));
      if (node && node->optValue<std::string>("@type", "") != "dcat:Catalog") nodes.Put(node);
    }
  }
  for (const auto& [series, members] : SeriesMembers(releases)) {
    Object::Ptr node = nodes.Find(SeriesIri(base_url, series));
    if (!node) continue;
    node->set("dcat:first", Ref(DatasetIri(base_url, members.front())));
    node->set("dcat:last", Ref(DatasetIri(base_url, members.back())));
    Array::Ptr refs = new Array;
    for (const std::string& member : members) refs->add(Ref(DatasetIri(base_url, member)));
    node->set("dcat:seriesMember", refs);
  }
  return nodes;
}

Object::Ptr WithdrawnNode(const std::string& base_url, const std::string& hub_region,
                          const PublishedRelease& release,
                          const std::vector<PublishedRelease>& releases) {
  Object::Ptr node = Node(DatasetIri(base_url, release.release), "dcat:Dataset");
  node->set("dct:title", Text("carehub hub " + hub_region + " open data, release " +
                              release.release + " (withdrawn)"));
  node->set("dct:description",
            Text("Made with cell suppression, before this hub published with differential "
                 "privacy. Suppression did not protect the persons counted: the hidden counts "
                 "of two releases could be recovered exactly by subtraction. Withdrawn: its "
                 "files are no longer served (HTTP 410). Use the differentially private "
                 "releases of this hub's series instead."));
  node->set("dct:identifier", release.release);
  node->set("adms:status", Ref(kWithdrawn));
  const auto day =
      std::chrono::floor<std::chrono::days>(std::chrono::sys_time<std::chrono::milliseconds>(
          std::chrono::milliseconds(release.published_at_ms)));
  Object::Ptr issued = NewObject();
  issued->set("@value", FormatIsoDate(Date(day)));
  issued->set("@type", "xsd:date");
  node->set("dct:issued", issued);
  node->set("dct:publisher", Ref(PublisherIri(base_url)));
  Array::Ptr replaced_by = new Array;
  for (const auto& entry : SeriesMembers(releases)) {
    replaced_by->add(Ref(SeriesIri(base_url, entry.first)));
  }
  if (replaced_by->size() > 0) node->set("dct:isReplacedBy", replaced_by);
  return node;
}

}  // namespace

std::string HubCatalogIri(const std::string& base_url) { return base_url + "/v1/catalog"; }
std::string PublisherIri(const std::string& base_url) {
  return HubCatalogIri(base_url) + "#publisher";
}
std::string ContactIri(const std::string& base_url) { return HubCatalogIri(base_url) + "#contact"; }
std::string SeriesIri(const std::string& base_url, const std::string& series) {
  return base_url + "/v1/datasets/series/" + series;
}
std::string RegionIri(const std::string& base_url, const std::string& code) {
  return HubCatalogIri(base_url) + "#region-" + code;
}

std::optional<std::string> CatalogBaseUrl(const std::vector<PublishedRelease>& releases) {
  for (auto it = releases.rbegin(); it != releases.rend(); ++it) {
    if (!it->series) continue;
    const Array::Ptr graph = GraphOf(it->catalog_json);
    for (std::size_t i = 0; graph && i < graph->size(); ++i) {
      const Object::Ptr node = graph->getObject(static_cast<unsigned>(i));
      if (!node || node->optValue<std::string>("@type", "") != "dcat:Catalog") continue;
      const std::string id = node->optValue<std::string>("@id", "");
      for (const std::string suffix : {"/v1/catalog", "/v1/datasets"}) {
        if (id.size() > suffix.size() && id.ends_with(suffix)) {
          return id.substr(0, id.size() - suffix.size());
        }
      }
    }
  }
  return std::nullopt;
}

std::string RenderHubCatalog(const std::string& base_url, const std::string& hub_region,
                             const std::vector<PublishedRelease>& releases) {
  Object::Ptr catalog = Node(HubCatalogIri(base_url), "dcat:Catalog");
  catalog->set("dct:title", Text("carehub hub " + hub_region + " open data"));
  catalog->set("dct:description",
               Text("Every open research-table release of carehub hub " + hub_region +
                    ": series of releases with person-level differential privacy, each release "
                    "linked to its series and to the previous release; releases made earlier "
                    "with cell suppression are listed as withdrawn."));
  catalog->set("dct:publisher", Ref(PublisherIri(base_url)));
  catalog->set("foaf:homepage", Ref(base_url + "/"));
  Array::Ptr datasets = new Array;
  for (const auto& entry : SeriesMembers(releases)) {
    datasets->add(Ref(SeriesIri(base_url, entry.first)));
  }
  Array::Ptr graph = new Array;
  graph->add(catalog);
  MergeReleases(base_url, hub_region, releases).AppendTo(*graph);
  for (const PublishedRelease& release : releases) {
    if (IsCurrent(release)) {
      datasets->add(Ref(DatasetIri(base_url, release.release)));
    } else if (!release.series) {
      datasets->add(Ref(DatasetIri(base_url, release.release)));
      graph->add(WithdrawnNode(base_url, hub_region, release, releases));
    }
  }
  catalog->set("dcat:dataset", datasets);
  return Document(graph);
}

std::optional<std::string> RenderSeriesDocument(const std::string& base_url,
                                                const std::string& hub_region,
                                                const std::string& series,
                                                const std::vector<PublishedRelease>& releases) {
  const Object::Ptr node =
      MergeReleases(base_url, hub_region, releases).Find(SeriesIri(base_url, series));
  if (!node) return std::nullopt;
  Array::Ptr graph = new Array;
  graph->add(node);
  return Document(graph);
}

std::string RenderWithdrawnRelease(const std::string& base_url, const std::string& hub_region,
                                   const PublishedRelease& release,
                                   const std::vector<PublishedRelease>& releases) {
  Array::Ptr graph = new Array;
  graph->add(WithdrawnNode(base_url, hub_region, release, releases));
  return Document(graph);
}

}  // namespace carehub
