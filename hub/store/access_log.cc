#include "hub/store/access_log.h"

#include <Poco/JSON/Array.h>
#include <pwd.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <set>

#include "connectors/person_token.h"
#include "hub/store/lookup_keys.h"
#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::size_t kHashSize = crypto_hash_sha256_BYTES;

std::string Hex(const std::uint8_t* bytes, std::size_t size) {
  std::string out(2 * size + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, size);
  out.pop_back();
  return out;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : " ") + item;
  return out;
}

std::vector<std::string> SplitSpaces(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string TokensText(const std::vector<Hmac256>& tokens) {
  std::vector<std::string> hex;
  for (const Hmac256& t : tokens) hex.push_back(Hex(t.data(), t.size()));
  return Joined(hex);
}

// SHA-256 over the previous hash and every field, each length-prefixed (no ambiguity between
// fields), in column order.
std::string EntryHash(const std::string& prev_hash, const AccessEntry& e) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  const auto add = [&state](std::string_view bytes) {
    const std::uint64_t size = bytes.size();
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(&size), sizeof size);
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                              bytes.size());
  };
  add(prev_hash);
  for (const std::string& field :
       {std::to_string(e.seq), std::to_string(e.at_ms), e.actor, e.role, e.route,
        e.purpose ? "1" + *e.purpose : std::string("0"), std::to_string(e.count),
        Joined(e.record_ids), TokensText(e.person_tokens)}) {
    add(field);
  }
  std::string hash(kHashSize, '\0');
  crypto_hash_sha256_final(&state, reinterpret_cast<unsigned char*>(hash.data()));
  return hash;
}

constexpr const char* kColumns =
    "seq, at_ms, actor, role, route, purpose, count, record_ids, person_tokens, prev_hash, "
    "entry_hash";

