#include "hub/http/api_tokens.h"

#include <sodium.h>

#include <array>

#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::string_view kPrefix = "chk_";
constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kSecretBytes = 32;

std::string Hex(const std::uint8_t* bytes, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

bool IsLowerHex(std::string_view text, std::size_t size) {
  if (text.size() != size) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::array<std::uint8_t, crypto_hash_sha256_BYTES> SecretHash(std::string_view secret_hex) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> hash{};
  crypto_hash_sha256(hash.data(), reinterpret_cast<const unsigned char*>(secret_hex.data()),
                     secret_hex.size());
  return hash;
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAnonymous:
      return "anonymous";
    case Role::kResearcher:
      return "researcher";
    case Role::kAuditor:
      return "auditor";
    case Role::kDepartment:
      return "department";
  }
  return "anonymous";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "researcher") return Role::kResearcher;
  if (name == "auditor") return Role::kAuditor;
  if (name == "department") return Role::kDepartment;
  return std::nullopt;
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kPublic:
      return "public";
    case Access::kRead:
      return "read";
    case Access::kWriteOwn:
      return "write-own-region";
    case Access::kAudit:
      return "audit";
  }
  return "public";
}

bool RegionWithin(std::string_view region, std::string_view hub_region) {
  if (region.size() != 6 || hub_region.size() != 6) return false;
  // The significant prefix of the hub code: 310000 -> "31", 440400 -> "4404".
  std::size_t prefix = 6;
  while (prefix > 2 && hub_region.substr(prefix - 2, 2) == "00") prefix -= 2;
  return region.substr(0, prefix) == hub_region.substr(0, prefix);
}

AccessDecision CheckAccess(Access access, const Principal& principal, std::string_view hub_region) {
  if (access == Access::kPublic) return AccessDecision::kAllowed;
  if (principal.role == Role::kAnonymous) return AccessDecision::kUnauthenticated;
  switch (access) {
    case Access::kPublic:
      return AccessDecision::kAllowed;
    case Access::kRead:
      return principal.role == Role::kAuditor || principal.role == Role::kDepartment
                 ? AccessDecision::kAllowed
                 : AccessDecision::kForbidden;
    case Access::kWriteOwn:
      return principal.role == Role::kDepartment && principal.region &&
                     RegionWithin(*principal.region, hub_region)
                 ? AccessDecision::kAllowed
                 : AccessDecision::kForbidden;
    case Access::kAudit:
      return principal.role == Role::kAuditor ? AccessDecision::kAllowed
                                              : AccessDecision::kForbidden;
  }
  return AccessDecision::kForbidden;
}

CreatedToken CreateApiToken(Store& store, Role role, std::optional<std::string> region,
                            std::int64_t now_ms) {
  if (role == Role::kAnonymous) throw Error::InvalidInput("role: anonymous needs no token");
  if (role == Role::kDepartment) {
    if (!region) throw Error::InvalidInput("region: a department token needs --region");
    const auto resolved = ResolveRegion(*region);
    if (!resolved) {
      throw Error::InvalidInput("region: '" + *region +
                                "' is not a 6-digit GB/T 2260 code or an alias");
    }
    region = resolved;
  } else if (region) {
    throw Error::InvalidInput("region: only department tokens have a region");
  }
  std::array<std::uint8_t, kIdBytes> id_bytes{};
  std::array<std::uint8_t, kSecretBytes> secret_bytes{};
  randombytes_buf(id_bytes.data(), id_bytes.size());
  randombytes_buf(secret_bytes.data(), secret_bytes.size());
  const std::string id = Hex(id_bytes.data(), id_bytes.size());
  std::string secret = Hex(secret_bytes.data(), secret_bytes.size());
  const auto hash = SecretHash(secret);

  sqlite::Transaction tx(store.db());
  sqlite::Statement insert(store.db(),
                           "INSERT INTO api_tokens(id, secret_hash, role, region, created_at) "
                           "VALUES(?, ?, ?, ?, ?)");
  insert.Bind(1, id).BindBlob(2, hash).Bind(3, RoleName(role)).Bind(4, region).Bind(5, now_ms);
  insert.Run();
  tx.Commit();
  CreatedToken created{id, std::string(kPrefix) + id + "_" + secret};
  sodium_memzero(secret.data(), secret.size());
  sodium_memzero(secret_bytes.data(), secret_bytes.size());
  return created;
}

std::vector<TokenInfo> ListApiTokens(Store& store) {
  sqlite::Statement stmt(store.db(),
                         "SELECT id, role, region, created_at, revoked_at FROM api_tokens "
                         "ORDER BY created_at, id");
  std::vector<TokenInfo> out;
  while (stmt.Step()) {
    TokenInfo info;
    info.id = stmt.ColumnText(0);
    const auto role = ParseRole(stmt.ColumnText(1));
    if (!role) throw Error::Corruption("api_tokens: unknown role '" + stmt.ColumnText(1) + "'");
    info.role = *role;
    info.region = stmt.ColumnOptionalText(2);
    info.created_at_ms = stmt.ColumnInt64(3);
    info.revoked_at_ms = stmt.ColumnOptionalInt64(4);
    out.push_back(std::move(info));
  }
  return out;
}

bool RevokeApiToken(Store& store, std::string_view id, std::int64_t now_ms) {
  sqlite::Transaction tx(store.db());
  sqlite::Statement stmt(
      store.db(), "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  stmt.Bind(1, now_ms).Bind(2, id);
  const bool changed = stmt.Run() > 0;
  tx.Commit();
  return changed;
}

TokenVerifier::TokenVerifier(Store& store)
    : lookup_(store.db(),
              "SELECT secret_hash, role, region FROM api_tokens WHERE id = ? AND revoked_at IS "
              "NULL") {}

std::optional<Principal> TokenVerifier::Verify(std::string_view bearer) {
  // chk_ + 16 hex + _ + 64 hex
  if (bearer.size() != kPrefix.size() + 2 * kIdBytes + 1 + 2 * kSecretBytes) return std::nullopt;
  if (bearer.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view id = bearer.substr(kPrefix.size(), 2 * kIdBytes);
  if (bearer[kPrefix.size() + 2 * kIdBytes] != '_') return std::nullopt;
  const std::string_view secret = bearer.substr(kPrefix.size() + 2 * kIdBytes + 1);
  if (!IsLowerHex(id, 2 * kIdBytes)) return std::nullopt;
  // Hash first so that the comparison below costs the same whatever the secret looks like.
  const auto presented = SecretHash(secret);
  lookup_.Bind(1, id);
  std::optional<Principal> principal;
  if (lookup_.Step()) {
    const std::string_view stored = lookup_.ColumnBlob(0);
    if (stored.size() == presented.size() &&
        sodium_memcmp(stored.data(), presented.data(), presented.size()) == 0) {
      const auto role = ParseRole(lookup_.ColumnText(1));
      if (role) principal = Principal{*role, lookup_.ColumnOptionalText(2), std::string(id)};
    }
  }
  lookup_.Reset();
  return principal;
}

}  // namespace carehub
