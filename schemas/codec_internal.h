// Internal to schemas/: moving canonical records in and out of Avro C generic values of the
// builtin schemas (shared by the single-object codec and the OCF reader/writer). Fields are
// addressed by position for speed; CheckLayout verifies those positions against a parsed schema.
// Not thread-safe per value; the functions themselves keep no state.
#pragma once

#include <avro.h>

#include "schemas/record.h"

namespace carehub::avro {

// Fills `rec` (a generic value of the builtin schema of record.kind()) from `record`.
void WriteRecord(avro_value_t* rec, const CanonicalRecord& record);
// Reads a value of the builtin schema of `kind`; throws Error::Corruption on values the C++
// model cannot hold (enum out of range, fixed of the wrong size).
CanonicalRecord ReadRecord(avro_value_t* rec, RecordKind kind);
// Throws Error::Corruption when the record schema's field names/order (recursively) differ from
// what WriteRecord/ReadRecord assume, i.e. when schemas/*.avsc and schemas/record.h drift apart.
void CheckLayout(avro_schema_t schema);

}  // namespace carehub::avro
