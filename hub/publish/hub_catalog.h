// The hub's one DCAT-AP 3.0 catalog of every release it published (GET /v1/catalog), and the
// documents its other IRIs resolve to: a series (GET /v1/datasets/series/{series}) and a
// withdrawn release (GET /v1/datasets/{id} of a release made before differential privacy).
// Built from the releases' own catalog.json (each holds its dataset, distributions, series,
// publisher, contact point and regions): their nodes are merged by @id, the newest release's
// version of a shared node (series budget, publisher) wins, and one dcat:Catalog lists every
// series and release. Series get dcat:first, dcat:last and dcat:seriesMember.
// Releases made with cell suppression before differential privacy (no series) are not
// protected (two of them could be subtracted): they are listed as withdrawn
// (adms:status WITHDRAWN, no distribution, dct:isReplacedBy the hub's series) and their files
// are no longer served (docs/DATASETS.md, "Old releases").
// Pure functions over their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carehub {

struct PublishedRelease {
  std::string release;
  // nullopt: made before differential privacy, with cell suppression (withdrawn).
  std::optional<std::string> series;
  std::int64_t published_at_ms = 0;
  // Its catalog.json, checked against the SHA-256 registered at publication (DP releases);
  // nullopt when it cannot be read (the release is then left out).
  std::optional<std::string> catalog_json;
};

// The IRI of the hub catalog, its publisher and its contact point under `base_url`.
std::string HubCatalogIri(const std::string& base_url);
std::string PublisherIri(const std::string& base_url);
std::string ContactIri(const std::string& base_url);
std::string SeriesIri(const std::string& base_url, const std::string& series);
std::string RegionIri(const std::string& base_url, const std::string& code);

// The base URL the newest readable DP release was published with (its catalog's IRI without
// "/v1/catalog"), or nullopt.
std::optional<std::string> CatalogBaseUrl(const std::vector<PublishedRelease>& releases);

// The hub catalog, JSON-LD (application/ld+json). `releases` in publication order.
std::string RenderHubCatalog(const std::string& base_url, const std::string& hub_region,
                             const std::vector<PublishedRelease>& releases);
// The document of one series (its node with its members); nullopt for an unknown series.
std::optional<std::string> RenderSeriesDocument(const std::string& base_url,
                                                const std::string& hub_region,
                                                const std::string& series,
                                                const std::vector<PublishedRelease>& releases);
// The document of a withdrawn release (its node only).
std::string RenderWithdrawnRelease(const std::string& base_url, const std::string& hub_region,
                                   const PublishedRelease& release,
                                   const std::vector<PublishedRelease>& releases);

}  // namespace carehub
