// JSON shapes of the HTTP API: a stored record (its canonical content, person tokens as hex,
// no local source file/row) and a recognised record (the shape of `carehub recognize --json`).
// Pure functions; thread-safe.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "hub/recognitions.h"
#include "hub/store.h"
#include "mapping/rule_book.h"

namespace carehub::http {

Poco::JSON::Object::Ptr RecordJson(const StoredRecord& stored, const CanonicalRecord& record);
Poco::JSON::Object::Ptr RecognizedJson(const RecognizedRecord& item, const mapping::RuleBook& book);
std::string HexOf(const Hmac256& bytes);

}  // namespace carehub::http
