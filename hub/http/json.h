// JSON shapes of the HTTP API: a stored record (its canonical content, person tokens as hex,
// no local source file/row). Recognised records: RecognizedRecordJson (hub/store/recognitions.h).
// Pure functions; thread-safe.
#pragma once

#include <Poco/JSON/Object.h>

#include <string>

#include "hub/store/recognitions.h"
#include "hub/store/store.h"
#include "mapping/rule_book.h"

namespace carehub::http {

Poco::JSON::Object::Ptr RecordJson(const StoredRecord& stored, const CanonicalRecord& record);
std::string HexOf(const Hmac256& bytes);

}  // namespace carehub::http
