// The ROUTER side of an Exchange: answers HELLO, PULL, SCHEMA_REQUEST and PING from members
// (ZAP admitted them; their name is the connection's User-Id) and announces new heads.
#include "hub/exchange/exchange_internal.h"
#include "schemas/codec.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
constexpr auto kClientForgotten = 30s;
// A damaged origin is re-verified and repaired at most this often (its own log cannot be cut,
// so it stays damaged until an operator acts).
constexpr auto kOriginRepairInterval = 60s;

}  // namespace

wire::Welcome Exchange::Impl::WelcomeMessage() {
  wire::Welcome welcome;
  welcome.region = store.region();
  welcome.signed_heads = SignedHeads();
  for (const SignedHead& head : welcome.signed_heads) {
    welcome.heads.push_back({head.origin, head.seq});
  }
  return welcome;
}

void Exchange::Impl::OnRouterMessage(const std::string& routing_id, const std::string& user,
                                     const wire::Frames& frames) {
  wire::Message reply;
  // Answered in the version asked in (an older member gets an older answer); an unknown version
  // is answered in this hub's newest, which tells the client what it speaks.
  std::uint8_t version = wire::VersionOf(frames);
  if (version < wire::kOldestProtocolVersion || version > wire::kProtocolVersion) {
    version = wire::kProtocolVersion;
  }
  try {
    reply = HandleRequest(routing_id, user, wire::Decode(frames), version);
  } catch (const wire::WireError& e) {
    Log("peer " + (user.empty() ? std::string("?") : user) + ": " + e.what());
    reply = wire::ErrorReply{e.code(), "", e.what()};
  }
  if (std::holds_alternative<wire::Batch>(reply)) ++stats.batches_served;
  SendFrames(*router, wire::Encode(reply, version), &routing_id);
}

// A member speaks for the region it is registered with, and no other: a HELLO claiming another
// region is refused (the member's name is the connection's ZAP User-Id).
std::optional<std::string> Exchange::Impl::CheckHelloRegion(const std::string& user,
                                                            const std::string& region) const {
  for (const auto& [registered, peer] : members) {
    if (peer.name != user) continue;
    if (registered == region) return std::nullopt;
    return "HELLO claims region " + region + " but member " + user + " is registered for " +
           registered;
  }
  return "HELLO from " + (user.empty() ? std::string("an unknown peer") : user) +
         ", which is not a federation member";
}

wire::Message Exchange::Impl::HandleRequest(const std::string& routing_id, const std::string& user,
                                            const wire::Message& request, std::uint8_t version) {
  ConnectedClient& client = clients[routing_id];
  client.name = user;
  client.last_seen = ExchangeClock::now();
  client.version = version;
  return std::visit(
      [&](const auto& m) -> wire::Message {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Hello>) {
          if (const auto refused = CheckHelloRegion(user, m.region)) {
            Log("peer " + user + ": " + *refused);
            return wire::ErrorReply{wire::ErrorCode::kUnauthorized, m.region, *refused};
          }
          OnGossip(user, m.signed_heads);
          return WelcomeMessage();
        } else if constexpr (std::is_same_v<T, wire::Pull>) {
          return ServePull(m);
        } else if constexpr (std::is_same_v<T, wire::SchemaRequest>) {
          if (auto json = SchemaJsonByFingerprint(m.fingerprint)) {
            return wire::Schema{m.fingerprint, *json};
          }
          sqlite::Statement stmt(store.db(), "SELECT json FROM schemas WHERE fingerprint = ?");
          stmt.Bind(1, static_cast<std::int64_t>(m.fingerprint));
          if (stmt.Step()) return wire::Schema{m.fingerprint, stmt.ColumnText(0)};
          return wire::ErrorReply{wire::ErrorCode::kUnknownSchema, "",
                                  "no schema with fingerprint " + std::to_string(m.fingerprint)};
        } else if constexpr (std::is_same_v<T, wire::Ping>) {
          return wire::Pong{{m.nonce}};
        } else {
          return wire::ErrorReply{wire::ErrorCode::kMalformed, "",
                                  "this message type is not a request"};
        }
      },
      request);
}

