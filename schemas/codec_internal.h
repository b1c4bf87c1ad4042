// Internal to schemas/: moving canonical records in and out of Avro C generic values of the
// builtin schemas (shared by the single-object codec and the OCF reader/writer). Fields are
// addressed by position for speed; CheckLayout verifies those positions against a parsed schema.
// Not thread-safe per value; the functions themselves keep no state.
#pragma once

#include <avro.h>

#include <string>

#include "schemas/record.h"

namespace carehub::avro {

// The Avro binary body of `record` with its builtin schema, appended to `out`, written directly
// from the struct (binary_encode.cc; the encoder of every stored, exchanged and exported body).
void AppendBinary(const CanonicalRecord& record, std::string& out);
// AppendBinary, and `content` (replaced) = the same body with version 0 and provenance
// source_file "", source_row 0 and ingested_at 0 (codec.h AppendSingleObjectAndContent).
void AppendBinaryAndContent(const CanonicalRecord& record, std::string& out, std::string& content);
// The same bytes as AppendBinary through Avro C (WriteRecord, avro_value_write): the reference the
// direct encoder is tested against (codec.cc).
void AppendBinaryWithAvroC(const CanonicalRecord& record, std::string& out);

// Fills `rec` (a generic value of the builtin schema of record.kind()) from `record`.
void WriteRecord(avro_value_t* rec, const CanonicalRecord& record);
// Reads a value of the builtin schema of `kind`; throws Error::Corruption on values the C++
// model cannot hold (enum out of range, fixed of the wrong size).
CanonicalRecord ReadRecord(avro_value_t* rec, RecordKind kind);
// Throws Error::Corruption when the record schema's field names/order (recursively) differ from
// what WriteRecord/ReadRecord assume, i.e. when schemas/*.avsc and schemas/record.h drift apart.
void CheckLayout(avro_schema_t schema);

}  // namespace carehub::avro
