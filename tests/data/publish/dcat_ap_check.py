"""Checks a carehub catalog.json as RDF against the DCAT-AP 3.0 mandatory classes and properties.

usage: /usr/bin/python3 dcat_ap_check.py CATALOG.json BASE_URL
Parses the JSON-LD with rdflib (Debian python3-rdflib; the context is inline, no network) and
checks what the SEMIC DCAT-AP 3.0 shapes make mandatory (releases/3.0.0/shacl): a Catalogue
with title, description and one publisher (a foaf:Agent with a name); Datasets and
DatasetSeries with title and description; Distributions with an accessURL IRI; Checksums with
an algorithm IRI and an xsd:hexBinary value. Plus what carehub promises (issue 13): every node
an IRI under BASE_URL (no blank nodes), a licence IRI, IANA media-type IRIs, typed dates and
sizes, the dataset in its series. Prints "ok <triples>" or one violation per line (exit 1).
"""
import sys

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

# DCAT 3 (W3C Recommendation 2024): rdflib 6.1 knows only DCAT 2 terms (no DatasetSeries).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
IANA = "https://www.iana.org/assignments/media-types/"


def main(path, base):
    g = Graph()
    g.parse(path, format="json-ld")
    problems = []

    def need(subject, prop, what, kind=None, datatype=None):
        values = list(g.objects(subject, prop))
        if not values:
            problems.append(f"{subject}: no {what}")
        for v in values:
            if kind == "iri" and not isinstance(v, URIRef):
                problems.append(f"{subject}: {what} is not an IRI: {v!r}")
            if kind == "literal" and not isinstance(v, Literal):
                problems.append(f"{subject}: {what} is not a literal")
            if datatype is not None and getattr(v, "datatype", None) != datatype:
                problems.append(f"{subject}: {what} is not typed {datatype}: {v!r}")
        return values

    for s in set(g.subjects()):
        if isinstance(s, BNode):
            problems.append("blank node: " + str(list(g.predicate_objects(s))[:2]))
        elif not str(s).startswith(base):
            problems.append(f"node outside the base URL: {s}")

    catalogs = list(g.subjects(RDF.type, DCAT.Catalog))
    if len(catalogs) != 1:
        problems.append(f"{len(catalogs)} dcat:Catalog nodes")
    for c in catalogs:
        need(c, DCTERMS.title, "dct:title", "literal")
        need(c, DCTERMS.description, "dct:description", "literal")
        publishers = need(c, DCTERMS.publisher, "dct:publisher", "iri")
        if len(publishers) != 1:
            problems.append(f"{c}: {len(publishers)} publishers")
        for p in publishers:
            if (p, RDF.type, FOAF.Agent) not in g:
                problems.append(f"{p}: publisher is not a foaf:Agent")
            need(p, FOAF.name, "foaf:name", "literal")
        need(c, DCAT.dataset, "dcat:dataset", "iri")
    series = list(g.subjects(RDF.type, DCAT.DatasetSeries))
    datasets = list(g.subjects(RDF.type, DCAT.Dataset))
    if not series or not datasets:
        problems.append(f"{len(series)} series, {len(datasets)} datasets")
    for d in series + datasets:
        need(d, DCTERMS.title, "dct:title", "literal")
        need(d, DCTERMS.description, "dct:description", "literal")
    for d in datasets:
        for s in need(d, DCAT.inSeries, "dcat:inSeries", "iri"):
            if s not in series:
                problems.append(f"{d}: series {s} not described")
        need(d, DCTERMS.issued, "dct:issued", "literal", XSD.date)
        need(d, DCAT.contactPoint, "dcat:contactPoint", "iri")
        for t in need(d, DCTERMS.temporal, "dct:temporal", "iri"):
            need(t, DCAT.startDate, "dcat:startDate", "literal", XSD.date)
        need(d, DCTERMS.spatial, "dct:spatial", "iri")
        need(d, DCAT.distribution, "dcat:distribution", "iri")
    distributions = list(g.subjects(RDF.type, DCAT.Distribution))
    if not distributions:
        problems.append("no dcat:Distribution")
    for d in distributions:
        need(d, DCAT.accessURL, "dcat:accessURL", "iri")
        need(d, DCAT.downloadURL, "dcat:downloadURL", "iri")
        need(d, DCTERMS.license, "dct:license", "iri")
        need(d, DCAT.byteSize, "dcat:byteSize", "literal", XSD.nonNegativeInteger)
        for m in g.objects(d, DCAT.mediaType):
            if not str(m).startswith(IANA):
                problems.append(f"{d}: media type {m} is not an IANA IRI")
        for c in need(d, SPDX.checksum, "spdx:checksum", "iri"):
            if (c, RDF.type, SPDX.Checksum) not in g:
                problems.append(f"{c}: not an spdx:Checksum")
            for a in need(c, SPDX.algorithm, "spdx:algorithm", "iri"):
                if a != SPDX.checksumAlgorithm_sha256:
                    problems.append(f"{c}: algorithm {a}")
            need(c, SPDX.checksumValue, "spdx:checksumValue", "literal", XSD.hexBinary)
    if problems:
        print("\n".join(problems))
        return 1
    print(f"ok {len(g)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