AccessEntry ReadEntry(sqlite::Statement& stmt) {
  AccessEntry e;
  e.seq = stmt.ColumnInt64(0);
  e.at_ms = stmt.ColumnInt64(1);
  e.actor = stmt.ColumnText(2);
  e.role = stmt.ColumnText(3);
  e.route = stmt.ColumnText(4);
  e.purpose = stmt.ColumnOptionalText(5);
  e.count = stmt.ColumnInt64(6);
  e.record_ids = SplitSpaces(stmt.ColumnText(7));
  for (const std::string& hex : SplitSpaces(stmt.ColumnText(8))) {
    if (const auto token = ParseTokenHex(hex)) e.person_tokens.push_back(*token);
  }
  return e;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::int64_t AppendAccess(Store& store, AccessEntry entry) {
  sqlite::Database& db = store.db();
  if (entry.at_ms == 0) entry.at_ms = NowMs();
  entry.count = std::max<std::int64_t>(entry.count, 0);
  sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
  std::string prev(kHashSize, '\0');
  entry.seq = 1;
  {
    sqlite::Statement last(db, "SELECT seq, entry_hash FROM access_log ORDER BY seq DESC LIMIT 1");
    if (last.Step()) {
      entry.seq = last.ColumnInt64(0) + 1;
      prev = std::string(last.ColumnBlob(1));
    }
  }
  const std::string hash = EntryHash(prev, entry);
  sqlite::Statement insert(db, "INSERT INTO access_log(" + std::string(kColumns) +
                                   ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.Bind(1, entry.seq)
      .Bind(2, entry.at_ms)
      .Bind(3, entry.actor)
      .Bind(4, entry.role)
      .Bind(5, entry.route)
      .Bind(6, entry.purpose)
      .Bind(7, entry.count)
      .Bind(8, Joined(entry.record_ids))
      .Bind(9, TokensText(entry.person_tokens));
  insert.BindBlob(10, prev).BindBlob(11, hash);
  insert.Run();
  sqlite::Statement person(db,
                           "INSERT OR IGNORE INTO access_log_persons(token_key, seq) "
                           "VALUES(?, ?)");
  for (const Hmac256& token : entry.person_tokens) {
    person.Bind(1, TokenKey(token)).Bind(2, entry.seq);
    person.Run();
  }
  tx.Commit();
  return entry.seq;
}

AccessLogCheck VerifyAccessLog(Store& store) {
  AccessLogCheck check;
  std::string prev(kHashSize, '\0');
  std::int64_t expected_seq = 1;
  sqlite::Statement all(store.db(),
                        "SELECT " + std::string(kColumns) + " FROM access_log ORDER BY seq");
  while (all.Step()) {
    const AccessEntry e = ReadEntry(all);
    ++check.entries;
    const std::string stored_prev(all.ColumnBlob(9));
    const std::string stored_hash(all.ColumnBlob(10));
    std::string problem;
    if (e.seq != expected_seq) {
      problem = "entry " + std::to_string(expected_seq) + " is missing";
    } else if (stored_prev != prev) {
      problem = "does not link to the entry before it";
    } else if (EntryHash(prev, e) != stored_hash) {
      problem = "its fields do not match its hash (edited)";
    }
    if (!problem.empty()) {
      check.first_bad_seq = e.seq;
      check.problem = problem;
      return check;
    }
    prev = stored_hash;
    ++expected_seq;
  }
  return check;
}

std::vector<AccessEntry> ListAccess(Store& store, const std::vector<Hmac256>& persons,
                                    std::int64_t after_seq, std::int64_t limit) {
  std::vector<AccessEntry> out;
  if (persons.empty()) {
    sqlite::Statement stmt(store.db(), "SELECT " + std::string(kColumns) +
                                           " FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?");
    stmt.Bind(1, after_seq).Bind(2, limit);
    while (stmt.Step()) out.push_back(ReadEntry(stmt));
    return out;
  }
  // Token keys are 8-byte prefixes: confirm the full token in the entry.
  std::set<std::int64_t> seqs;
  sqlite::Statement find(store.db(),
                         "SELECT seq FROM access_log_persons WHERE token_key = ? AND seq > ?");
  for (const Hmac256& token : persons) {
    find.Bind(1, TokenKey(token)).Bind(2, after_seq);
    while (find.Step()) seqs.insert(find.ColumnInt64(0));
    find.Reset();
  }
  sqlite::Statement get(store.db(),
                        "SELECT " + std::string(kColumns) + " FROM access_log WHERE seq = ?");
  for (const std::int64_t seq : seqs) {
    if (static_cast<std::int64_t>(out.size()) >= limit) break;
    get.Bind(1, seq);
    if (get.Step()) {
      AccessEntry e = ReadEntry(get);
      bool match = false;
      for (const Hmac256& t : e.person_tokens) {
        for (const Hmac256& p : persons) match = match || t == p;
      }
      if (match) out.push_back(std::move(e));
    }
    get.Reset();
  }
  return out;
}

std::vector<Hmac256> PersonTokensOf(const CanonicalRecord& record) {
  std::vector<Hmac256> out;
  const auto add = [&out](const PersonRef& person) {
    for (const PersonToken& t : person.tokens) out.push_back(t.token);
  };
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment> || std::is_same_v<T, CaregiverQualification>) {
          add(body.person);
        } else if constexpr (std::is_same_v<T, SanctionNotice>) {
          if (body.subject_person) add(*body.subject_person);
        }
      },
      record.body);
  return out;
}

std::string OsActor() {
  const struct passwd* user = ::getpwuid(::geteuid());
  return "os:" + (user && user->pw_name ? std::string(user->pw_name)
                                        : "uid " + std::to_string(::geteuid()));
}

Poco::JSON::Object::Ptr AccessEntryJson(const AccessEntry& e) {
  const std::time_t seconds = static_cast<std::time_t>(e.at_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char at[32];
  std::strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  item->set("seq", e.seq);
  item->set("at_ms", e.at_ms);
  item->set("at", std::string(at));
  item->set("actor", e.actor);
  item->set("role", e.role);
  item->set("route", e.route);
  item->set("purpose", e.purpose ? Poco::Dynamic::Var(*e.purpose) : Poco::Dynamic::Var());
  item->set("count", e.count);
  Poco::JSON::Array::Ptr ids = new Poco::JSON::Array;
  for (const std::string& id : e.record_ids) ids->add(id);
  item->set("record_ids", ids);
  Poco::JSON::Array::Ptr tokens = new Poco::JSON::Array;
  for (const Hmac256& t : e.person_tokens) tokens->add(Hex(t.data(), t.size()));
  item->set("person_tokens", tokens);
  return item;
}

}  // namespace carehub