wire::Message Exchange::Impl::ServePull(const wire::Pull& pull) {
  const auto head = store.Head(pull.origin);
  if (!head) {
    return wire::ErrorReply{wire::ErrorCode::kUnknownOrigin, pull.origin,
                            "this hub holds no log of origin " + pull.origin};
  }
  wire::Batch batch;
  batch.after_seq = pull.after_seq;
  if (pull.after_seq >= head->seq) {  // caught up: no entries, the current head
    batch.head = *head;
    return batch;
  }
  // End the batch at a signed head: the furthest within the limit, else the nearest beyond.
  const std::int64_t limit =
      pull.after_seq + std::clamp<std::int64_t>(pull.max_entries, 1, kMaxServedEntries);
  sqlite::Statement within(store.db(),
                           "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ?1 "
                           "AND seq > ?2 AND seq <= ?3 ORDER BY seq DESC LIMIT 1");
  within.Bind(1, pull.origin).Bind(2, pull.after_seq).Bind(3, limit);
  bool found = within.Step();
  sqlite::Statement beyond(store.db(),
                           "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ?1 "
                           "AND seq > ?2 ORDER BY seq ASC LIMIT 1");
  sqlite::Statement* row = &within;
  if (!found) {
    beyond.Bind(1, pull.origin).Bind(2, pull.after_seq);
    found = beyond.Step();
    row = &beyond;
  }
  if (!found) {
    batch.head = *head;
  } else {
    batch.head.origin = pull.origin;
    batch.head.seq = row->ColumnInt64(0);
    const std::string_view hash = row->ColumnBlob(1);
    const std::string_view signature = row->ColumnBlob(2);
    if (hash.size() != batch.head.head_hash.size() ||
        signature.size() != batch.head.signature.size()) {
      return wire::ErrorReply{wire::ErrorCode::kInternal, pull.origin, "corrupt signed head"};
    }
    std::copy(hash.begin(), hash.end(), batch.head.head_hash.begin());
    std::copy(signature.begin(), signature.end(), batch.head.signature.begin());
  }
  batch.entries = store.ReadChanges(pull.origin, pull.after_seq, batch.head.seq - pull.after_seq);
  if (batch.entries.empty() || batch.entries.front().seq != pull.after_seq + 1 ||
      batch.entries.back().seq != batch.head.seq) {
    return wire::ErrorReply{wire::ErrorCode::kGap, pull.origin,
                            "this hub does not hold seq " + std::to_string(pull.after_seq + 1) +
                                ".." + std::to_string(batch.head.seq) + " of origin " +
                                pull.origin};
  }
  if (!options.check_served) return batch;
  if (auto problem = CheckServedBatch(batch)) {
    RepairOrigin(pull.origin, "a batch read for serving: " + *problem);
    return wire::ErrorReply{wire::ErrorCode::kInternal, pull.origin,
                            "this hub's copy of origin " + pull.origin +
                                " is damaged; it is being repaired, pull it elsewhere"};
  }
  return batch;
}

std::optional<std::string> Exchange::Impl::CheckServedBatch(const wire::Batch& batch) {
  const std::string& origin = batch.head.origin;
  const ChainCursor from{batch.after_seq, batch.entries.front().prev_hash};
  SignPublicKey key = store.keys().sign_public();
  if (origin != store.region()) {
    const auto member = members.find(origin);
    if (member == members.end()) return std::nullopt;  // not a member: nobody pulls it
    key = member->second.sign_key;
  }
  return VerifyBatch(origin, from, batch.entries, batch.head, key);
}

void Exchange::Impl::RepairOrigin(const std::string& origin, const std::string& why) {
  const auto now = ExchangeClock::now();
  if (auto it = last_origin_repair.find(origin);
      it != last_origin_repair.end() && now - it->second < kOriginRepairInterval) {
    return;
  }
  last_origin_repair[origin] = now;
  CommitGroup();  // the check reads in its own transaction
  const VerifyReport report = VerifyStore(store, {.origin = origin, .integrity_check = false});
  if (report.problems.empty()) {
    Log("store check (" + why + "): origin " + origin + " verifies now; nothing to repair");
    return;
  }
  try {
    RepairDamaged(report.problems, why);
  } catch (const sqlite::SqliteError& e) {
    if (!e.busy()) throw;
    // Another writer holds the store: tried again by the next check that finds the damage.
    last_origin_repair.erase(origin);
    Log("store busy: the repair of origin " + origin + " is tried again later");
  }
}

