// Per-origin digests of what a hub holds, to check that hubs have converged: the origin's
// signed head seq, its record count, and SHA-256 over its records in record-id order, each as
// u16 len(record_id) || record_id || SHA-256(body), where body is the record's Avro single
// object exactly as the origin encoded it (relayed verbatim), so nothing local (ingest time on
// this hub, rowids) enters; and `log`, SHA-256 over the origin's signed head and every
// change-log entry in seq order (below), so that hubs differing anywhere in an origin's records
// or log differ in digest. Cost: one pass over the origin's log in seq order (each body read and
// decompressed once) and one over its records rows, held in memory to be put in id order (~120
// bytes per record). A body that does not decompress fails the digest, naming the entry.
// Thread-safety: uses the caller's Store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/store/store.h"

namespace carehub {

struct OriginDigest {
  std::string origin;
  std::int64_t seq = 0;      // signed head seq held for the origin (0 = none)
  std::int64_t records = 0;  // records of that origin, all statuses
  std::string sha256_hex;    // over the records: u16 len(id) || id || SHA-256(body), id order
  // SHA-256 over u64 head seq || head_hash || signature (zero seq and 96 zero bytes when no
  // head), then per entry in seq order: u64 seq || u8 op || str16 record_id || u32 version ||
  // record_hash || prev_hash || entry_hash (record_hash = SHA-256(body) stands for the body).
  std::string log_sha256_hex;
  bool operator==(const OriginDigest&) const = default;
};

// One digest per origin with a signed head or records, sorted by origin; only `origin` if given.
std::vector<OriginDigest> ComputeDigests(Store& store,
                                         const std::optional<std::string>& origin = std::nullopt);
// "origin=310000 seq=N records=M sha256=HEX log=HEX"
std::string DigestLine(const OriginDigest& digest);

}  // namespace carehub
