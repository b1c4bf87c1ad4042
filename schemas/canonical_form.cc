// Parsing Canonical Form and CRC-64-AVRO, exactly as the Avro specification defines them
// ("Parsing Canonical Form for Schemas", "Schema Fingerprints"); Java's
// SchemaNormalization.parsingFingerprint64 is the reference the tests compare against.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <array>
#include <set>

#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

const std::set<std::string> kPrimitives = {"null",  "boolean", "int",   "long",
                                           "float", "double",  "bytes", "string"};

class CanonicalWriter {
 public:
  std::string Write(const Poco::Dynamic::Var& schema) {
    Emit(schema, "");
    return out_;
  }

 private:
  static std::string FullName(const std::string& name, const std::string& space) {
    if (name.find('.') != std::string::npos || space.empty()) return name;
    return space + "." + name;
  }

  static std::string Quote(const std::string& text) {
    std::string quoted;
    quoted.reserve(text.size() + 2);
    quoted.push_back('"');
    quoted.append(text);
    quoted.push_back('"');
    return quoted;
  }

  void EmitNameRef(const std::string& name, const std::string& space) {
    if (kPrimitives.count(name)) {
      out_ += Quote(name);
    } else {
      out_ += Quote(FullName(name, space));
    }
  }

  void Emit(const Poco::Dynamic::Var& schema, const std::string& space) {
    if (schema.isString()) return EmitNameRef(schema.extract<std::string>(), space);
    if (schema.type() == typeid(Poco::JSON::Array::Ptr)) {
      auto branches = schema.extract<Poco::JSON::Array::Ptr>();
      out_ += "[";
      for (std::size_t i = 0; i < branches->size(); ++i) {
        if (i > 0) out_ += ",";
        Emit(branches->get(i), space);
      }
      out_ += "]";
      return;
    }
    if (schema.type() != typeid(Poco::JSON::Object::Ptr)) {
      throw Error::InvalidInput("schema: expected a string, array or object");
    }
    auto object = schema.extract<Poco::JSON::Object::Ptr>();
    if (!object->has("type")) throw Error::InvalidInput("schema: object without \"type\"");
    Poco::Dynamic::Var type_var = object->get("type");
    if (!type_var.isString()) return Emit(type_var, space);  // {"type": {...}} or {"type": [...]}
    const std::string type = type_var.extract<std::string>();
    if (kPrimitives.count(type)) {  // PRIMITIVES + STRIP (logicalType etc. dropped)
      out_ += Quote(type);
      return;
    }
    if (type == "record" || type == "error" || type == "enum" || type == "fixed") {
      const std::string name = object->getValue<std::string>("name");
      const std::string own_space =
          name.find('.') != std::string::npos
              ? name.substr(0, name.rfind('.'))
              : (object->has("namespace") ? object->getValue<std::string>("namespace") : space);
      const std::string full = FullName(name, own_space);
      if (!seen_.insert(full).second) {
        out_ += Quote(full);
        return;
      }
      out_ += "{\"name\":" + Quote(full) + ",\"type\":" + Quote(type);
      if (type == "enum") {
        auto symbols = object->getArray("symbols");
        out_ += ",\"symbols\":[";
        for (std::size_t i = 0; i < symbols->size(); ++i) {
          if (i > 0) out_ += ",";
          out_ += Quote(symbols->getElement<std::string>(i));
        }
        out_ += "]";
      } else if (type == "fixed") {
        out_ += ",\"size\":" + std::to_string(object->getValue<long long>("size"));
      } else {
        auto fields = object->getArray("fields");
        out_ += ",\"fields\":[";
        for (std::size_t i = 0; i < fields->size(); ++i) {
          if (i > 0) out_ += ",";
          auto field = fields->getObject(i);
          out_ += "{\"name\":" + Quote(field->getValue<std::string>("name")) + ",\"type\":";
          Emit(field->get("type"), own_space);
          out_ += "}";
        }
        out_ += "]";
      }
      out_ += "}";
      return;
    }
    if (type == "array") {
      out_ += "{\"type\":\"array\",\"items\":";
      Emit(object->get("items"), space);
      out_ += "}";
      return;
    }
    if (type == "map") {
      out_ += "{\"type\":\"map\",\"values\":";
      Emit(object->get("values"), space);
      out_ += "}";
      return;
    }
    EmitNameRef(type, space);  // {"type": "carehub.v1.OrgRef"}: a reference to a named type
  }

  std::string out_;
  std::set<std::string> seen_;
};

std::array<std::uint64_t, 256> MakeCrcTable() {
  constexpr std::uint64_t kEmpty = 0xc15d213aa4d7a795ULL;
  std::array<std::uint64_t, 256> table{};
  for (std::uint64_t i = 0; i < 256; ++i) {
    std::uint64_t fp = i;
    for (int j = 0; j < 8; ++j) fp = (fp >> 1) ^ (kEmpty & (0 - (fp & 1)));
    table[i] = fp;
  }
  return table;
}

}  // namespace

std::string ParsingCanonicalForm(std::string_view schema_json) {
  Poco::Dynamic::Var parsed;
  try {
    // Poco's parser wants an object or array at the top; a bare name ("int") is wrapped.
    std::string wrapped;  // built by append: GCC 12 -O3 misreports operator+ (-Wrestrict)
    wrapped.reserve(schema_json.size() + 2);
    wrapped.append("[").append(schema_json).append("]");
    parsed = Poco::JSON::Parser().parse(wrapped);
    parsed = parsed.extract<Poco::JSON::Array::Ptr>()->get(0);
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput("schema is not JSON: " + e.displayText());
  }
  try {
    return CanonicalWriter().Write(parsed);
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput("schema: " + e.displayText());
  }
}

std::uint64_t Crc64Avro(std::string_view bytes) {
  static const auto kTable = MakeCrcTable();
  std::uint64_t fp = 0xc15d213aa4d7a795ULL;
  for (unsigned char byte : bytes) fp = (fp >> 8) ^ kTable[(fp ^ byte) & 0xff];
  return fp;
}

}  // namespace carehub