void Exchange::Impl::RepairDamaged(const std::vector<StoreProblem>& found, const std::string& why) {
  if (found.empty()) return;
  {
    std::lock_guard lock(check_mutex);
    check.sound = false;
    ++check.repairs;
  }
  Log("store check (" + why + "): " + std::to_string(found.size()) +
      " problem(s), the first: " + ProblemLine(found.front()));
  CommitGroup();
  VerifyReport report;
  report.problems = found;
  const RepairReport repair = RepairStore(store, report);
  for (const auto& [origin, keep] : repair.logs_cut) {
    Log("repair: origin " + origin + " cut back to its signed head " + std::to_string(keep) +
        "; pulling the rest again from members");
    local[origin] = keep;
    in_flight.erase(origin);
  }
  if (repair.records_restored > 0) {
    Log("repair: " + std::to_string(repair.records_restored) + " record(s) rewritten from the log");
  }
  for (const std::string& line : repair.unrepaired) Log("repair: not repaired: " + line);
  verifier.reset();  // a pass in progress may have read what the repair changed
}

void Exchange::Impl::VerifyStep() {
  if (options.verify_rows <= 0) return;
  const auto now = ExchangeClock::now();
  if (now - last_verify_step < options.verify_interval) return;
  last_verify_step = now;
  // Its own connection: it reads committed state in short read transactions, beside the
  // exchange's open group.
  if (!verify_store) verify_store.emplace(Store::Open(store.dir()));
  if (!verifier) verifier.emplace(options.verify_rows);
  if (!verifier->Step(*verify_store)) return;
  const std::vector<StoreProblem> found = verifier->last_pass();
  {
    std::lock_guard lock(check_mutex);
    check.passes = verifier->passes();
    check.problems = static_cast<std::int64_t>(found.size());
    if (found.empty()) check.sound = true;
  }
  std::set<std::string> origins;
  for (const StoreProblem& p : found) {
    if (p.origin.empty()) {
      Log("store check: " + ProblemLine(p) + " (run carehub verify --repair)");
    } else {
      origins.insert(p.origin);
    }
  }
  // Re-checked in one snapshot before anything is cut: the pass read the store in slices.
  for (const std::string& origin : origins) {
    RepairOrigin(origin, "background pass " + std::to_string(check.passes));
  }
}

void Exchange::Impl::PollHeads() {
  last_head_poll = ExchangeClock::now();
  std::map<std::string, std::int64_t> now_heads;
  for (const SignedHead& head : store.Heads()) now_heads[head.origin] = head.seq;
  // The stored heads are the truth (this connection also sees its own open group): a repair by
  // `carehub verify --repair` in another process may have moved one back.
  local = now_heads;
  if (now_heads == announced) return;
  announced = now_heads;
  Notify();
}

void Exchange::Impl::Notify() {
  if (!router) return;
  const auto now = ExchangeClock::now();
  wire::Notify notify;
  notify.region = store.region();
  for (const auto& [origin, seq] : announced) notify.heads.push_back({origin, seq});
  notify.signed_heads = SignedHeads();
  std::map<std::uint8_t, wire::Frames> encoded;  // by protocol version
  for (auto it = clients.begin(); it != clients.end();) {
    if (now - it->second.last_seen > kClientForgotten) {
      it = clients.erase(it);
      continue;
    }
    auto [frames, fresh] = encoded.try_emplace(it->second.version);
    if (fresh) frames->second = wire::Encode(notify, it->second.version);
    SendFrames(*router, frames->second, &it->first);
    ++stats.notifies_sent;
    ++it;
  }
}

}  // namespace carehub
