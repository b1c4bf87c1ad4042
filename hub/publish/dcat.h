// The DCAT-AP 3.0 description of a release (catalog.json, JSON-LD with an inline context, so
// no network is needed to read it): the hub's dcat:Catalog, the dcat:DatasetSeries, the release
// as a dcat:Dataset linked to its series (dcat:inSeries) and to the previous release
// (dcat:prev), and one dcat:Distribution per file with absolute accessURL/downloadURL on the
// hub's HTTP API, a licence IRI, an IANA media-type IRI, an spdx:Checksum node and its size.
// Every node has an IRI under the configured base URL. Only terms of DCAT 3, DCTERMS, FOAF,
// vCard, SPDX, SKOS and XSD are used. Pure function; thread-safe.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>
#include <vector>

#include "hub/publish/release_files.h"

namespace carehub {

// The IRIs of a release (base_url without a trailing slash).
std::string DatasetIri(const std::string& base_url, const std::string& release);
std::string FileUrl(const std::string& base_url, const std::string& release,
                    const std::string& path);

// The JSON-LD @context of every catalog document: prefixes dcat, dct, foaf, vcard, spdx, skos,
// xsd, adms (inline, so no network is needed to read a document).
Poco::JSON::Object::Ptr DcatContext();

// catalog.json for a release whose other files are `files`.
std::string RenderDcatCatalog(const ReleaseInfo& info, const std::vector<PublishedTable>& tables,
                              const ReleaseFileMap& files);

}  // namespace carehub
