// Avro Object Container Files (OCF) of canonical records, one RecordKind per file.
// OcfWriter writes the container framing itself so that the header carries the schema exactly as
// shipped (doc, logicalType date/timestamp-millis, "pii"), which Avro C's avro_file_writer would
// drop; the record bodies still come from Avro C (EncodeBody). OcfReader reads any OCF of a
// carehub record (ours, Avro C's, Java's, Python's) through Avro C's file reader and schema
// resolution. Both are single-threaded objects that own their file; see docs/schemas.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "schemas/record.h"

namespace carehub {

enum class OcfCodec { kNull, kDeflate, kSnappy };
// "null", "deflate", "snappy" (the avro.codec names); nullopt for anything else.
std::optional<OcfCodec> ParseOcfCodec(std::string_view name);
std::string_view OcfCodecName(OcfCodec codec);

class OcfWriter {
 public:
  // Records are buffered into blocks of about this many uncompressed bytes.
  static constexpr std::size_t kBlockBytes = 64 * 1024;

  // Creates (or truncates) `path` and writes the header. Throws Error::InvalidInput for an
  // unknown codec name, Error::IoError when the file cannot be written.
  OcfWriter(const std::string& path, RecordKind kind, std::string_view codec = "null");
  // Closes the file if Close() was not called, swallowing errors: call Close() to know.
  ~OcfWriter();
  OcfWriter(const OcfWriter&) = delete;
  OcfWriter& operator=(const OcfWriter&) = delete;

  // Throws Error::InvalidInput for a record of another kind, Error::IoError on write failure.
  void Append(const CanonicalRecord& record);
  // Appends a stored single object (codec.h) without decoding it when it was written with this
  // kind's builtin schema (its body is copied as is: the fast path of an export); an object of
  // another, registered schema version is decoded and re-encoded. Throws Error::Corruption for
  // bytes that are no single object or of an unknown schema, InvalidInput for another kind.
  void AppendSingleObject(std::string_view bytes);
  // Writes the last block and closes the file; throws Error::IoError. Idempotent.
  void Close();

  std::int64_t records() const;
  std::uint64_t bytes_written() const;  // file bytes so far (header + flushed blocks)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class OcfReader {
 public:
  // Opens an OCF whose writer schema is (a version of) one of the four carehub records.
  // Throws Error::NotFound (no file), Error::Corruption (not an OCF), Error::InvalidInput
  // (a schema that is no carehub record or does not resolve onto the builtin one).
  explicit OcfReader(const std::string& path);
  ~OcfReader();
  OcfReader(const OcfReader&) = delete;
  OcfReader& operator=(const OcfReader&) = delete;

  RecordKind kind() const;
  // The next record, or nullopt at the end; throws Error::Corruption on a damaged file.
  std::optional<CanonicalRecord> Next();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub
