// Avro encoding of canonical records: written directly from the structs (binary_encode.cc),
// decoded through Avro C. Field positions follow schemas/*.avsc exactly (checked once when the
// builtins load, avro::CheckLayout), so the hot path addresses fields by index.
// Per-thread state (value interfaces, values, buffers) avoids locks and per-record allocation.
#include "schemas/codec.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "schemas/avro_handle.h"
#include "schemas/codec_internal.h"
#include "schemas/embedded.h"
#include "schemas/error.h"

namespace carehub::embedded_schemas {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_schemas

namespace carehub {
namespace {

constexpr unsigned char kMagic0 = 0xC3;
constexpr unsigned char kMagic1 = 0x01;
constexpr std::size_t kHeaderSize = 10;
constexpr std::size_t kMinAllocationLimit = 4096;
constexpr const char* kSchemaFiles[] = {"assessment.avsc", "caregiver.avsc", "facility.avsc",
                                        "sanction.avsc"};

// ---- schema registry (process-wide, immutable builtins + registered writer schemas) ----------

std::vector<SchemaInfo> LoadBuiltins() {
  std::vector<SchemaInfo> infos;
  for (RecordKind kind : kAllKinds) {
    const std::string_view file = kSchemaFiles[static_cast<int>(kind)];
    std::string json;
    for (std::size_t i = 0; i < embedded_schemas::kFileCount; ++i) {
      if (embedded_schemas::kFiles[i].path == file) json = embedded_schemas::kFiles[i].content;
    }
    if (json.empty()) throw Error::NotFound(std::string("builtin schema ") + std::string(file));
    avro::Schema parsed = avro::Schema::FromJson(json);
    avro::CheckLayout(parsed.get());
    SchemaInfo info;
    info.name = std::string("carehub.v1.") + avro_schema_name(parsed.get());
    info.kind = kind;
    info.json = json;
    info.canonical = ParsingCanonicalForm(json);
    info.fingerprint = Crc64Avro(info.canonical);
    info.field_count = static_cast<int>(avro_schema_record_size(parsed.get()));
    infos.push_back(std::move(info));
  }
  return infos;
}

struct WriterSchema {
  std::string json;
  RecordKind kind;
};

std::mutex g_registry_mutex;
std::map<std::uint64_t, WriterSchema>& Registered() {
  static std::map<std::uint64_t, WriterSchema> registered;
  return registered;
}

// ---- per-thread codec state ------------------------------------------------------------------

struct KindState {
  avro::Schema schema;
  avro::ValueIface iface;
  avro::Value value;
};

struct ForeignState {  // a registered writer schema resolved onto the builtin reader schema
  avro::Schema writer_schema;
  avro::ValueIface resolver;
  avro::Value resolved;
  RecordKind kind;
};

class ThreadCodec {
 public:
  ThreadCodec() : writer_(buffer_.data(), buffer_.size()), reader_(nullptr, 0) {
    for (const SchemaInfo& info : BuiltinSchemas()) {
      KindState state;
      state.schema = avro::Schema::FromJson(info.json);
      state.iface = avro::ValueIface::Generic(state.schema);
      state.value = avro::Value(state.iface);
      kinds_.push_back(std::move(state));
    }
  }

  // The Avro C reference encoding (codec_internal.h AppendBinaryWithAvroC).
  void EncodeWithAvroC(const CanonicalRecord& record, std::string& out) {
    avro_value_t* rec = kinds_[static_cast<int>(record.kind())].value.get();
    avro::WriteRecord(rec, record);
    out.append(buffer_.data(), WriteAt(rec, 0));
  }

  CanonicalRecord Decode(std::uint64_t fingerprint, const char* body, std::size_t size) {
    const auto& builtins = BuiltinSchemas();
    for (std::size_t i = 0; i < builtins.size(); ++i) {
      if (builtins[i].fingerprint == fingerprint) {
        avro_value_t* rec = kinds_[i].value.get();
        Read(rec, rec, body, size);
        return avro::ReadRecord(rec, builtins[i].kind);
      }
    }
    ForeignState& foreign = Foreign(fingerprint);
    avro_value_t* rec = kinds_[static_cast<int>(foreign.kind)].value.get();
    avro_resolved_writer_set_dest(foreign.resolved.get(), rec);
    Read(foreign.resolved.get(), rec, body, size);
    return avro::ReadRecord(rec, foreign.kind);
  }

 private:
  ForeignState& Foreign(std::uint64_t fingerprint) {
    auto it = foreign_.find(fingerprint);
    if (it != foreign_.end()) return *it->second;
    WriterSchema writer;
    {
      std::lock_guard<std::mutex> lock(g_registry_mutex);
      auto found = Registered().find(fingerprint);
      if (found == Registered().end()) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
        throw Error::Corruption(std::string("unknown writer schema fingerprint ") + hex);
      }
      writer = found->second;
    }
    auto state = std::make_unique<ForeignState>();
    state->kind = writer.kind;
    state->writer_schema = avro::Schema::FromJson(writer.json);
    state->resolver = avro::ValueIface::ResolvedWriter(
        state->writer_schema, kinds_[static_cast<int>(writer.kind)].schema);
    state->resolved = avro::Value::ForResolvedWriter(state->resolver);
    return *foreign_.emplace(fingerprint, std::move(state)).first->second;
  }

