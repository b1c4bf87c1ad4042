// What hub/store/verify.cc (checks) and hub/store/repair.cc (repair) share and nobody else
// needs: reading a stored change row back into a ChangeEntry (record_hash and prev_hash are not
// stored, docs/STORE.md; the body is decompressed) and small blob helpers.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hub/store/body_codec.h"
#include "hub/store/store.h"

namespace carehub::verify_internal {

std::optional<Hash256> HashOf(std::string_view blob);         // nullopt unless 32 bytes
std::optional<Signature> SignatureOf(std::string_view blob);  // nullopt unless 64 bytes
const SignPublicKey* KeyOf(const std::map<std::string, SignPublicKey>& keys,
                           const std::string& origin);  // null when not a member

// The columns ReadChange reads, in its order.
inline constexpr std::string_view kChangeColumns =
    "seq, record_id, op, version, entry_hash, dict, body";
// One stored change row (kChangeColumns) as the entry it is: record_hash = SHA-256 of the body,
// prev_hash = `prev` (the stored entry_hash before it). nullopt when its entry_hash is not 32
// bytes. A body that does not decompress is kept as stored and `body_problem` says why.
std::optional<ChangeEntry> ReadChange(const sqlite::Statement& stmt, const std::string& origin,
                                      const Hash256& prev, BodyCodec& bodies,
                                      std::optional<std::string>& body_problem);

}  // namespace carehub::verify_internal
