#include "hub/publish/ocf.h"

#include <sodium.h>

namespace carehub {

void AvroAppendLong(std::string& out, std::int64_t value) {
  std::uint64_t zigzag =
      (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out += static_cast<char>((zigzag & 0x7F) | 0x80);
    zigzag >>= 7;
  }
  out += static_cast<char>(zigzag);
}

void AvroAppendString(std::string& out, std::string_view value) {
  AvroAppendLong(out, static_cast<std::int64_t>(value.size()));
  out.append(value);
}

void AvroAppendBoolean(std::string& out, bool value) { out += static_cast<char>(value ? 1 : 0); }

void AvroAppendOptionalLong(std::string& out, std::optional<std::int64_t> value) {
  AvroAppendLong(out, value ? 1 : 0);
  if (value) AvroAppendLong(out, *value);
}

void AvroAppendOptionalString(std::string& out, const std::optional<std::string>& value) {
  AvroAppendLong(out, value ? 1 : 0);
  if (value) AvroAppendString(out, *value);
}

OcfBuilder::OcfBuilder(std::string schema_json, std::size_t datums_per_block)
    : schema_json_(std::move(schema_json)),
      datums_per_block_(datums_per_block == 0 ? 1 : datums_per_block) {}

void OcfBuilder::Add(std::string_view datum) {
  if (blocks_.empty() || block_counts_.back() == datums_per_block_) {
    blocks_.emplace_back();
    block_counts_.push_back(0);
  }
  blocks_.back().append(datum);
  ++block_counts_.back();
  ++count_;
}

std::string OcfBuilder::Finish() const {
  // Content-derived sync marker: datums are length-framed in the hash so that different
  // splits of the same bytes cannot collide.
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::string frame;
  AvroAppendString(frame, schema_json_);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(frame.data()),
                            frame.size());
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    frame.clear();
    AvroAppendLong(frame, static_cast<std::int64_t>(block_counts_[i]));
    AvroAppendString(frame, blocks_[i]);
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(frame.data()),
                              frame.size());
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  const std::string sync(reinterpret_cast<const char*>(digest), 16);

  std::string out = std::string("Obj\x01", 4);
  // File metadata: a map with one block of two entries, keys in a fixed order.
  AvroAppendLong(out, 2);
  AvroAppendString(out, "avro.codec");
  AvroAppendString(out, "null");
  AvroAppendString(out, "avro.schema");
  AvroAppendString(out, schema_json_);
  AvroAppendLong(out, 0);
  out += sync;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    AvroAppendLong(out, static_cast<std::int64_t>(block_counts_[i]));
    AvroAppendString(out, blocks_[i]);  // size in bytes, then the serialized objects
    out += sync;
  }
  return out;
}

}  // namespace carehub
