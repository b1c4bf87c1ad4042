// The ROUTER side of an Exchange: answers HELLO, PULL, SCHEMA_REQUEST and PING from members
// (ZAP admitted them; their name is the connection's User-Id) and announces new heads.
#include "hub/exchange/exchange_internal.h"
#include "hub/store/bulk_load.h"
#include "hub/store/zstd_codec.h"
#include "schemas/codec.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
constexpr auto kClientForgotten = 30s;
// A damaged origin is re-verified and repaired at most this often when serving or gossip
// finds it (its own log cannot be cut, so it may stay damaged until an operator acts); the
// background check is bounded by its own pass instead.
constexpr auto kOriginRepairInterval = 60s;
// A member's REFUSED (version 7) is checked at most once per this interval, one at a time per
// member; more are dropped (counted): a member makes this hub verify at most one served batch a
// second, whatever it sends.
constexpr auto kRefusedCheckInterval = 1s;

// The serve worker's entries, kept from batch to batch: ReadChanges overwrites them in place, so
// a catch-up served batch after batch allocates and frees no string per entry (40,000 mallocs
// and frees per 20,000-entry batch before). Held for the thread's life: at most
// kMaxServedEntries entries (~10 MB at 20,000 entries of ~250-byte bodies); a longer batch (one
// ending at a signed head further away) is not kept.
std::vector<ChangeEntry>& ServedEntries() {
  thread_local std::vector<ChangeEntry> entries;
  return entries;
}
// The same for the bodies as stored (protocol version 6).
std::vector<CompressedBody>& ServedStored() {
  thread_local std::vector<CompressedBody> stored;
  return stored;
}

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
  try {
    if (version < wire::kOldestProtocolVersion || version > NewestVersion()) {
      version = NewestVersion();
      throw wire::WireError(wire::ErrorCode::kUnknownVersion,
                            "protocol version " + std::to_string(wire::VersionOf(frames)) +
                                " is not supported (this hub speaks " + std::to_string(version) +
                                ")");
    }
    auto answer = HandleRequest(routing_id, user, wire::Decode(frames), version);
    if (!answer) return;  // answered by the serve worker
    reply = std::move(*answer);
  } catch (const wire::WireError& e) {
    Log("peer " + (user.empty() ? std::string("?") : user) + ": " + e.what());
    reply = wire::ErrorReply{e.code(), "", e.what()};
  }
  SendFrames(*router, wire::Encode(reply, version), &routing_id);
}

// A PULL is read, checked and encoded by the serve worker on its own connection (committed
// data), so the loop keeps answering meanwhile; the answer is sent when it comes back.
void Exchange::Impl::PostPull(const std::string& routing_id, ConnectedClient& client,
                              const wire::Pull& pull) {
  const auto key = std::make_pair(pull.origin, pull.after_seq);
  if (!client.serving.insert(key).second) return;  // a Lazy Pirate repeat of one being read
  ++pulls_being_read;
  std::optional<SignPublicKey> signer;
  if (options.check_served) {
    if (pull.origin == store.region()) {
      signer = store.keys().sign_public();
    } else if (const auto member = members.find(pull.origin); member != members.end()) {
      signer = member->second.sign_key;
    }
  }
  const std::uint8_t version = client.version;
  reader->Post([this, routing_id, pull, signer, version, key](Store& s) {
    std::optional<std::string> damage;
    wire::Message reply = ServePull(s, pull, signer, damage, version);
    wire::Batch* const served = std::get_if<wire::Batch>(&reply);
    const bool batch = served != nullptr;
    const bool entries = batch && !served->entries.empty();
    auto frames = std::make_shared<wire::Frames>();
    try {
      *frames = wire::Encode(reply, version);
    } catch (const Error& e) {  // a version-4 BATCH beyond its bound (docs/PROTOCOL.md "Limits")
      *frames = wire::Encode(wire::ErrorReply{wire::ErrorCode::kInternal, pull.origin, e.what()},
                             version);
    }
    if (served && served->entries.size() <= kMaxServedEntries) {
      ServedEntries() = std::move(served->entries);  // back for the next batch
      ServedStored() = std::move(served->stored);
    }
    mailbox.Post([this, routing_id, frames, batch, entries, damage, key] {
      if (const auto it = clients.find(routing_id); it != clients.end()) {
        it->second.serving.erase(key);
      }
      --pulls_being_read;
      if (batch) ++stats.batches_served;
      if (entries) last_batch_moved = ExchangeClock::now();
      if (router) SendFrames(*router, *frames, &routing_id);
      if (damage) RepairOrigin(key.first, "a batch read for serving: " + *damage);
    });
  });
}

