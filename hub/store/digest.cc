#include "hub/store/digest.h"

#include <algorithm>
#include <set>

#include "schemas/sha256.h"

namespace carehub {
namespace {

// The fields of one entry (or record) are appended to a buffer, big-endian, and the buffer
// hashed once per entry: SHA-256 is a stream, so the digest is the same as hashing each field on
// its own, with one OpenSSL call per entry instead of eight (schemas/sha256.h).
void Put(std::string& buf, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    buf.push_back(static_cast<char>(static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)))));
  }
}

void Put(std::string& buf, std::string_view bytes) { buf.append(bytes); }

void Flush(Sha256Hasher& hasher, std::string& buf) {
  hasher.Update(buf);
  buf.clear();
}

std::string FinalHex(Sha256Hasher& hasher) { return ToHex(hasher.Final()); }

// A records row of the origin: its id, the seq of the change it points at, and that change's
// record_hash (zero when the log holds no such seq: no body hashes to 32 zero bytes).
struct RecordRef {
  std::string id;
  std::int64_t seq = 0;
  Hash256 hash{};
};

// Signed head, then every entry as stored (docs/PROTOCOL.md "Commands", digest). The same pass
// hands each record in `by_seq` (ascending seq) the record_hash of the entry it points at, so a
// body is read and decompressed once for both digests, in seq order.
std::string LogDigest(Store& store, const std::string& origin, std::vector<RecordRef*>& by_seq) {
  Sha256Hasher hasher;
  std::string state;  // the bytes of the head, then of one entry at a time
  sqlite::Statement head(store.db(),
                         "SELECT seq, head_hash, signature FROM heads WHERE origin = ?");
  head.Bind(1, origin);
  if (head.Step()) {
    Put(state, static_cast<std::uint64_t>(head.ColumnInt64(0)), 8);
    Put(state, head.ColumnBlob(1));
    Put(state, head.ColumnBlob(2));
  } else {
    Put(state, 0, 8);
    Put(state, std::string(96, '\0'));
  }
  Flush(hasher, state);
  // record_hash and prev_hash are not stored (docs/STORE.md): the body's SHA-256 and the stored
  // entry_hash of the entry before, as they were when stored. Bodies uncompressed (carehub_body):
  // the digest does not depend on how a hub stores them.
  sqlite::Statement entries(store.db(),
                            "SELECT seq, op, record_id, version, entry_hash, carehub_body(dict, "
                            "body, origin, seq, record_id) FROM changes WHERE origin = ? "
                            "ORDER BY seq");
  entries.Bind(1, origin);
  std::string prev(32, '\0');
  std::size_t next = 0;  // the first record of by_seq not handed its hash yet
  while (entries.Step()) {
    const std::int64_t seq = entries.ColumnInt64(0);
    Put(state, static_cast<std::uint64_t>(seq), 8);
    Put(state, static_cast<std::uint64_t>(entries.ColumnInt64(1)), 1);
    const std::string_view id = entries.ColumnBlob(2);
    Put(state, id.size(), 2);
    Put(state, id);
    Put(state, static_cast<std::uint64_t>(entries.ColumnInt64(3)), 4);
    const std::string_view body = entries.ColumnBlob(5);
    const Hash256 record_hash = RecordHash(body);
    Put(state, std::string_view(reinterpret_cast<const char*>(record_hash.data()), 32));
    Put(state, prev);
    prev = std::string(entries.ColumnBlob(4));
    Put(state, prev);  // the body is in through record_hash: hashed once, not twice
    Flush(hasher, state);
    while (next < by_seq.size() && by_seq[next]->seq < seq) ++next;  // no such seq: zero
    for (; next < by_seq.size() && by_seq[next]->seq == seq; ++next) {
      by_seq[next]->hash = record_hash;
    }
  }
  return FinalHex(hasher);
}

// Both digests of one origin from one pass over its log and one over its records rows (no
// per-record lookup of a body: the records are put in id order in memory, ~120 bytes each).
OriginDigest DigestOf(Store& store, const std::string& origin) {
  OriginDigest digest;
  digest.origin = origin;
  if (auto head = store.Head(origin)) digest.seq = head->seq;
  std::vector<RecordRef> records;
  {
    sqlite::Statement stmt(store.db(), "SELECT record_id, seq FROM records WHERE origin = ?");
    stmt.Bind(1, origin);
    while (stmt.Step()) records.push_back({std::string(stmt.ColumnBlob(0)), stmt.ColumnInt64(1)});
  }
  std::vector<RecordRef*> by_seq;
  by_seq.reserve(records.size());
  for (RecordRef& r : records) by_seq.push_back(&r);
  std::sort(by_seq.begin(), by_seq.end(),
            [](const RecordRef* a, const RecordRef* b) { return a->seq < b->seq; });
  digest.log_sha256_hex = LogDigest(store, origin, by_seq);
  std::sort(records.begin(), records.end(),
            [](const RecordRef& a, const RecordRef& b) { return a.id < b.id; });
  Sha256Hasher hasher;
  std::string state;
  for (const RecordRef& r : records) {
    Put(state, r.id.size(), 2);
    Put(state, r.id);
    Put(state, std::string_view(reinterpret_cast<const char*>(r.hash.data()), 32));
    Flush(hasher, state);
  }
  digest.records = static_cast<std::int64_t>(records.size());
  digest.sha256_hex = FinalHex(hasher);
  return digest;
}

}  // namespace

std::vector<OriginDigest> ComputeDigests(Store& store, const std::optional<std::string>& origin) {
  std::set<std::string> origins;
  if (origin) {
    origins.insert(*origin);
  } else {
    for (const SignedHead& head : store.Heads()) origins.insert(head.origin);
    sqlite::Statement stmt(store.db(), "SELECT DISTINCT origin FROM records");
    while (stmt.Step()) origins.insert(stmt.ColumnText(0));
  }
  // One read transaction so that the digests of all origins describe one state.
  store.db().Exec("BEGIN");
  std::vector<OriginDigest> digests;
  try {
    for (const std::string& o : origins) digests.push_back(DigestOf(store, o));
  } catch (...) {
    store.db().Exec("ROLLBACK");
    throw;
  }
  store.db().Exec("COMMIT");
  return digests;
}

std::string DigestLine(const OriginDigest& d) {
  return "origin=" + d.origin + " seq=" + std::to_string(d.seq) +
         " records=" + std::to_string(d.records) + " sha256=" + d.sha256_hex +
         " log=" + d.log_sha256_hex;
}

}  // namespace carehub