  // Reads one body into `target` (which fills `rec`); the body must be consumed exactly.
  void Read(avro_value_t* target, avro_value_t* rec, const char* body, std::size_t size) {
    avro_value_reset(rec);
    reader_.Reset(body, size);
    // No field of a valid body needs more memory than a small multiple of the body itself.
    avro::AllocationLimit limit(kMinAllocationLimit + 4 * size);
    if (avro_value_read(reader_.get(), target) != 0) {
      throw Error::Corruption(std::string("avro body does not decode: ") + avro_strerror());
    }
    if (avro_skip(reader_.get(), 1) == 0) {
      throw Error::Corruption("trailing bytes after the avro body");
    }
  }

  // Writes `value` into buffer_ after its first `used` bytes (growing it as needed); returns
  // the bytes written.
  std::size_t WriteAt(avro_value_t* value, std::size_t used) {
    for (;;) {
      writer_.Reset(buffer_.data() + used, buffer_.size() - used);
      if (avro_value_write(writer_.get(), value) == 0) return writer_.written();
      if (buffer_.size() > (64u << 20)) throw Error::InvalidInput("record too large to encode");
      buffer_.resize(buffer_.size() * 2);
    }
  }

  std::vector<KindState> kinds_;
  std::vector<char> buffer_ = std::vector<char>(1 << 16);
  avro::MemoryWriter writer_;
  avro::MemoryReader reader_;
  std::map<std::uint64_t, std::unique_ptr<ForeignState>> foreign_;
};

ThreadCodec& Codec() {
  thread_local ThreadCodec codec;
  return codec;
}

void AppendLittleEndian64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

const std::vector<SchemaInfo>& BuiltinSchemas() {
  static const std::vector<SchemaInfo> kBuiltins = LoadBuiltins();
  return kBuiltins;
}

const SchemaInfo& SchemaFor(RecordKind kind) { return BuiltinSchemas()[static_cast<int>(kind)]; }

std::string EncodeSingleObject(const CanonicalRecord& record) {
  std::string out;
  out.reserve(256);
  AppendSingleObject(record, out);
  return out;
}

void AppendSingleObject(const CanonicalRecord& record, std::string& out) {
  out.push_back(static_cast<char>(kMagic0));
  out.push_back(static_cast<char>(kMagic1));
  AppendLittleEndian64(out, SchemaFor(record.kind()).fingerprint);
  avro::AppendBinary(record, out);
}

void AppendSingleObjectAndContent(const CanonicalRecord& record, std::string& out,
                                  std::string& content) {
  out.push_back(static_cast<char>(kMagic0));
  out.push_back(static_cast<char>(kMagic1));
  AppendLittleEndian64(out, SchemaFor(record.kind()).fingerprint);
  avro::AppendBinaryAndContent(record, out, content);
}

void EncodeBody(const CanonicalRecord& record, std::string& out) {
  avro::AppendBinary(record, out);
}

void avro::AppendBinaryWithAvroC(const CanonicalRecord& record, std::string& out) {
  Codec().EncodeWithAvroC(record, out);
}

std::optional<std::uint64_t> SingleObjectFingerprint(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || static_cast<unsigned char>(bytes[0]) != kMagic0 ||
      static_cast<unsigned char>(bytes[1]) != kMagic1) {
    return std::nullopt;
  }
  std::uint64_t fingerprint = 0;
  for (int i = 7; i >= 0; --i) {
    fingerprint = (fingerprint << 8) | static_cast<unsigned char>(bytes[2 + i]);
  }
  return fingerprint;
}

CanonicalRecord DecodeSingleObject(std::string_view bytes) {
  auto fingerprint = SingleObjectFingerprint(bytes);
  if (!fingerprint) throw Error::Corruption("not an Avro single object (bad magic or too short)");
  return Codec().Decode(*fingerprint, bytes.data() + kHeaderSize, bytes.size() - kHeaderSize);
}

std::uint64_t RegisterWriterSchema(std::string_view schema_json) {
  const std::uint64_t fingerprint = Crc64Avro(ParsingCanonicalForm(schema_json));
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.fingerprint == fingerprint) return fingerprint;
  }
  avro::Schema parsed = avro::Schema::FromJson(schema_json);
  const std::string name = avro_schema_name(parsed.get());
  std::optional<RecordKind> kind;
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.name == "carehub.v1." + name || info.name == name) kind = info.kind;
  }
  if (!kind) throw Error::InvalidInput("writer schema " + name + " is not a carehub record");
  // Fail now, not at first decode, when the schemas cannot resolve.
  avro::Schema reader = avro::Schema::FromJson(SchemaFor(*kind).json);
  avro::ValueIface::ResolvedWriter(parsed, reader);
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  Registered()[fingerprint] = WriterSchema{std::string(schema_json), *kind};
  return fingerprint;
}

std::optional<std::string> SchemaJsonByFingerprint(std::uint64_t fingerprint) {
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.fingerprint == fingerprint) return info.json;
  }
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto it = Registered().find(fingerprint);
  if (it == Registered().end()) return std::nullopt;
  return it->second.json;
}

}  // namespace carehub