namespace {

// A member's reason text as a log shows it: printable ASCII only (it is the member's claim).
std::string Printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

}  // namespace

// Version 7: a member refused a BATCH this hub served without hashing its bodies. Its claim is
// not trusted: the range is checked here as a version-6 PULL of it is (ServePull's full check:
// every body decompressed and hashed, the chain, the head and its signature) on the serve
// worker, and repaired when damaged as a damaged batch read for serving is. Bound: one check
// per member at a time and at most one per kRefusedCheckInterval, each at most one served
// batch (kMaxServedEntries, or up to the nearest signed head); others are dropped and counted.
void Exchange::Impl::OnRefused(const std::string& user, const wire::Refused& refused) {
  const std::string range = "origin " + refused.origin + " seq " +
                            std::to_string(refused.after_seq + 1) + ".." +
                            std::to_string(refused.head_seq);
  const SignPublicKey* key = OriginKey(refused.origin);
  RefusedChecks& member = refused_checks[user];
  const auto now = ExchangeClock::now();
  if (!options.check_served || key == nullptr || member.checking || now < member.next) {
    std::lock_guard lock(check_mutex);
    ++check.refused_dropped;
    return;
  }
  member.checking = true;
  member.next = now + kRefusedCheckInterval;
  Log("member " + user + " refused the batch of " + range + " this hub served (" +
      Printable(refused.reason) + "); checking that range");
  const wire::Pull pull{refused.origin, refused.after_seq,
                        static_cast<std::uint32_t>(std::min<std::int64_t>(
                            refused.head_seq - refused.after_seq, kMaxServedEntries))};
  reader->Post([this, user, pull, key = *key, range](Store& s) {
    std::optional<std::string> damage;
    wire::Message reply = ServePull(s, pull, key, damage, /*version=*/5);  // the full check
    std::string outcome = "the range verifies here";
    if (auto* batch = std::get_if<wire::Batch>(&reply)) {
      if (!batch->entries.empty())
        outcome += " (seq " + std::to_string(pull.after_seq + 1) + ".." +
                   std::to_string(batch->head.seq) + ")";
      if (batch->entries.size() <= kMaxServedEntries) ServedEntries() = std::move(batch->entries);
    } else if (auto* error = std::get_if<wire::ErrorReply>(&reply); error && !damage) {
      outcome = "nothing to check: " + error->detail;
    }
    mailbox.Post([this, user, range, damage, outcome, origin = pull.origin] {
      refused_checks[user].checking = false;
      {
        std::lock_guard lock(check_mutex);
        ++(damage ? check.refused_damaged : check.refused_sound);
      }
      if (damage) {
        RepairOrigin(origin, "a batch member " + user + " refused (REFUSED): " + *damage);
        return;
      }
      Log("member " + user + " refused the batch of " + range + ": " + outcome +
          "; nothing repaired");
    });
  });
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

std::optional<wire::Message> Exchange::Impl::HandleRequest(const std::string& routing_id,
                                                           const std::string& user,
                                                           const wire::Message& request,
                                                           std::uint8_t version) {
  ConnectedClient& client = clients[routing_id];
  has_clients.store(true, std::memory_order_relaxed);
  client.name = user;
  client.last_seen = ExchangeClock::now();
  client.version = version;
  return std::visit(
      [&](const auto& m) -> std::optional<wire::Message> {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Hello>) {
          if (const auto refused = CheckHelloRegion(user, m.region)) {
            Log("peer " + user + ": " + *refused);
            return wire::ErrorReply{wire::ErrorCode::kUnauthorized, m.region, *refused};
          }
          OnGossip(user, m.signed_heads);
          return WelcomeMessage();
        } else if constexpr (std::is_same_v<T, wire::Pull>) {
          PostPull(routing_id, client, m);
          return std::nullopt;
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
          // While PULLs of this client are being read, a PONG acknowledges only the last PING
          // before them: a later nonce would tell the client they were lost.
          if (client.serving.empty()) client.answered_nonce = m.nonce;
          return wire::Pong{{client.answered_nonce}};
        } else if constexpr (std::is_same_v<T, wire::Hashes>) {
          OnProbeHashes(user, m);  // the answer to this hub's HASH_REQUEST: not answered
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, wire::Refused>) {
          OnRefused(user, m);  // checked on the serve worker: not answered
          return std::nullopt;
        } else {
          return wire::ErrorReply{wire::ErrorCode::kMalformed, "",
                                  "this message type is not a request"};
        }
      },
      request);
}

