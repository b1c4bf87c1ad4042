// OCF framing per the Avro specification ("Object Container Files"): "Obj" 1, a metadata map
// (avro.schema = the shipped .avsc, avro.codec), a 16-byte random sync marker, then blocks of
// (record count, byte size, records, sync). deflate is raw RFC 1951 (zlib, windowBits -15);
// snappy blocks carry the big-endian CRC-32 of the uncompressed data after the compressed bytes.
#include "schemas/ocf.h"

#include <snappy-c.h>
#include <sodium.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "schemas/avro_handle.h"
#include "schemas/codec.h"
#include "schemas/codec_internal.h"
#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::size_t kMaxAllocation = std::size_t{256} << 20;
constexpr std::size_t kSingleObjectHeaderSize = 10;  // C3 01 + 8-byte fingerprint

void AppendLong(std::string& out, std::int64_t value) {  // zig-zag varint, as Avro's long
  std::uint64_t n =
      (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

void AppendBytes(std::string& out, std::string_view bytes) {
  AppendLong(out, static_cast<std::int64_t>(bytes.size()));
  out.append(bytes);
}

}  // namespace

std::optional<OcfCodec> ParseOcfCodec(std::string_view name) {
  if (name == "null") return OcfCodec::kNull;
  if (name == "deflate") return OcfCodec::kDeflate;
  if (name == "snappy") return OcfCodec::kSnappy;
  return std::nullopt;
}

std::string_view OcfCodecName(OcfCodec codec) {
  switch (codec) {
    case OcfCodec::kNull:
      return "null";
    case OcfCodec::kDeflate:
      return "deflate";
    case OcfCodec::kSnappy:
      return "snappy";
  }
  return "null";
}

// ---- writer ----------------------------------------------------------------------------------

struct OcfWriter::Impl {
  std::string path;
  std::FILE* file = nullptr;
  RecordKind kind = RecordKind::kAssessment;
  OcfCodec codec = OcfCodec::kNull;
  std::array<char, 16> sync{};
  std::string block;  // encoded records of the current block
  std::int64_t block_count = 0;
  std::string compressed;  // reused per block
  std::string frame;
  z_stream deflater{};
  bool deflater_ready = false;
  std::int64_t records = 0;
  std::uint64_t bytes = 0;

  ~Impl() {
    if (deflater_ready) deflateEnd(&deflater);
    if (file != nullptr) std::fclose(file);
  }

  void Write(const char* data, std::size_t size) {
    if (std::fwrite(data, 1, size, file) != size) {
      throw Error::IoError("cannot write " + path + ": " + std::strerror(errno));
    }
    bytes += size;
  }

  const std::string& Compress() {
    if (codec == OcfCodec::kDeflate) {
      deflateReset(&deflater);
      compressed.resize(deflateBound(&deflater, block.size()));
      deflater.next_in = reinterpret_cast<Bytef*>(block.data());
      deflater.avail_in = static_cast<uInt>(block.size());
      deflater.next_out = reinterpret_cast<Bytef*>(compressed.data());
      deflater.avail_out = static_cast<uInt>(compressed.size());
      if (deflate(&deflater, Z_FINISH) != Z_STREAM_END) throw Error::IoError("deflate failed");
      compressed.resize(compressed.size() - deflater.avail_out);
      return compressed;
    }
    if (codec == OcfCodec::kSnappy) {
      std::size_t size = snappy_max_compressed_length(block.size());
      compressed.resize(size + 4);
      if (snappy_compress(block.data(), block.size(), compressed.data(), &size) != SNAPPY_OK) {
        throw Error::IoError("snappy compression failed");
      }
      const uLong crc =
          crc32(0, reinterpret_cast<const Bytef*>(block.data()), static_cast<uInt>(block.size()));
      for (int i = 0; i < 4; ++i) compressed[size + i] = static_cast<char>(crc >> (24 - 8 * i));
      compressed.resize(size + 4);
      return compressed;
    }
    return block;
  }

  void FlushBlock() {
    if (block_count == 0) return;
    const std::string& payload = Compress();
    frame.clear();
    AppendLong(frame, block_count);
    AppendLong(frame, static_cast<std::int64_t>(payload.size()));
    Write(frame.data(), frame.size());
    Write(payload.data(), payload.size());
    Write(sync.data(), sync.size());
    block.clear();
    block_count = 0;
  }
};

OcfWriter::OcfWriter(const std::string& path, RecordKind kind, std::string_view codec)
    : impl_(std::make_unique<Impl>()) {
  const auto parsed = ParseOcfCodec(codec);
  if (!parsed) {
    throw Error::InvalidInput("unknown Avro codec '" + std::string(codec) +
                              "' (null, deflate or snappy)");
  }
  impl_->path = path;
  impl_->kind = kind;
  impl_->codec = *parsed;
  if (*parsed == OcfCodec::kDeflate) {
    if (deflateInit2(&impl_->deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error::IoError("deflateInit2 failed");
    }
    impl_->deflater_ready = true;
  }
  if (sodium_init() < 0) throw Error::IoError("libsodium initialisation failed");
  randombytes_buf(impl_->sync.data(), impl_->sync.size());
  impl_->block.reserve(kBlockBytes + 4096);
  impl_->file = std::fopen(path.c_str(), "wb");
  if (impl_->file == nullptr) {
    throw Error::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  std::string header("Obj\x01", 4);
  AppendLong(header, 2);  // one map block of two entries, then the empty block
  AppendBytes(header, "avro.schema");
  AppendBytes(header, SchemaFor(kind).json);
  AppendBytes(header, "avro.codec");
  AppendBytes(header, OcfCodecName(*parsed));
  AppendLong(header, 0);
  header.append(impl_->sync.data(), impl_->sync.size());
  impl_->Write(header.data(), header.size());
}

OcfWriter::~OcfWriter() {
  try {
    Close();
  } catch (const Error&) {  // the destructor cannot report; callers who care call Close()
  }
}

void OcfWriter::Append(const CanonicalRecord& record) {
  if (impl_->file == nullptr) throw Error::InvalidInput("OcfWriter: append after Close");
  if (record.kind() != impl_->kind) {
    throw Error::InvalidInput("OcfWriter: a " + std::string(KindName(record.kind())) +
                              " record in a " + std::string(KindName(impl_->kind)) + " file");
  }
  EncodeBody(record, impl_->block);
  ++impl_->block_count;
  ++impl_->records;
  if (impl_->block.size() >= kBlockBytes) impl_->FlushBlock();
}

void OcfWriter::AppendSingleObject(std::string_view bytes) {
  const auto fingerprint = SingleObjectFingerprint(bytes);
  if (fingerprint != SchemaFor(impl_->kind).fingerprint) {
    Append(DecodeSingleObject(bytes));  // throws Corruption for garbage / unknown schemas
    return;
  }
  if (impl_->file == nullptr) throw Error::InvalidInput("OcfWriter: append after Close");
  impl_->block.append(bytes.substr(kSingleObjectHeaderSize));
  ++impl_->block_count;
  ++impl_->records;
  if (impl_->block.size() >= kBlockBytes) impl_->FlushBlock();
}

void OcfWriter::Close() {
  if (impl_->file == nullptr) return;
  try {
    impl_->FlushBlock();
  } catch (const Error&) {
    std::fclose(impl_->file);
    impl_->file = nullptr;
    throw;
  }
  const bool failed = std::fflush(impl_->file) != 0;
  const bool close_failed = std::fclose(impl_->file) != 0;
  impl_->file = nullptr;
  if (failed || close_failed) {
    throw Error::IoError("cannot write " + impl_->path + ": " + std::strerror(errno));
  }
}

std::int64_t OcfWriter::records() const { return impl_->records; }
std::uint64_t OcfWriter::bytes_written() const { return impl_->bytes; }

// ---- reader ----------------------------------------------------------------------------------

struct OcfReader::Impl {
  explicit Impl(const std::string& path) : file(path) {}
  avro::FileReader file;
  RecordKind kind = RecordKind::kAssessment;
  avro::Schema reader_schema;
  avro::ValueIface generic;
  avro::Value value;  // of the builtin schema
  avro::Schema writer_schema;
  avro::ValueIface resolver;
  avro::Value resolved;  // of the file's schema, filling `value`
};

OcfReader::OcfReader(const std::string& path) {
  avro::AllocationLimit limit(kMaxAllocation);  // opening reads the header and the first block
  impl_ = std::make_unique<Impl>(path);
  impl_->writer_schema = impl_->file.WriterSchema();
  if (!is_avro_record(impl_->writer_schema.get())) {
    throw Error::InvalidInput(path + ": the file's schema is not a record");
  }
  const std::string name = avro_schema_name(impl_->writer_schema.get());
  std::optional<RecordKind> kind;
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.name == "carehub.v1." + name) kind = info.kind;
  }
  if (!kind) throw Error::InvalidInput(path + ": " + name + " is not a carehub record");
  impl_->kind = *kind;
  impl_->reader_schema = avro::Schema::FromJson(SchemaFor(*kind).json);
  impl_->generic = avro::ValueIface::Generic(impl_->reader_schema);
  impl_->value = avro::Value(impl_->generic);
  // Identical schemas resolve trivially; an evolved writer schema is mapped field by field.
  impl_->resolver = avro::ValueIface::ResolvedWriter(impl_->writer_schema, impl_->reader_schema);
  impl_->resolved = avro::Value::ForResolvedWriter(impl_->resolver);
}

OcfReader::~OcfReader() = default;

RecordKind OcfReader::kind() const { return impl_->kind; }

std::optional<CanonicalRecord> OcfReader::Next() {
  avro_value_reset(impl_->value.get());
  avro_resolved_writer_set_dest(impl_->resolved.get(), impl_->value.get());
  // Block buffers of real files stay far below this; a corrupt block size does not.
  avro::AllocationLimit limit(kMaxAllocation);
  if (!impl_->file.Read(impl_->resolved.get())) return std::nullopt;
  return avro::ReadRecord(impl_->value.get(), impl_->kind);
}

}  // namespace carehub
