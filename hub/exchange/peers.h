// The federation as this hub sees it: the members (peers table), each with a name, its region
// (= the origin it signs for), its CURVE public key (who may connect), its Ed25519 key (whose
// head signatures verify) and optionally an endpoint this hub dials. A member without an
// endpoint is trusted as an origin but never dialled. Thread-safety: functions use the caller's
// connection; call them from the thread that owns it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/keys.h"
#include "hub/store/sqlite_db.h"

namespace carehub {

struct Peer {
  std::string name;
  std::string region;     // 6-digit GB/T 2260 code
  std::string curve_key;  // Z85, 40 chars
  SignPublicKey sign_key{};
  std::optional<std::string> endpoint;  // tcp://host:port; nullopt = not dialled
  bool operator==(const Peer&) const = default;
};

// Validates and inserts a member. Throws Error::InvalidInput for a malformed key, region or
// endpoint, for this hub's own region (`own_region`), or when the name, region or CURVE key is
// already a member.
void AddPeer(sqlite::Database& db, const Peer& peer, std::string_view own_region);
// Returns false when no member has that name.
bool RemovePeer(sqlite::Database& db, std::string_view name);
std::vector<Peer> ListPeers(sqlite::Database& db);  // sorted by name
std::optional<Peer> PeerByRegion(sqlite::Database& db, std::string_view region);

// True when `key` is 40 Z85 characters encoding 32 bytes.
bool IsCurveKey(std::string_view key);

}  // namespace carehub
