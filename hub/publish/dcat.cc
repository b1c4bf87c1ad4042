#include "hub/publish/dcat.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "hub/publish/hub_catalog.h"
#include "hub/publish/json_ld.h"
#include "hub/publish/regions.h"

namespace carehub {
namespace {

using json_ld::NewObject;
using json_ld::Node;
using json_ld::Ref;
using json_ld::Text;
using json_ld::Typed;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr const char* kIanaMediaTypes = "https://www.iana.org/assignments/media-types/";
constexpr const char* kEuFileTypes = "http://publications.europa.eu/resource/authority/file-type/";

}  // namespace

Object::Ptr DcatContext() {
  Object::Ptr context = NewObject();
  context->set("dcat", "http://www.w3.org/ns/dcat#");
  context->set("dct", "http://purl.org/dc/terms/");
  context->set("foaf", "http://xmlns.com/foaf/0.1/");
  context->set("vcard", "http://www.w3.org/2006/vcard/ns#");
  context->set("spdx", "http://spdx.org/rdf/terms#");
  context->set("skos", "http://www.w3.org/2004/02/skos/core#");
  context->set("xsd", "http://www.w3.org/2001/XMLSchema#");
  context->set("adms", "http://www.w3.org/ns/adms#");
  return context;
}

namespace {

std::string HubTitle(const ReleaseInfo& info) {
  return "carehub open elderly-care statistics, hub " + info.hub_region +
         (info.origin ? ", records of origin " + *info.origin : "");
}

Object::Ptr CatalogNode(const ReleaseInfo& info, const std::string& publisher) {
  Object::Ptr node = Node(HubCatalogIri(info.base_url), "dcat:Catalog");
  node->set("dct:title", Text("carehub hub " + info.hub_region + " open data", "en"));
  node->set("dct:description",
            Text("Open research tables of elderly-care records held by carehub hub " +
                     info.hub_region + ", with person-level differential privacy.",
                 "en"));
  node->set("dct:publisher", Ref(publisher));
  node->set("foaf:homepage", Ref(info.base_url + "/"));
  Array::Ptr datasets = new Array;
  datasets->add(Ref(SeriesIri(info.base_url, info.series)));
  datasets->add(Ref(DatasetIri(info.base_url, info.release)));
  node->set("dcat:dataset", datasets);
  return node;
}

Object::Ptr PublisherNode(const ReleaseInfo& info, const std::string& iri) {
  Object::Ptr node = Node(iri, "foaf:Agent");
  node->set("foaf:name",
            "Civil affairs department of region " + info.hub_region + " (carehub hub)");
  return node;
}

Object::Ptr ContactNode(const ReleaseInfo& info, const std::string& iri) {
  Object::Ptr node = Node(iri, "vcard:Organization");
  node->set("vcard:fn", "Open data desk, carehub hub " + info.hub_region);
  if (info.contact.find(':') != std::string::npos) {
    node->set(info.contact.starts_with("mailto:") ? "vcard:hasEmail" : "vcard:hasURL",
              Ref(info.contact));
  }
  return node;
}

Object::Ptr SeriesNode(const ReleaseInfo& info, const std::string& publisher,
                       const std::string& contact) {
  Object::Ptr node = Node(SeriesIri(info.base_url, info.series), "dcat:DatasetSeries");
  node->set("dct:title", Text(HubTitle(info) + ", series " + info.series, "en"));
  node->set("dct:description",
            Text("Successive releases of the same research tables. The series has a total "
                 "privacy-loss budget of rho = " +
                     RhoText(info.slot.budget.budget_micro) +
                     " (zero-concentrated differential privacy); every release spends from it.",
                 "en"));
  node->set("dct:publisher", Ref(publisher));
  node->set("dcat:contactPoint", Ref(contact));
  return node;
}

std::string PrivacyStatement(const ReleaseInfo& info) {
  return "Person-level zero-concentrated differential privacy: discrete Gaussian noise (Canonne, "
         "Kamath and Steinke 2020) on every cell and group total, each person contributing to a "
         "bounded number of cells; rho = " +
         RhoText(info.rho_micro) + " for this release; series budget " +
         RhoText(info.slot.budget.budget_micro) + ", spent " +
         RhoText(info.slot.budget.spent_micro) + ", remaining " +
         RhoText(info.slot.budget.remaining_micro()) +
         ". No cell is hidden; counts are non-negative integers whose cells add up to their "
         "group totals. Per-table noise parameters and 95% margins of error: codebook.json.";
}

// Each table with what it counts and the expected error of a cell (95% margin, 1.96 sigma).
std::string TablesStatement(const std::vector<PublishedTable>& tables) {
  std::string text = "Research tables: ";
  for (const PublishedTable& table : tables) {
    char margin[32];
    std::snprintf(margin, sizeof margin, "%.1f", 1.959964 * table.noise.SigmaCells());
    text += table.input.spec->title + " (" + table.input.spec->unit +
            "; 95% margin of error of a cell +-" + margin + "); ";
  }
  return text;
}

// First and last day covered by any table with a period.
std::pair<Date, Date> Coverage(const std::vector<PublishedTable>& tables) {
  Date first = Date::max();
  Date last = Date::min();
  for (const PublishedTable& table : tables) {
    if (table.input.spec->period == PeriodKind::kNone) continue;
    for (const TableGroup& group : table.input.groups) {
      first = std::min(first, group.first_day);
      last = std::max(last, group.last_day);
    }
  }
  return {first, last};
}

Object::Ptr DatasetNode(const ReleaseInfo& info, const std::vector<PublishedTable>& tables,
                        const ReleaseFileMap& files, const std::string& publisher,
                        const std::string& contact, Array& graph) {
  const std::string iri = DatasetIri(info.base_url, info.release);
  Object::Ptr node = Node(iri, "dcat:Dataset");
  node->set("dct:title", Text(HubTitle(info) + ", release " + std::to_string(info.slot.seq) + " (" +
                                  info.release + ")",
                              "en"));
  node->set("dct:description", Text(TablesStatement(tables) + PrivacyStatement(info), "en"));
  node->set("dct:identifier", info.release);
  node->set("dcat:version", std::to_string(info.slot.seq));
  node->set("dcat:inSeries", Ref(SeriesIri(info.base_url, info.series)));
  if (info.slot.previous_release) {
    node->set("dcat:prev", Ref(DatasetIri(info.base_url, *info.slot.previous_release)));
  }
  node->set("dct:issued", Typed(FormatIsoDate(info.slot.issued), "xsd:date"));
  node->set("dct:modified", Typed(FormatIsoDate(info.slot.issued), "xsd:date"));
  node->set("dct:publisher", Ref(publisher));
  node->set("dcat:contactPoint", Ref(contact));
  node->set("dcat:landingPage", Ref(iri));
  node->set("dct:accessRights",
            Ref("http://publications.europa.eu/resource/authority/access-right/PUBLIC"));
  node->set("dcat:theme", Ref("http://publications.europa.eu/resource/authority/data-theme/SOCI"));
  Array::Ptr keywords = new Array;
  for (const char* k : {"elderly care", "care-needs assessment", "caregivers", "care facilities",
                        "sanctions", "differential privacy"}) {
    keywords->add(Text(k, "en"));
  }
  node->set("dcat:keyword", keywords);
  const auto [first, last] = Coverage(tables);
  if (first <= last) {
    Object::Ptr period = Node(iri + "#temporal", "dct:PeriodOfTime");
    period->set("dcat:startDate", Typed(FormatIsoDate(first), "xsd:date"));
    period->set("dcat:endDate", Typed(FormatIsoDate(last), "xsd:date"));
    graph.add(period);
    node->set("dct:temporal", Ref(iri + "#temporal"));
  }
  Array::Ptr spatial = new Array;
  for (const RegionName& region : ProvinceDomain()) {
    if (region.code == "other") continue;
    const std::string region_iri = RegionIri(info.base_url, region.code);
    Object::Ptr location = Node(region_iri, "dct:Location");
    Array::Ptr labels = new Array;
    labels->add(Text(region.zh, "zh"));
    labels->add(Text(region.en, "en"));
    location->set("skos:prefLabel", labels);
    location->set("skos:notation", region.code);
    graph.add(location);
    spatial->add(Ref(region_iri));
  }
  node->set("dct:spatial", spatial);
  Array::Ptr distributions = new Array;
  for (const auto& [path, file] : files) distributions->add(Ref(iri + "#" + path));
  node->set("dcat:distribution", distributions);
  return node;
}

Object::Ptr DistributionNode(const ReleaseInfo& info, const std::string& path,
                             const ReleaseFile& file, const std::string& sha256) {
  const std::string dataset = DatasetIri(info.base_url, info.release);
  Object::Ptr node = Node(dataset + "#" + path, "dcat:Distribution");
  node->set("dct:title", Text(file.title, "en"));
  node->set("dcat:accessURL", Ref(dataset));
  node->set("dcat:downloadURL", Ref(FileUrl(info.base_url, info.release, path)));
  if (file.format == "Avro") {
    // No IANA media type or EU file type is registered for Avro: say what it conforms to.
    node->set("dct:conformsTo", Ref("https://avro.apache.org/docs/1.11.1/specification/"));
  } else {
    node->set("dcat:mediaType", Ref(kIanaMediaTypes + file.media_type));
    node->set("dct:format", Ref(kEuFileTypes + file.format));
  }
  node->set("dct:license", Ref(info.licence));
  node->set("dct:issued", Typed(FormatIsoDate(info.slot.issued), "xsd:date"));
  node->set("dcat:byteSize", Typed(std::to_string(file.bytes.size()), "xsd:nonNegativeInteger"));
  Object::Ptr checksum = Node(dataset + "#" + path + "-sha256", "spdx:Checksum");
  checksum->set("spdx:algorithm", Ref("spdx:checksumAlgorithm_sha256"));
  checksum->set("spdx:checksumValue", Typed(sha256, "xsd:hexBinary"));
  node->set("spdx:checksum", checksum);
  return node;
}

}  // namespace

std::string DatasetIri(const std::string& base_url, const std::string& release) {
  return base_url + "/v1/datasets/" + release;
}

std::string FileUrl(const std::string& base_url, const std::string& release,
                    const std::string& path) {
  return DatasetIri(base_url, release) + "/files/" + path;
}

std::string RenderDcatCatalog(const ReleaseInfo& info, const std::vector<PublishedTable>& tables,
                              const ReleaseFileMap& files) {
  const std::string publisher = PublisherIri(info.base_url);
  const std::string contact = ContactIri(info.base_url);
  Array::Ptr graph = new Array;
  graph->add(CatalogNode(info, publisher));
  graph->add(PublisherNode(info, publisher));
  graph->add(ContactNode(info, contact));
  graph->add(SeriesNode(info, publisher, contact));
  graph->add(DatasetNode(info, tables, files, publisher, contact, *graph));
  for (const auto& [path, file] : files) {
    graph->add(DistributionNode(info, path, file, Sha256Hex(file.bytes)));
  }
  Object document(Poco::JSON_PRESERVE_KEY_ORDER);
  document.set("@context", DcatContext());
  document.set("@graph", graph);
  std::ostringstream text;
  document.stringify(text, 2);
  return text.str() + "\n";
}

}  // namespace carehub
