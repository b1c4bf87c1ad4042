// Avro encoding of canonical records (declared here; implemented with Avro C in codec.cc on top
// of the RAII wrappers in schemas/avro_handle.h). Every byte carehub stores, exchanges or
// exports as Avro comes from these functions.
//
// Single-object encoding (Avro spec): C3 01, the 8-byte little-endian CRC-64-AVRO fingerprint of
// the writer schema's Parsing Canonical Form, then the Avro binary body.
// Thread-safety: all functions are safe to call concurrently (each call uses its own values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

struct SchemaInfo {
  std::string name;  // full name, e.g. "carehub.v1.Assessment"
  RecordKind kind;
  std::string json;           // the .avsc text as shipped (with doc, logicalType and "pii")
  std::string canonical;      // Parsing Canonical Form per the Avro specification
  std::uint64_t fingerprint;  // CRC-64-AVRO of `canonical` (= Java SchemaNormalization)
  int field_count;            // top-level fields
};

// The compiled-in schemas, one per RecordKind, in RecordKind order.
const std::vector<SchemaInfo>& BuiltinSchemas();
const SchemaInfo& SchemaFor(RecordKind kind);

// Parsing Canonical Form of any schema JSON text and its CRC-64-AVRO fingerprint.
// Throws Error::InvalidInput on JSON that is not an Avro schema.
std::string ParsingCanonicalForm(std::string_view schema_json);
std::uint64_t Crc64Avro(std::string_view bytes);

// Encodes a record as a single object with its kind's builtin schema.
std::string EncodeSingleObject(const CanonicalRecord& record);
// The same bytes appended to `out`, so that a caller encoding many records reuses one buffer.
void AppendSingleObject(const CanonicalRecord& record, std::string& out);
// AppendSingleObject, and `content` (replaced) = the Avro body of the same record with version 0
// and provenance source_file "", source_row 0 and ingested_at 0 (the bytes of the store's content
// hash, hub/store ContentHash), taken from the same encoding: only the version and the
// provenance are written a second time. Byte-identical to EncodeBody of the record so changed.
void AppendSingleObjectAndContent(const CanonicalRecord& record, std::string& out,
                                  std::string& content);
// Appends the Avro binary body only (no header) to `out`; used by the OCF writer.
void EncodeBody(const CanonicalRecord& record, std::string& out);

// Decodes a single object. The fingerprint must be a builtin schema or one registered with
// RegisterWriterSchema (then Avro schema resolution maps it onto the builtin reader schema).
// Throws Error::Corruption naming what is wrong (bad magic, unknown fingerprint, short body,
// trailing bytes, values out of range); never reads outside `bytes`.
CanonicalRecord DecodeSingleObject(std::string_view bytes);
// Reads only the fingerprint of a single object; nullopt when the header is not C3 01.
std::optional<std::uint64_t> SingleObjectFingerprint(std::string_view bytes);

// Makes a writer schema known (e.g. a newer schema version received from a peer) so that
// DecodeSingleObject can resolve records written with it. Returns its fingerprint.
std::uint64_t RegisterWriterSchema(std::string_view schema_json);
// The JSON of a known schema (builtin or registered), or nullopt.
std::optional<std::string> SchemaJsonByFingerprint(std::uint64_t fingerprint);

}  // namespace carehub
