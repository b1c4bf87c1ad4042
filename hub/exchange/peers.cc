#include "hub/exchange/peers.h"

#include <zmq.h>

#include <array>

#include "hub/store/store.h"
#include "schemas/error.h"

namespace carehub {
namespace {

Peer ReadPeer(const sqlite::Statement& stmt) {
  Peer peer;
  peer.name = stmt.ColumnText(0);
  peer.region = stmt.ColumnText(1);
  peer.curve_key = stmt.ColumnText(2);
  const std::string_view key = stmt.ColumnBlob(3);
  if (key.size() != peer.sign_key.size()) {
    throw Error::Corruption("peers: sign key of " + peer.name + " is not 32 bytes");
  }
  std::copy(key.begin(), key.end(), peer.sign_key.begin());
  peer.endpoint = stmt.ColumnOptionalText(4);
  return peer;
}

constexpr std::string_view kColumns = "name, region, curve_key, sign_key, endpoint";

}  // namespace

bool IsCurveKey(std::string_view key) {
  if (key.size() != 40) return false;
  const std::string text(key);
  std::array<std::uint8_t, 32> raw{};
  return zmq_z85_decode(raw.data(), text.c_str()) != nullptr;
}

void AddPeer(sqlite::Database& db, const Peer& peer, std::string_view own_region) {
  if (peer.name.empty() || peer.name.size() > 64) {
    throw Error::InvalidInput("peer name must be 1 to 64 characters");
  }
  const auto region = ResolveRegion(peer.region);
  if (!region) throw Error::InvalidInput("peer region '" + peer.region + "' is unknown");
  if (*region == own_region) {
    throw Error::InvalidInput("peer region " + *region + " is this hub's own region");
  }
  if (!IsCurveKey(peer.curve_key)) {
    throw Error::InvalidInput("curve key of peer " + peer.name + " is not a 40-char Z85 key");
  }
  if (peer.endpoint && peer.endpoint->rfind("tcp://", 0) != 0 &&
      peer.endpoint->rfind("ipc://", 0) != 0) {
    throw Error::InvalidInput("endpoint of peer " + peer.name + " must be tcp://host:port");
  }
  sqlite::Transaction tx(db);
  sqlite::Statement clash(db,
                          "SELECT name FROM peers WHERE name = ? OR region = ? OR curve_key = ?");
  clash.Bind(1, peer.name).Bind(2, *region).Bind(3, peer.curve_key);
  if (clash.Step()) {
    throw Error::InvalidInput("member " + clash.ColumnText(0) +
                              " already has this name, region or curve key (peers remove first)");
  }
  clash.Reset();
  sqlite::Statement insert(db,
                           "INSERT INTO peers(name, region, curve_key, sign_key, endpoint) "
                           "VALUES(?, ?, ?, ?, ?)");
  insert.Bind(1, peer.name)
      .Bind(2, *region)
      .Bind(3, peer.curve_key)
      .BindBlob(4, std::span<const std::uint8_t>(peer.sign_key))
      .Bind(5, peer.endpoint)
      .Run();
  tx.Commit();
}

bool RemovePeer(sqlite::Database& db, std::string_view name) {
  sqlite::Statement remove(db, "DELETE FROM peers WHERE name = ?");
  return remove.Bind(1, name).Run() > 0;
}

std::vector<Peer> ListPeers(sqlite::Database& db) {
  sqlite::Statement stmt(db, "SELECT " + std::string(kColumns) + " FROM peers ORDER BY name");
  std::vector<Peer> peers;
  while (stmt.Step()) peers.push_back(ReadPeer(stmt));
  return peers;
}

std::optional<Peer> PeerByRegion(sqlite::Database& db, std::string_view region) {
  sqlite::Statement stmt(db, "SELECT " + std::string(kColumns) + " FROM peers WHERE region = ?");
  stmt.Bind(1, region);
  if (!stmt.Step()) return std::nullopt;
  return ReadPeer(stmt);
}

}  // namespace carehub
