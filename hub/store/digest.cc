#include "hub/store/digest.h"

#include <sodium.h>

#include <set>

#include "schemas/error.h"

namespace carehub {
namespace {

void Put(crypto_hash_sha256_state& state, std::uint64_t value, int bytes) {
  std::uint8_t buf[8];
  for (int i = 0; i < bytes; ++i) {
    buf[i] = static_cast<std::uint8_t>(value >> (8 * (bytes - 1 - i)));
  }
  crypto_hash_sha256_update(&state, buf, static_cast<unsigned long long>(bytes));
}

void Put(crypto_hash_sha256_state& state, std::string_view bytes) {
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                            bytes.size());
}

// Signed head, then every entry as stored (docs/PROTOCOL.md "Commands", digest).
std::string LogDigest(Store& store, const std::string& origin) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
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
  // record_hash and prev_hash are not stored (docs/STORE.md): the body's SHA-256 and the stored
  // entry_hash of the entry before, as they were when stored. Bodies uncompressed (carehub_body):
  // the digest does not depend on how a hub stores them.
  sqlite::Statement entries(store.db(),
                            "SELECT seq, op, record_id, version, entry_hash, carehub_body(dict, "
                            "body, origin, seq, record_id) FROM changes WHERE origin = ? "
                            "ORDER BY seq");
  entries.Bind(1, origin);
  std::string prev(32, '\0');
  while (entries.Step()) {
    Put(state, static_cast<std::uint64_t>(entries.ColumnInt64(0)), 8);
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
    Put(state, prev);
    Put(state, body.size(), 4);
    Put(state, body);
  }
  Hash256 hash{};
  crypto_hash_sha256_final(&state, hash.data());
  return ToHex(hash);
}

OriginDigest DigestOf(Store& store, const std::string& origin) {
  OriginDigest digest;
  digest.origin = origin;
  if (auto head = store.Head(origin)) digest.seq = head->seq;
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  // Sorted by id without the bodies in the sorter (records has no index in id order), then
  // each body read by rowid (from the change the records row points at).
  sqlite::Statement in_order(store.db(),
                             "SELECT rowid FROM records WHERE origin = ? ORDER BY record_id");
  sqlite::Statement stmt(store.db(), "SELECT r.record_id, " + std::string(kChangeBody) + " FROM " +
                                         std::string(kRecordsWithBody) + " WHERE r.rowid = ?");
  in_order.Bind(1, origin);
  while (in_order.Step()) {
    stmt.Bind(1, in_order.ColumnInt64(0));
    if (!stmt.Step())
      throw Error::Corruption("digest: a record vanished inside a read transaction");
    const std::string_view id = stmt.ColumnBlob(0);
    Put(state, id.size(), 2);
    Put(state, id);
    const std::string_view body = stmt.ColumnBlob(1);
    Put(state, body.size(), 4);
    Put(state, body);
    ++digest.records;
    stmt.Reset();
  }
  Hash256 hash{};
  crypto_hash_sha256_final(&state, hash.data());
  digest.sha256_hex = ToHex(hash);
  digest.log_sha256_hex = LogDigest(store, origin);
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
