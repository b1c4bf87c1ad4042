// What a served batch is made of besides its entries: the signed head it ends at, the reply
// when the hub's copy is damaged, and the cheap check of a batch served as stored (protocol
// version 7). Split from exchange_serve.cc, which reads, checks and encodes the batch.
#include "hub/exchange/exchange_internal.h"

namespace carehub {

// The signed head a served batch after `after_seq` ends at: the furthest within `limit`, else
// the nearest beyond; `fallback` (the origin's head) when none is stored. nullopt when the row
// is corrupt.
std::optional<SignedHead> Exchange::Impl::ServedHead(Store& store, const std::string& origin,
                                                     std::int64_t after_seq, std::int64_t limit,
                                                     const SignedHead& fallback) {
  sqlite::Statement within(store.db(),
                           "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ?1 "
                           "AND seq > ?2 AND seq <= ?3 ORDER BY seq DESC LIMIT 1");
  within.Bind(1, origin).Bind(2, after_seq).Bind(3, limit);
  bool found = within.Step();
  sqlite::Statement beyond(store.db(),
                           "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ?1 "
                           "AND seq > ?2 ORDER BY seq ASC LIMIT 1");
  sqlite::Statement* row = &within;
  if (!found) {
    beyond.Bind(1, origin).Bind(2, after_seq);
    found = beyond.Step();
    row = &beyond;
  }
  if (!found) return fallback;
  SignedHead head;
  head.origin = origin;
  head.seq = row->ColumnInt64(0);
  const std::string_view hash = row->ColumnBlob(1);
  const std::string_view signature = row->ColumnBlob(2);
  if (hash.size() != head.head_hash.size() || signature.size() != head.signature.size()) {
    return std::nullopt;
  }
  std::copy(hash.begin(), hash.end(), head.head_hash.begin());
  std::copy(signature.begin(), signature.end(), head.signature.begin());
  return head;
}

wire::ErrorReply Exchange::Impl::DamagedReply(const std::string& origin) {
  return wire::ErrorReply{wire::ErrorCode::kInternal, origin,
                          "this hub's copy of origin " + origin +
                              " is damaged; it is being repaired, pull it elsewhere"};
}

// Version 7: what a batch read as stored shows without hashing a body. The entries are
// after_seq+1..head.seq (ServePull checked its ends, seqs are unique), each stored entry_hash
// 32 bytes (ReadChangesAsStored); the last one must be the signed head, whose signature
// verifies. Damage inside the batch is left to the client, which refuses it (REFUSED).
std::optional<std::string> Exchange::Impl::CheckServedCheaply(const wire::Batch& batch,
                                                              const SignPublicKey& key) {
  const std::string& origin = batch.head.origin;
  if (static_cast<std::int64_t>(batch.entries.size()) != batch.head.seq - batch.after_seq) {
    return "origin " + origin + ": the entries read are not seq " +
           std::to_string(batch.after_seq + 1) + ".." + std::to_string(batch.head.seq);
  }
  if (batch.entries.back().entry_hash != batch.head.head_hash) {
    return "origin " + origin + ": the stored entry hash of seq " + std::to_string(batch.head.seq) +
           " is not its signed head's";
  }
  if (!VerifyHead(batch.head, key)) {
    return "origin " + origin + ": the signature of its signed head " +
           std::to_string(batch.head.seq) + " does not verify";
  }
  return std::nullopt;
}

}  // namespace carehub
