// Compact lookup keys of the store's two random-key indexes (records by id, records by person
// token). Entries of 8-byte integers instead of 32-character ids and 32-byte tokens make the
// indexes 3-4x smaller, and a bulk write dirties (and commits) every page of a random-key
// index, so their size sets the ingest and relay rate (docs/PERFORMANCE.md, docs/STORE.md).
// A key is not unique: every query by key also compares the full id or token, so a collision
// (2^-64 per pair) costs one more row read, never a wrong answer.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "schemas/record.h"

namespace carehub {

// records.record_key: SipHash-2-4 (libsodium crypto_shorthash, fixed all-zero key) of the
// record id's bytes, as a signed 64-bit integer (little-endian bytes of the hash).
std::int64_t RecordKey(std::string_view record_id);

// record_persons.token_key: the first 8 bytes of the person token (already an HMAC output,
// so uniformly distributed), big-endian, as a signed 64-bit integer.
std::int64_t TokenKey(const Hmac256& token);
std::int64_t TokenKey(std::string_view token_bytes);  // 8 bytes or more

// The token keys of `before` that `after` lacks: the record_persons rows a new version of a
// record removes (compared by key, so a key both versions share is kept).
std::vector<std::int64_t> DroppedTokenKeys(const std::vector<Hmac256>& before,
                                           const std::vector<Hmac256>& after);

}  // namespace carehub
