#include "schemas/avro_handle.h"

#include "schemas/error.h"

namespace carehub::avro {

void Check(int rc, const char* what) {
  if (rc != 0) throw Error::Corruption(std::string(what) + ": " + avro_strerror());
}

Schema Schema::FromJson(std::string_view json) {
  avro_schema_t schema = nullptr;
  avro_schema_error_t error = nullptr;
  if (avro_schema_from_json_length(json.data(), json.size(), &schema) != 0) {
    (void)error;
    throw Error::InvalidInput(std::string("not an Avro schema: ") + avro_strerror());
  }
  return Schema(schema);
}

Schema& Schema::operator=(Schema&& other) noexcept {
  if (this != &other) {
    Reset();
    schema_ = other.schema_;
    other.schema_ = nullptr;
  }
  return *this;
}

void Schema::Reset() {
  if (schema_ != nullptr) avro_schema_decref(schema_);
  schema_ = nullptr;
}

ValueIface ValueIface::Generic(const Schema& schema) {
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema.get());
  if (iface == nullptr) throw Error::InvalidInput(std::string("avro class: ") + avro_strerror());
  return ValueIface(iface);
}

ValueIface ValueIface::ResolvedWriter(const Schema& writer, const Schema& reader) {
  avro_value_iface_t* iface = avro_resolved_writer_new(writer.get(), reader.get());
  if (iface == nullptr) {
    throw Error::InvalidInput(std::string("schemas do not resolve: ") + avro_strerror());
  }
  return ValueIface(iface);
}

ValueIface& ValueIface::operator=(ValueIface&& other) noexcept {
  if (this != &other) {
    Reset();
    iface_ = other.iface_;
    other.iface_ = nullptr;
  }
  return *this;
}

void ValueIface::Reset() {
  if (iface_ != nullptr) avro_value_iface_decref(iface_);
  iface_ = nullptr;
}

Value::Value(const ValueIface& iface) {
  Check(avro_generic_value_new(iface.get(), &value_), "avro value");
  owned_ = true;
}

Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    Reset();
    value_ = other.value_;
    owned_ = other.owned_;
    other.owned_ = false;
  }
  return *this;
}

void Value::Reset() {
  if (owned_) avro_value_decref(&value_);
  owned_ = false;
}

MemoryWriter::MemoryWriter(char* buffer, std::size_t size)
    : writer_(avro_writer_memory(buffer, static_cast<int64_t>(size))) {
  if (writer_ == nullptr) throw Error::IoError("avro_writer_memory failed");
}

MemoryWriter::~MemoryWriter() { avro_writer_free(writer_); }

MemoryReader::MemoryReader(const char* buffer, std::size_t size)
    : reader_(avro_reader_memory(buffer, static_cast<int64_t>(size))) {
  if (reader_ == nullptr) throw Error::IoError("avro_reader_memory failed");
}

MemoryReader::~MemoryReader() { avro_reader_free(reader_); }

}  // namespace carehub::avro