wire::Message Exchange::Impl::ServePull(Store& store, const wire::Pull& pull,
                                        const std::optional<SignPublicKey>& key,
                                        std::optional<std::string>& damage, std::uint8_t version) {
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
  const std::int64_t limit =
      pull.after_seq + std::clamp<std::int64_t>(pull.max_entries, 1, kMaxServedEntries);
  const std::optional<SignedHead> end =
      ServedHead(store, pull.origin, pull.after_seq, limit, *head);
  if (!end) return wire::ErrorReply{wire::ErrorCode::kInternal, pull.origin, "corrupt signed head"};
  batch.head = *end;
  // Into the worker's entries of the last batch (PostPull gives them back after encoding).
  batch.entries = std::move(ServedEntries());
  // Version 6 sends the bodies as stored: read along (the check below still hashes every body).
  // Version 7: read as stored and nothing decompressed; the client verifies every entry and
  // says what it refuses (REFUSED), so only what is cheap is checked here.
  if (version >= 6) batch.stored = std::move(ServedStored());
  const bool unhashed = version >= 7;
  try {
    if (unhashed) {
      store.ReadChangesAsStored(pull.origin, pull.after_seq, batch.head.seq - pull.after_seq,
                                batch.entries, batch.stored);
    } else {
      store.ReadChanges(pull.origin, pull.after_seq, batch.head.seq - pull.after_seq, batch.entries,
                        version >= 6 ? &batch.stored : nullptr);
    }
  } catch (const Error& e) {  // a stored entry_hash that is not 32 bytes
    if (e.kind() != ErrorKind::kCorruption) throw;
    damage = e.what();
    return DamagedReply(pull.origin);
  }
  if (version >= 6) AttachStored(pull, batch);
  if (batch.entries.empty() || batch.entries.front().seq != pull.after_seq + 1 ||
      batch.entries.back().seq != batch.head.seq) {
    ServedEntries() = std::move(batch.entries);
    return wire::ErrorReply{wire::ErrorCode::kGap, pull.origin,
                            "this hub does not hold seq " + std::to_string(pull.after_seq + 1) +
                                ".." + std::to_string(batch.head.seq) + " of origin " +
                                pull.origin};
  }
  if (!key) return batch;
  if (unhashed) {
    damage = CheckServedCheaply(batch, *key);
  } else {
    const ChainCursor from{batch.after_seq, batch.entries.front().prev_hash};
    // ReadChanges hashed every body it read: only the stored entry hashes are recomputed.
    damage = VerifyBatch(pull.origin, from, batch.entries, batch.head, *key,
                         EntryHashes::kRecordHashesHere);
  }
  if (damage) {
    ServedEntries() = std::move(batch.entries);
    return DamagedReply(pull.origin);
  }
  return batch;
}

void Exchange::Impl::AttachStored(const wire::Pull& pull, wire::Batch& batch) {
  std::set<std::int64_t> listed(pull.dictionaries.begin(), pull.dictionaries.end());
  std::set<std::int64_t> unsendable;
  for (std::size_t i = 0; i < batch.stored.size(); ++i) {
    CompressedBody& body = batch.stored[i];
    if (!body.dict) continue;
    const std::int64_t id = body.dict->id();
    if (listed.count(id)) continue;
    if (!unsendable.count(id) && batch.dictionaries.size() < wire::kMaxBatchDictionaries &&
        body.dict->dict.bytes().size() <= wire::kMaxDictionaryBytes) {
      batch.dictionaries.push_back(body.dict);
      listed.insert(id);
      continue;
    }
    unsendable.insert(id);
    // Its entry's body goes raw; read as stored (version 7), it is decompressed here first (a
    // frame that does not decompress goes as its stored bytes: the client refuses it).
    if (std::string& raw = batch.entries[i].body; raw.empty()) {
      thread_local zstd::Decompressor decompressor;
      try {
        decompressor.Decompress(body.dict->dict, body.frame, raw);
      } catch (const Error&) {
        raw = body.frame;
      }
    }
    body.dict.reset();
    body.frame.clear();
  }
}

