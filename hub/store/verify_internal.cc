#include "hub/store/verify_internal.h"

#include <cstring>

namespace carehub::verify_internal {

std::optional<Hash256> HashOf(std::string_view blob) {
  Hash256 h{};
  if (blob.size() != h.size()) return std::nullopt;
  std::memcpy(h.data(), blob.data(), h.size());
  return h;
}

std::optional<Signature> SignatureOf(std::string_view blob) {
  Signature s{};
  if (blob.size() != s.size()) return std::nullopt;
  std::memcpy(s.data(), blob.data(), s.size());
  return s;
}

const SignPublicKey* KeyOf(const std::map<std::string, SignPublicKey>& keys,
                           const std::string& origin) {
  const auto it = keys.find(origin);
  return it == keys.end() ? nullptr : &it->second;
}

std::optional<ChangeEntry> ReadChange(const sqlite::Statement& stmt, const std::string& origin,
                                      const Hash256& prev, BodyCodec& bodies,
                                      std::optional<std::string>& body_problem) {
  ChangeEntry e;
  e.origin = origin;
  e.seq = stmt.ColumnInt64(0);
  e.record_id = stmt.ColumnText(1);
  e.op = static_cast<ChangeOp>(stmt.ColumnInt(2));
  e.version = static_cast<std::int32_t>(stmt.ColumnInt64(3));
  const auto entry_hash = HashOf(stmt.ColumnBlob(4));
  if (!entry_hash) return std::nullopt;
  e.entry_hash = *entry_hash;
  body_problem.reset();
  std::string scratch;
  try {
    e.body = std::string(bodies.Read(stmt.ColumnOptionalInt64(5), stmt.ColumnBlob(6), scratch));
  } catch (const Error& error) {
    body_problem = std::string("body does not decompress: ") + error.what();
    e.body = std::string(stmt.ColumnBlob(6));
  }
  e.record_hash = RecordHash(e.body);
  e.prev_hash = prev;
  return e;
}

}  // namespace carehub::verify_internal
