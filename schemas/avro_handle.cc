#include "schemas/avro_handle.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <utility>

#include "schemas/error.h"

namespace carehub::avro {
namespace {

thread_local std::size_t t_allocation_limit = 0;  // 0: no limit

// Avro C's default allocator semantics (realloc/free), plus the per-thread limit. Installed
// during static initialisation, before any thread uses Avro C.
void* LimitedAllocator(void* /*user_data*/, void* ptr, size_t /*old_size*/, size_t new_size) {
  if (new_size == 0) {
    std::free(ptr);
    return nullptr;
  }
  if (t_allocation_limit != 0 && new_size > t_allocation_limit) return nullptr;
  return std::realloc(ptr, new_size);
}

[[maybe_unused]] const bool kAllocatorInstalled = [] {
  avro_set_allocator(LimitedAllocator, nullptr);
  return true;
}();

}  // namespace

AllocationLimit::AllocationLimit(std::size_t max_bytes) : previous_(t_allocation_limit) {
  t_allocation_limit = max_bytes;
}

AllocationLimit::~AllocationLimit() { t_allocation_limit = previous_; }

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

namespace {

avro_schema_t SkipLinks(avro_schema_t schema) {
  while (is_avro_link(schema)) schema = avro_schema_link_target(schema);
  return schema;
}

bool SameNamedType(avro_schema_t writer, avro_schema_t reader) {
  return avro_typeof(writer) == avro_typeof(reader) &&
         (!is_avro_named_type(writer) ||
          std::strcmp(avro_schema_name(writer), avro_schema_name(reader)) == 0);
}

// Decides, before Avro C is asked, whether avro_resolved_writer_new(writer, reader) succeeds.
// Avro C 1.11.1 double-frees on some of its failure paths (a reader record field missing from
// the writer), and a writer schema may come from a peer, so Avro C must only ever see pairs
// that resolve. The rules are Avro C's, made stricter where that is simpler and safe: no
// numeric promotions, every branch of a writer union must resolve, and enum symbols are passed
// by index by Avro C, so the writer's symbols must be a prefix of the reader's.
class ResolutionCheck {
 public:
  // Returns an empty string when the pair resolves, else why not.
  std::string Check(avro_schema_t writer, avro_schema_t reader, const std::string& path) {
    writer = SkipLinks(writer);
    reader = SkipLinks(reader);
    if (!seen_.insert({writer, reader}).second) return "";  // recursive types: assume yes
    if (is_avro_union(writer)) {
      for (size_t i = 0; i < avro_schema_union_size(writer); ++i) {
        std::string why =
            Check(avro_schema_union_branch(writer, static_cast<int>(i)), reader, path);
        if (!why.empty()) return why;
      }
      return "";
    }
    if (is_avro_union(reader)) {
      for (size_t i = 0; i < avro_schema_union_size(reader); ++i) {
        avro_schema_t branch = SkipLinks(avro_schema_union_branch(reader, static_cast<int>(i)));
        if (SameNamedType(writer, branch)) return Direct(writer, branch, path);
      }
      return path + ": no branch of the reader union takes " + avro_schema_type_name(writer);
    }
    if (!SameNamedType(writer, reader)) {
      return path + ": writer " + avro_schema_type_name(writer) + " vs reader " +
             avro_schema_type_name(reader);
    }
    return Direct(writer, reader, path);
  }

 private:
  std::string Direct(avro_schema_t writer, avro_schema_t reader, const std::string& path) {
    if (is_avro_record(writer)) {
      for (size_t i = 0; i < avro_schema_record_size(reader); ++i) {
        const char* name = avro_schema_record_field_name(reader, static_cast<int>(i));
        const int index = avro_schema_record_field_get_index(writer, name);
        if (index < 0) {
          return path + "." + name + ": reader field missing from the writer (Avro C cannot " +
                 "fill defaults)";
        }
        std::string why = Check(avro_schema_record_field_get_by_index(writer, index),
                                avro_schema_record_field_get_by_index(reader, static_cast<int>(i)),
                                path + "." + name);
        if (!why.empty()) return why;
      }
      return "";
    }
    if (is_avro_enum(writer)) {
      const int count = avro_schema_enum_number_of_symbols(writer);
      if (count > avro_schema_enum_number_of_symbols(reader)) {
        return path + ": the writer enum has more symbols";
      }
      for (int i = 0; i < count; ++i) {
        if (std::strcmp(avro_schema_enum_get(writer, i), avro_schema_enum_get(reader, i)) != 0) {
          return path + ": enum symbols differ in order";
        }
      }
      return "";
    }
    if (is_avro_fixed(writer)) {
      return avro_schema_equal(writer, reader) ? "" : path + ": fixed types differ";
    }
    if (is_avro_array(writer)) {
      return Check(avro_schema_array_items(writer), avro_schema_array_items(reader), path + "[]");
    }
    if (is_avro_map(writer)) {
      return Check(avro_schema_map_values(writer), avro_schema_map_values(reader), path + "{}");
    }
    return "";  // the same primitive type
  }

  std::set<std::pair<avro_schema_t, avro_schema_t>> seen_;
};

}  // namespace

ValueIface ValueIface::ResolvedWriter(const Schema& writer, const Schema& reader) {
  const std::string why = ResolutionCheck().Check(writer.get(), reader.get(), "record");
  if (!why.empty()) throw Error::InvalidInput("schemas do not resolve: " + why);
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

Value Value::ForResolvedWriter(const ValueIface& resolver) {
  Value value;
  Check(avro_resolved_writer_new_value(resolver.get(), &value.value_), "avro resolver value");
  value.owned_ = true;
  return value;
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

FileReader::FileReader(const std::string& path) {
  const int rc = avro_file_reader(path.c_str(), &reader_);
  if (rc == ENOENT) throw Error::NotFound("no such Avro file: " + path);
  if (rc != 0) {
    reader_ = nullptr;
    throw Error::Corruption("not an Avro object container file: " + path + ": " + avro_strerror());
  }
}

FileReader::~FileReader() {
  if (reader_ != nullptr) avro_file_reader_close(reader_);
}

Schema FileReader::WriterSchema() const {
  return Schema(avro_file_reader_get_writer_schema(reader_));  // returns a new reference
}

bool FileReader::Read(avro_value_t* dest) {
  const int rc = avro_file_reader_read_value(reader_, dest);
  if (rc == EOF) return false;
  if (rc != 0) throw Error::Corruption(std::string("Avro file block: ") + avro_strerror());
  return true;
}

}  // namespace carehub::avro
