// JSON-LD node builders shared by the release metadata (dcat.cc) and the hub catalog
// (hub_catalog.cc): objects keep their key order so the same input gives the same bytes.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

namespace carehub::json_ld {

inline Poco::JSON::Object::Ptr NewObject() {
  return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
}

// {"@id": iri}: a reference to a node described elsewhere.
inline Poco::JSON::Object::Ptr Ref(const std::string& iri) {
  Poco::JSON::Object::Ptr ref = NewObject();
  ref->set("@id", iri);
  return ref;
}

// A typed literal, e.g. an xsd:date.
inline Poco::JSON::Object::Ptr Typed(const std::string& value, const std::string& type) {
  Poco::JSON::Object::Ptr literal = NewObject();
  literal->set("@value", value);
  literal->set("@type", type);
  return literal;
}

// A language-tagged string.
inline Poco::JSON::Object::Ptr Text(const std::string& value, const std::string& language = "en") {
  Poco::JSON::Object::Ptr literal = NewObject();
  literal->set("@value", value);
  literal->set("@language", language);
  return literal;
}

// A node with its IRI and class.
inline Poco::JSON::Object::Ptr Node(const std::string& iri, const std::string& type) {
  Poco::JSON::Object::Ptr node = NewObject();
  node->set("@id", iri);
  node->set("@type", type);
  return node;
}

}  // namespace carehub::json_ld
