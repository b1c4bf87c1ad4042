// The access log (issue 12): one entry per request or CLI command that showed personal data —
// when, who (API token id or OS user), in which role, through which route, for what stated
// purpose, and which record ids and person tokens it returned. Append-only (triggers refuse
// UPDATE and DELETE) and hash-chained: entry_hash = SHA-256(prev_hash || the entry's fields), so
// an edited or removed entry breaks VerifyAccessLog. A resident's accesses are found by person
// token (table access_log_persons), so "who read my records" needs no raw identifier stored.
// Thread-safety: as the Store passed in (one connection per thread); appends serialise on
// SQLite's write lock (BEGIN IMMEDIATE).
#pragma once

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/store/store.h"
#include "schemas/record.h"

namespace carehub {

struct AccessEntry {
  std::int64_t seq = 0;    // assigned by AppendAccess
  std::int64_t at_ms = 0;  // unix milliseconds
  std::string actor;       // "token:<id>" or "os:<user>"
  std::string role;        // "department", "auditor", "cli"
  std::string route;       // "GET /v1/records" or "carehub quarantine"
  std::optional<std::string> purpose;
  std::int64_t count = 0;               // items returned (records, rows, decisions)
  std::vector<std::string> record_ids;  // or "quarantine:<id>" for raw rows
  std::vector<Hmac256> person_tokens;
};

// Appends `entry` in its own transaction (the seq and hashes are assigned here); returns its seq.
std::int64_t AppendAccess(Store& store, AccessEntry entry);

struct AccessLogCheck {
  std::int64_t entries = 0;
  std::optional<std::int64_t> first_bad_seq;  // the first entry whose hash or link is wrong
  std::string problem;
  bool ok() const { return !first_bad_seq; }
};
AccessLogCheck VerifyAccessLog(Store& store);

// Entries after `after_seq`, oldest first, at most `limit`; with `persons`, only entries that
// returned one of those person tokens.
std::vector<AccessEntry> ListAccess(Store& store, const std::vector<Hmac256>& persons,
                                    std::int64_t after_seq, std::int64_t limit);

// Every person token a record carries (the person of an assessment or qualification, the
// sanctioned person).
std::vector<Hmac256> PersonTokensOf(const CanonicalRecord& record);

// The one JSON form of an entry, for `carehub audit --json` and GET /v1/audit: seq, at_ms, at
// (UTC, ISO 8601), actor, role, route, purpose (or null), count, record_ids, person_tokens (hex).
Poco::JSON::Object::Ptr AccessEntryJson(const AccessEntry& entry);

// "os:<login name>" of the user running this process (for CLI entries).
std::string OsActor();

}  // namespace carehub