void Exchange::Impl::RepairOrigin(const std::string& origin, const std::string& why,
                                  bool per_minute, bool cut) {
  const auto now = ExchangeClock::now();
  if (auto it = last_origin_repair.find(origin);
      per_minute && it != last_origin_repair.end() && now - it->second < kOriginRepairInterval) {
    return;
  }
  last_origin_repair[origin] = now;
  // On the writer: verified in one snapshot (after the open group is committed) and repaired
  // in one write transaction, while the loop keeps answering.
  if (origin == store.region()) own_check_pending = true;
  ++repair_checks_pending;
  const bool may_cut = relay_repair_cuts;
  writer->Post([this, origin, why, cut, may_cut](Store& s) {
    CommitGroup(s);
    VerifyReport report = VerifyStore(s, {.origin = origin, .integrity_check = false});
    const std::optional<ChainCursor> own = OwnDamage(s, report.problems);
    // A relayed log is proven and rewritten from a member's batch instead of cut: its chain
    // problems, and records reading entries from the damage on, are left to that (verified
    // again after the rewrite); other records rows are repaired here as before.
    const std::optional<ChainCursor> relayed =
        cut ? std::nullopt : RelayedDamage(s, origin, report.problems);
    const std::vector<StoreProblem> found = report.problems;
    bool not_cut = false;  // a log only a cut repairs, and cutting is not allowed
    if (relayed) {
      std::erase_if(report.problems, [&](const StoreProblem& p) {
        return p.origin == origin && (p.kind == ProblemKind::kChain || p.seq > relayed->seq);
      });
    } else if (!may_cut && origin != s.region()) {
      const std::size_t all = report.problems.size();
      std::erase_if(report.problems, [&](const StoreProblem& p) {
        return p.kind == ProblemKind::kChain || p.kind == ProblemKind::kHead;
      });
      not_cut = report.problems.size() != all;
    }
    const auto head = s.Head(origin);
    const std::int64_t held = head ? head->seq : 0;
    RepairReport repair;
    bool busy = false;
    if (!report.problems.empty()) {
      try {
        repair = RepairStore(s, report);
      } catch (const sqlite::SqliteError& e) {
        if (!e.busy()) throw;
        busy = true;
      }
    }
    mailbox.Post([this, origin, why, found, repair, busy, own, relayed, held, not_cut] {
      if (origin == store.region()) own_check_pending = false;
      --repair_checks_pending;
      if (not_cut) {
        repairs_not_done[origin] =
            "only cutting its log back repairs it (a damaged signed head, or damage no member's "
            "batch reached)";
      }
      if (own) StartOwnRepair(*own);
      if (relayed && !busy) StartRelayRepair(origin, *relayed, held);
      if (busy) {
        // Another writer holds the store: tried again by the next check that finds the damage.
        last_origin_repair.erase(origin);
        Log("store busy: the repair of origin " + origin + " is tried again later");
        return;
      }
      OnRepaired(origin, found, repair, why);
    });
  });
}

void Exchange::Impl::OnRepaired(const std::string& origin, const std::vector<StoreProblem>& found,
                                const RepairReport& repair, const std::string& why) {
  if (found.empty()) {
    Log("store check (" + why + "): origin " + origin + " verifies now; nothing to repair");
    return;
  }
  {
    std::lock_guard lock(check_mutex);
    check.sound = false;
    ++check.repairs;
  }
  Log("store check (" + why + "): " + std::to_string(found.size()) +
      " problem(s), the first: " + ProblemLine(found.front()));
  for (const auto& [cut, keep] : repair.logs_cut) {
    Log("repair: origin " + cut + " cut back to its signed head " + std::to_string(keep) +
        "; pulling the rest again from members");
    local[cut] = keep;
    applied_local.erase(cut);
    queued.erase(cut);
    in_flight.erase(cut);
  }
  if (repair.records_restored > 0) {
    Log("repair: " + std::to_string(repair.records_restored) + " record(s) rewritten from the log");
  }
  for (const std::string& line : repair.unrepaired) Log("repair: not repaired: " + line);
  verifier.reset();  // a pass in progress may have read what the repair changed
}

