// Deterministic Avro Object Container Files for published datasets and API responses: the same
// schema and datums always give the same bytes, because the sync marker is derived from the
// content (SHA-256 of schema and datums) instead of drawn at random as Avro C's file writer
// does, and the codec is "null". Also the few Avro binary primitives the aggregate rows need.
// Header, blocks and sync follow the Avro 1.11 specification ("Object Container Files").
// Thread-safety: an OcfBuilder belongs to one thread; the free functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carehub {

// Avro binary encoding (zig-zag varints; strings as length + UTF-8 bytes).
void AvroAppendLong(std::string& out, std::int64_t value);
void AvroAppendString(std::string& out, std::string_view value);
void AvroAppendBoolean(std::string& out, bool value);
// A ["null", "long"] union.
void AvroAppendOptionalLong(std::string& out, std::optional<std::int64_t> value);
// A ["null", "string"] union.
void AvroAppendOptionalString(std::string& out, const std::optional<std::string>& value);

class OcfBuilder {
 public:
  // `schema_json` is stored as the file's avro.schema metadata, byte for byte.
  explicit OcfBuilder(std::string schema_json, std::size_t datums_per_block = 4096);
  // Appends one datum already encoded in Avro binary with the schema.
  void Add(std::string_view datum);
  std::size_t count() const { return count_; }
  // The whole file. The sync marker is the first 16 bytes of SHA-256(schema, each datum).
  std::string Finish() const;

 private:
  std::string schema_json_;
  std::size_t datums_per_block_;
  std::vector<std::string> blocks_;  // encoded datums of each block
  std::vector<std::size_t> block_counts_;
  std::size_t count_ = 0;
};

}  // namespace carehub
