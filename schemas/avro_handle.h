// The one thin RAII layer over Avro C (libavro): schemas, value interfaces, values, memory
// readers/writers, resolvers and container-file readers. No other file calls
// avro_*_decref / avro_*_free / avro_*_close directly.
// Every failing Avro C call becomes carehub::Error carrying avro_strerror().
// Handles are move-only and must stay on the thread that uses them (Avro C values are not
// thread-safe); schemas and interfaces are reference counted by Avro C itself.
#pragma once

#include <avro.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace carehub::avro {

// Throws Error(kind) with "<what>: <avro_strerror()>" when rc != 0.
void Check(int rc, const char* what);

// While alive, any single allocation Avro C makes on this thread larger than `max_bytes` fails
// (Avro C then returns ENOMEM): a corrupt length prefix in untrusted bytes ends the read with an
// error instead of reserving gigabytes first. Nests; the outer limit returns on destruction.
class AllocationLimit {
 public:
  explicit AllocationLimit(std::size_t max_bytes);
  ~AllocationLimit();
  AllocationLimit(const AllocationLimit&) = delete;
  AllocationLimit& operator=(const AllocationLimit&) = delete;

 private:
  std::size_t previous_;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(avro_schema_t adopted) : schema_(adopted) {}
  static Schema FromJson(std::string_view json);  // throws Error::InvalidInput
  ~Schema() { Reset(); }
  Schema(Schema&& other) noexcept : schema_(other.schema_) { other.schema_ = nullptr; }
  Schema& operator=(Schema&& other) noexcept;
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  avro_schema_t get() const { return schema_; }
  explicit operator bool() const { return schema_ != nullptr; }

 private:
  void Reset();
  avro_schema_t schema_ = nullptr;
};

// A value interface (class) for a schema: the generic implementation, or a resolver that reads
// data written with one schema into values of another.
class ValueIface {
 public:
  ValueIface() = default;
  explicit ValueIface(avro_value_iface_t* adopted) : iface_(adopted) {}
  static ValueIface Generic(const Schema& schema);
  // Reads writer-schema data into a reader-schema value (avro_resolved_writer_new).
  static ValueIface ResolvedWriter(const Schema& writer, const Schema& reader);
  ~ValueIface() { Reset(); }
  ValueIface(ValueIface&& other) noexcept : iface_(other.iface_) { other.iface_ = nullptr; }
  ValueIface& operator=(ValueIface&& other) noexcept;
  ValueIface(const ValueIface&) = delete;
  ValueIface& operator=(const ValueIface&) = delete;

  avro_value_iface_t* get() const { return iface_; }

 private:
  void Reset();
  avro_value_iface_t* iface_ = nullptr;
};

class Value {
 public:
  Value() = default;
  explicit Value(const ValueIface& iface);
  // The value of a ValueIface::ResolvedWriter: reading into it fills the destination set with
  // avro_resolved_writer_set_dest (a value of the reader schema).
  static Value ForResolvedWriter(const ValueIface& resolver);
  ~Value() { Reset(); }
  Value(Value&& other) noexcept : value_(other.value_), owned_(other.owned_) {
    other.owned_ = false;
  }
  Value& operator=(Value&& other) noexcept;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  avro_value_t* get() { return &value_; }
  const avro_value_t* get() const { return &value_; }

 private:
  void Reset();
  avro_value_t value_{};
  bool owned_ = false;
};

// An avro_writer_t / avro_reader_t over caller-owned memory.
class MemoryWriter {
 public:
  MemoryWriter(char* buffer, std::size_t size);
  ~MemoryWriter();
  MemoryWriter(const MemoryWriter&) = delete;
  MemoryWriter& operator=(const MemoryWriter&) = delete;
  avro_writer_t get() const { return writer_; }
  void Reset(char* buffer, std::size_t size) { avro_writer_memory_set_dest(writer_, buffer, size); }
  std::size_t written() const { return static_cast<std::size_t>(avro_writer_tell(writer_)); }

 private:
  avro_writer_t writer_;
};

class MemoryReader {
 public:
  MemoryReader(const char* buffer, std::size_t size);
  ~MemoryReader();
  MemoryReader(const MemoryReader&) = delete;
  MemoryReader& operator=(const MemoryReader&) = delete;
  avro_reader_t get() const { return reader_; }
  void Reset(const char* buffer, std::size_t size) {
    avro_reader_memory_set_source(reader_, buffer, size);
  }

 private:
  avro_reader_t reader_;
};

// An Avro object container file opened for reading (avro_file_reader). Avro C decodes the
// framing and the null/deflate/snappy block codecs itself.
class FileReader {
 public:
  explicit FileReader(const std::string& path);  // throws NotFound / Corruption
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  Schema WriterSchema() const;
  // Reads the next value into `dest` (of the writer schema, or a resolver value); false at the
  // end of the file; throws Error::Corruption on a damaged block.
  bool Read(avro_value_t* dest);

 private:
  avro_file_reader_t reader_ = nullptr;
};

}  // namespace carehub::avro
