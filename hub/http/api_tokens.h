// HTTP API access: roles, bearer tokens and the rule deciding what a caller may do. A token is
// "chk_<id>_<secret>" (id 16 hex, secret 64 hex); the table api_tokens keeps the id, role,
// region and SHA-256 of the secret only, so the token is shown once at creation and never again.
// Verification compares secret hashes in constant time (sodium_memcmp).
// Thread-safety: the free functions are pure; the functions taking a Store use it exclusively.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/store.h"

namespace carehub {

// Who calls. Anonymous callers send no Authorization header.
enum class Role { kAnonymous, kResearcher, kAuditor, kDepartment };
std::string_view RoleName(Role role);  // "anonymous", "researcher", "auditor", "department"
std::optional<Role> ParseRole(std::string_view name);  // the three token roles only

struct Principal {
  Role role = Role::kAnonymous;
  std::optional<std::string> region;  // departments only: the 6-digit region they act for
  std::string token_id;               // "" for anonymous
};

// What a route needs. Every route declares one.
enum class Access {
  kPublic,    // anyone, anonymous included (/health, published datasets, /openapi.json)
  kRead,      // auditors and departments of any region
  kWriteOwn,  // departments whose region lies within the hub's region
  kAudit,     // auditors only (the access log)
};
std::string_view AccessName(Access access);

// Outcome of an access check; 401 when no (valid) identity was given for a non-public route,
// 403 when the identity is known but not allowed.
enum class AccessDecision { kAllowed, kUnauthenticated, kForbidden };
AccessDecision CheckAccess(Access access, const Principal& principal, std::string_view hub_region);

// True when `region` is `hub_region` or lies inside it (310115 inside 310000, 440400 inside
// 440000; a province-level hub covers its cities, a city-level hub its districts).
bool RegionWithin(std::string_view region, std::string_view hub_region);

struct CreatedToken {
  std::string id;
  std::string token;  // the full bearer token; shown once, never stored
};

struct TokenInfo {
  std::string id;
  Role role = Role::kResearcher;
  std::optional<std::string> region;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
};

// Creates a token. Departments need a region (code or alias, resolved to 6 digits); the other
// roles take none. Throws Error::InvalidInput for a missing/unexpected/unknown region.
CreatedToken CreateApiToken(Store& store, Role role, std::optional<std::string> region,
                            std::int64_t now_ms);
std::vector<TokenInfo> ListApiTokens(Store& store);
// Marks a token revoked; false when the id is unknown or already revoked.
bool RevokeApiToken(Store& store, std::string_view id, std::int64_t now_ms);

// Looks up a bearer token (the text after "Bearer "). nullopt for a malformed, unknown or
// revoked token; the secret is compared by hash in constant time.
class TokenVerifier {
 public:
  explicit TokenVerifier(Store& store);
  std::optional<Principal> Verify(std::string_view bearer);

 private:
  sqlite::Statement lookup_;
};

}  // namespace carehub