// A bulk load (a first ingest, in this or another process) drops the record indexes until its
// end: the check's lookups by id would each scan `records`, on this loop thread. The check waits
// for the indexes and says so once.
bool Exchange::Impl::RecordIndexesReady() {
  const bool ready = RecordIndexesPresent(verify_store->db());
  if (ready == !verify_paused) return ready;
  verify_paused = !ready;
  Log(ready ? "store check: resumed, the record indexes are back"
            : "store check: paused while a bulk load has the record indexes dropped");
  return ready;
}

void Exchange::Impl::VerifyStep() {
  if (options.verify_rows <= 0) return;
  const auto now = ExchangeClock::now();
  // Yields to serving and applying (a catch-up served to a member is CPU taken from that member
  // on a shared machine, one applied competes with this hub's writer), at a bounded pace: one
  // slice per verify_busy_interval however busy. Busy: a PULL is being read or a batch written,
  // or a BATCH with entries was sent or applied within that interval.
  const bool busy = pulls_being_read > 0 || writes_outstanding > 0 ||
                    now - last_batch_moved < options.verify_busy_interval;
  const auto interval = busy ? std::max(options.verify_interval, options.verify_busy_interval)
                             : options.verify_interval;
  if (now - last_verify_step < interval) return;
  last_verify_step = now;
  // Its own connection: it reads committed state in short read transactions, beside the
  // exchange's open group.
  if (!verify_store) verify_store.emplace(Store::Open(store.dir()));
  if (!RecordIndexesReady()) return;
  if (!verifier) {
    verifier.emplace(options.verify_rows);
    acted_this_pass.clear();
  }
  const bool finished = verifier->Step(*verify_store);
  {
    std::lock_guard lock(check_mutex);
    ++check.slices;
    if (busy) ++check.slices_while_busy;
  }
  // Acted on as soon as a slice finds an origin's first problem, not at the end of the pass:
  // damage is detected within one pass of the cursor reaching it (docs/PROTOCOL.md).
  const std::vector<StoreProblem> found = finished ? verifier->last_pass() : verifier->current();
  // Passes of this serve (a repair restarts the verifier, the count goes on).
  if (finished) ++passes_done;
  const std::int64_t pass = passes_done + (finished ? 0 : 1);
  if (finished) {
    std::lock_guard lock(check_mutex);
    check.passes = passes_done;
    check.problems = static_cast<std::int64_t>(found.size());
    if (found.empty()) check.sound = true;
  }
  std::map<std::string, std::string> first;  // origin -> its first problem in this pass
  for (const StoreProblem& p : found) {
    if (p.origin.empty()) {
      if (finished) Log("store check: " + ProblemLine(p) + " (run carehub verify --repair)");
    } else if (!acted_this_pass.count(p.origin)) {
      first.try_emplace(p.origin, ProblemLine(p));
    }
  }
  if (finished) acted_this_pass.clear();
  // Re-checked in one snapshot before anything is cut: the pass read the store in slices. New
  // damage is repaired at once; the same damage again (not repairable here) once a minute.
  for (const auto& [origin, line] : first) {
    if (!finished) acted_this_pass.insert(origin);
    std::string& last = last_pass_problem[origin];
    RepairOrigin(origin, "background pass " + std::to_string(pass), line == last);
    last = line;
  }
}

void Exchange::Impl::PollHeads() {
  last_head_poll = ExchangeClock::now();
  std::map<std::string, std::int64_t> now_heads;
  for (const SignedHead& head : store.Heads()) now_heads[head.origin] = head.seq;
  // The stored heads are the truth, with what the writer applied beyond them in its open group:
  // a repair by `carehub verify --repair` in another process may have moved one back.
  local = now_heads;
  for (const auto& [origin, seq] : applied_local) local[origin] = std::max(local[origin], seq);
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
  has_clients.store(!clients.empty(), std::memory_order_relaxed);
}

}  // namespace carehub
