#include "hub/exchange/exchange.h"

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <sstream>
#include <thread>

#include "hub/exchange/exchange_internal.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// Lazy Pirate: a PULL unanswered this long is sent again, the wait doubling per retry of the
// origin up to kPullTimeoutMax (reset by any BATCH of it). A lost PULL is usually noticed
// sooner, by a PONG to a later PING (see OnPong).
constexpr auto kPullTimeoutFirst = 2s;
constexpr auto kPullTimeoutMax = 16s;
constexpr auto kRejectBackoff = 5s;
constexpr auto kBusyBackoff = 1s;
// Group commit bounds: an open group holds the write lock, and an ingest waits at most its
// busy_timeout (5 s) for it.
constexpr auto kGroupMaxAge = 1s;
constexpr std::int64_t kGroupMinEntries = 20000;
constexpr std::int64_t kGroupMaxEntries = 400000;
constexpr auto kMaxBackoff = 8000ms;
constexpr auto kMemberRefresh = 500ms;  // a removed member is cut off within about this

double Seconds(ExchangeClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

bool ReceiveFrames(zmq::socket_t& socket, wire::Frames& frames, std::string* user_id) {
  frames.clear();
  zmq::message_t part;
  if (!socket.recv(part, zmq::recv_flags::dontwait)) return false;
  if (user_id) user_id->clear();
  frames.push_back(part.to_string());
  while (part.more()) {
    if (!socket.recv(part, zmq::recv_flags::none)) break;
    // A ROUTER's routing-id frame is made locally and carries no metadata (zmq_msg_gets fails
    // with EINVAL); the ZAP User-Id is on the frames that came from the peer.
    if (user_id && user_id->empty()) {
      const char* user = zmq_msg_gets(part.handle(), "User-Id");
      if (user != nullptr) *user_id = user;
    }
    frames.push_back(part.to_string());
  }
  return true;
}

void SendFrames(zmq::socket_t& socket, const wire::Frames& frames, const std::string* routing_id) {
  // Never block the loop: a peer whose queue is full loses the message and re-asks on timeout.
  if (routing_id)
    socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket.send(zmq::buffer(frames[i]), flags | zmq::send_flags::dontwait);
  }
}

Exchange::Impl::Impl(const std::filesystem::path& dir, ExchangeOptions opts)
    : options(std::move(opts)),
      store(Store::Open(dir)),
      bulk(std::make_unique<sqlite::BulkWriteMode>(store.db(), 64)),
      context(1) {
  store_rows = store.RecordCountEstimate();
  // Writer schemas learnt from peers in earlier runs.
  {
    sqlite::Statement schemas(store.db(), "SELECT fingerprint, json FROM schemas");
    while (schemas.Step()) {
      const auto fingerprint = static_cast<std::uint64_t>(schemas.ColumnInt64(0));
      if (SchemaJsonByFingerprint(fingerprint)) continue;
      try {
        RegisterWriterSchema(schemas.ColumnText(1));
      } catch (const Error& e) {
        Log(std::string("ignoring a stored schema: ") + e.what());
      }
    }
  }
  if (options.listen) {
    zap = std::make_unique<ZapHandler>(context,
                                       [this](const std::string& key, const std::string& address) {
                                         ++denied;
                                         Log("refused a connection from " + address +
                                             ": CURVE key " + key + " is not a federation member");
                                       });
    OpenRouter(*options.listen);
  }
  RefreshMembers();
  for (const auto& [region, head] : local) announced[region] = head;
}

Exchange::Impl::~Impl() {
  for (Link& link : links) link.socket.reset();
  router.reset();
  if (zap) zap->Stop();
}

void Exchange::Impl::Log(const std::string& line) const {
  if (options.log) {
    options.log(line);
  } else {
    std::cerr << "exchange: " << line << "\n";
  }
}

std::int64_t Exchange::Impl::LocalSeq(const std::string& origin) const {
  auto it = local.find(origin);
  return it == local.end() ? 0 : it->second;
}

void Exchange::Impl::OpenRouter(const std::string& endpoint) {
  router = std::make_unique<zmq::socket_t>(context, zmq::socket_type::router);
  router->set(zmq::sockopt::linger, 0);
  // IPv6 only when the address is one (tcp://[::1]:port): with ZMQ_IPV6 an IPv4 bind reports
  // its endpoint as tcp://[::ffff:127.0.0.1]:port, which older members could not dial.
  if (endpoint.find('[') != std::string::npos) router->set(zmq::sockopt::ipv6, 1);
  router->set(zmq::sockopt::zap_domain, "carehub");
  router->set(zmq::sockopt::curve_server, 1);
  router->set(zmq::sockopt::curve_secretkey, store.keys().curve_secret());
  router->set(zmq::sockopt::sndhwm, 1000);
  router->set(zmq::sockopt::rcvhwm, 1000);
  // Rebinding the same port right after closing it (ReopenRouter) may find the old listener
  // not yet closed by ZeroMQ's I/O thread: retry for up to a second.
  for (int attempt = 0;; ++attempt) {
    try {
      router->bind(endpoint);
      return;
    } catch (const zmq::error_t& e) {
      if (e.num() != EADDRINUSE || attempt >= 100) {
        throw Error::IoError("cannot listen on " + endpoint + ": " + e.what());
      }
      std::this_thread::sleep_for(10ms);
    }
  }
}

// ZeroMQ cannot drop one client of a ROUTER socket: when a member is removed or its CURVE key
// changes, the listening socket is closed and bound again. Every member reconnects (DEALERs do
// so by themselves) and ZAP admits only the current members, so the removed one is out.
void Exchange::Impl::ReopenRouter() {
  if (!router) return;
  const std::string endpoint = router->get(zmq::sockopt::last_endpoint);
  router.reset();
  clients.clear();
  OpenRouter(endpoint);
}

// Links to a removed member are retired (closed, never dialled again); a changed key or
// endpoint closes the link so that it is dialled again with the new one.
void Exchange::Impl::RetireOrRedialLinks(const std::map<std::string, Peer>& now_by_name) {
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& link = links[i];
    const auto it = now_by_name.find(link.peer.name);
    const bool removed = it == now_by_name.end() || !it->second.endpoint;
    if (!removed && it->second == link.peer) continue;
    if (removed && link.retired) continue;
    link.socket.reset();
    link.welcomed = false;
    link.retired = removed;
    if (!removed) {
      link.peer = it->second;
      link.next_dial = ExchangeClock::now();
    }
    for (auto f = in_flight.begin(); f != in_flight.end();) {
      f = f->second.link == i ? in_flight.erase(f) : std::next(f);
    }
  }
}

void Exchange::Impl::RefreshMembers() {
  last_member_refresh = ExchangeClock::now();
  std::map<std::string, std::string> keys;
  std::map<std::string, Peer> by_name;
  bool revoked = false;  // a member gone or its CURVE key changed: drop its connections
  std::map<std::string, std::string> old_keys;
  for (const auto& [region, peer] : members) old_keys[peer.name] = peer.curve_key;
  members.clear();
  for (Peer& peer : ListPeers(store.db())) {
    keys[peer.curve_key] = peer.name;
    by_name[peer.name] = peer;
    const bool dialled = peer.endpoint && (!options.only_peer || *options.only_peer == peer.name);
    bool known = false;
    for (Link& link : links) {
      if (link.peer.name != peer.name) continue;
      known = true;
      if (link.retired && dialled) link.retired = false;  // added again
    }
    if (dialled && !known) {
      Link link;
      link.peer = peer;
      links.push_back(std::move(link));
    }
    members[peer.region] = std::move(peer);
  }
  for (const auto& [name, key] : old_keys) {
    const auto it = by_name.find(name);
    revoked = revoked || it == by_name.end() || it->second.curve_key != key;
  }
  if (zap) zap->SetMembers(std::move(keys));
  RetireOrRedialLinks(by_name);
  if (revoked) {
    Log("federation members changed: closing every peer connection; only current members "
        "reconnect");
    ReopenRouter();
  }
  local.clear();
  for (const SignedHead& head : store.Heads()) local[head.origin] = head.seq;
}

void Exchange::Impl::Dial(Link& link) {
  const auto now = ExchangeClock::now();
  link.socket = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
  zmq::socket_t& s = *link.socket;
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::ipv6, 1);  // a member's endpoint may be IPv6; IPv4 ones work as before
  s.set(zmq::sockopt::curve_serverkey, link.peer.curve_key);
  s.set(zmq::sockopt::curve_publickey, store.keys().curve_public());
  s.set(zmq::sockopt::curve_secretkey, store.keys().curve_secret());
  s.set(zmq::sockopt::reconnect_ivl, 100);
  s.set(zmq::sockopt::reconnect_ivl_max, 5000);
  s.set(zmq::sockopt::sndhwm, 100);
  s.set(zmq::sockopt::rcvhwm, 100);
  s.connect(*link.peer.endpoint);
  link.welcomed = false;
  link.dialled = link.last_recv = link.last_ping = link.last_hello = now;
  link.schema_requested.clear();
  SendTo(link, HelloMessage());
}

wire::Hello Exchange::Impl::HelloMessage() const {
  wire::Hello hello;
  hello.region = store.region();
  for (const auto& [origin, seq] : local) hello.heads.push_back({origin, seq});
  return hello;
}

void Exchange::Impl::SendTo(Link& link, const wire::Message& message) {
  if (link.socket) SendFrames(*link.socket, wire::Encode(message));
}

bool Exchange::Impl::Step(milliseconds wait) {
  std::vector<zmq::pollitem_t> items;
  std::vector<std::size_t> owners;  // index into links, or SIZE_MAX for the router
  if (router) {
    items.push_back({router->handle(), 0, ZMQ_POLLIN, 0});
    owners.push_back(SIZE_MAX);
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (!links[i].socket) continue;
    items.push_back({links[i].socket->handle(), 0, ZMQ_POLLIN, 0});
    owners.push_back(i);
  }
  if (items.empty()) {
    std::this_thread::sleep_for(wait);
  } else {
    try {
      zmq::poll(items.data(), items.size(), wait);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;  // a signal (SIGTERM to stop) interrupts the wait
      return false;
    }
  }
  bool busy = false;
  wire::Frames frames;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (!(items[k].revents & ZMQ_POLLIN)) continue;
    // Drain a bounded number per socket so one busy peer cannot starve the others.
    for (int n = 0; n < 64; ++n) {
      if (owners[k] == SIZE_MAX) {
        std::string user;
        if (!ReceiveFrames(*router, frames, &user)) break;
        if (frames.empty()) continue;
        const std::string routing_id = frames.front();
        frames.erase(frames.begin());
        OnRouterMessage(routing_id, user, frames);
      } else {
        Link& link = links[owners[k]];
        if (!link.socket || !ReceiveFrames(*link.socket, frames, nullptr)) break;
        OnLinkMessage(owners[k], frames);
      }
      busy = true;
    }
  }
  if (group && (!busy || ExchangeClock::now() - group_started >= kGroupMaxAge)) CommitGroup();
  Timers();
  SchedulePulls();
  stats.connections_denied = denied.load();
  return busy;
}

void Exchange::Impl::OnLinkMessage(std::size_t index, const wire::Frames& frames) {
  Link& link = links[index];
  link.last_recv = ExchangeClock::now();
  link.backoff = 250ms;
  link.unreachable = false;
  wire::Message message;
  try {
    message = wire::Decode(frames);
  } catch (const wire::WireError& e) {
    Log("peer " + link.peer.name + " sent an undecodable message: " + e.what());
    return;
  }
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wire::Welcome> || std::is_same_v<T, wire::Notify>) {
          link.welcomed = true;
          for (const auto& head : m.heads) link.advertised[head.origin] = head.seq;
        } else if constexpr (std::is_same_v<T, wire::Batch>) {
          OnBatch(index, std::move(m));
        } else if constexpr (std::is_same_v<T, wire::Schema>) {
          try {
            const std::uint64_t fingerprint = RegisterWriterSchema(m.json);
            if (fingerprint != m.fingerprint) {
              Log("peer " + link.peer.name + " sent a schema whose fingerprint does not match");
              return;
            }
            std::string name = "unknown";
            if (auto pos = m.json.find("\"name\""); pos != std::string::npos) {
              const auto start = m.json.find('"', m.json.find(':', pos) + 1);
              const auto end = m.json.find('"', start + 1);
              if (start != std::string::npos && end != std::string::npos) {
                name = m.json.substr(start + 1, end - start - 1);
              }
            }
            store.RememberSchema(fingerprint, name, m.json);
          } catch (const Error& e) {
            Log("peer " + link.peer.name + " sent an unusable schema: " + e.what());
            return;
          }
          // Retry the batches that waited for it.
          std::vector<ParkedBatch> waiting;
          waiting.swap(parked);
          for (ParkedBatch& p : waiting) OnBatch(p.link, std::move(p.batch));
        } else if constexpr (std::is_same_v<T, wire::ErrorReply>) {
          Log("peer " + link.peer.name + " answered " + std::string(wire::ErrorCodeName(m.code)) +
              (m.origin.empty() ? "" : " for origin " + m.origin) + ": " + m.detail);
          if (m.code == wire::ErrorCode::kInternal) {
            // e.g. the member found its copy damaged: pulled from another member meanwhile.
            problems.push_back("peer " + link.peer.name + " could not serve origin " + m.origin +
                               ": " + m.detail);
          }
          if (!m.origin.empty()) {
            in_flight.erase(m.origin);
            link.blocked[m.origin] = ExchangeClock::now() + kRejectBackoff;
            link.advertised.erase(m.origin);
          }
        } else if constexpr (std::is_same_v<T, wire::Pong>) {
          OnPong(index, m.nonce);
        } else {
          Log("peer " + link.peer.name + " sent an unexpected message type");
        }
      },
      message);
}

void Exchange::Impl::OnBatch(std::size_t index, wire::Batch batch) {
  Link& link = links[index];
  const std::string origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.link == index && it->second.after == batch.after_seq) {
    in_flight.erase(it);
  }
  pull_retries.erase(origin);
  auto reject = [&](const std::string& why) {
    ++stats.batches_rejected;
    link.blocked[origin] = ExchangeClock::now() + kRejectBackoff;
    const std::string line =
        "rejected batch of origin " + origin + " (seq " + std::to_string(batch.after_seq + 1) +
        ".." + std::to_string(batch.head.seq) + ") from peer " + link.peer.name + ": " + why;
    Log(line);
    problems.push_back(line);
  };
  if (origin == store.region()) return reject("it claims this hub's own origin");
  auto member = members.find(origin);
  if (member == members.end()) return reject("origin is not a federation member");
  const std::int64_t held = LocalSeq(origin);
  if (batch.entries.empty()) {
    if (batch.head.seq > held) reject("empty batch below an unheld head");
    return;
  }
  if (batch.entries.back().seq <= held) return;  // a repeat: everything is held already
  if (batch.entries.front().seq > held + 1) {
    // A gap (e.g. an answer to an older pull): ask again from what is held.
    link.advertised[origin] = std::max(link.advertised[origin], batch.head.seq);
    return;
  }
  // Records written with a schema this hub does not know: fetch it first.
  std::set<std::uint64_t> missing;
  for (const ChangeEntry& e : batch.entries) {
    const auto fingerprint = SingleObjectFingerprint(e.body);
    if (fingerprint && !SchemaJsonByFingerprint(*fingerprint)) missing.insert(*fingerprint);
  }
  if (!missing.empty()) {
    for (std::uint64_t fingerprint : missing) {
      if (link.schema_requested.insert(fingerprint).second) {
        SendTo(link, wire::SchemaRequest{fingerprint});
      }
    }
    in_flight[origin] = {index, batch.after_seq, ExchangeClock::now()};  // hold the origin
    parked.push_back({index, std::move(batch)});
    return;
  }
  // Pipelining: ask for the next batch before applying this one, so that the peer reads and
  // sends it while this hub verifies and writes. Should this batch be rejected, the next one
  // does not continue the stored chain and is treated as a gap (asked again from the cursor).
  if (link.advertised[origin] > batch.head.seq && !in_flight.count(origin) &&
      batch.head.seq == batch.entries.back().seq) {
    in_flight[origin] = {index, batch.head.seq, ExchangeClock::now()};
    SendTo(link, wire::Pull{origin, batch.head.seq, options.max_batch});
  }
  ApplyBatch(index, batch);
}

void Exchange::Impl::ApplyBatch(std::size_t index, const wire::Batch& batch) {
  Link& link = links[index];
  const std::string& origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.after <= batch.after_seq) {
    in_flight.erase(it);  // (a pipelined pull for the batch after this one stays)
  }
  ApplyResult result;
  try {
    if (!group) BeginGroup();  // BEGIN IMMEDIATE: may wait for another writer, then BUSY
    result = store.ApplyRemoteBatch(origin, batch.entries, batch.head, members.at(origin).sign_key);
  } catch (const sqlite::SqliteError& e) {
    if (!e.busy()) throw;
    // Another writer (an ingest batch) held the write lock past busy_timeout: nothing was
    // written and the cursor is unchanged, so the origin is simply pulled again a bit later.
    ++stats.batches_deferred;
    link.deferred[origin] = ExchangeClock::now() + kBusyBackoff;
    Log("store busy (another writer holds the lock): batch of origin " + origin + " (seq " +
        std::to_string(batch.entries.front().seq) + ".." + std::to_string(batch.head.seq) +
        ") from peer " + link.peer.name + " will be pulled again");
    return;
  } catch (const Error& e) {
    result.rejected = std::string("undecodable record: ") + ErrorKindName(e.kind()).data();
  }
  group_entries += result.applied;
  store_rows += result.applied;
  // Checked here, not only once per Step: while catching up, the next batch is already
  // waiting when one is applied, so a single Step can drain a long run of batches.
  if (group_entries >= GroupTarget() || ExchangeClock::now() - group_started >= kGroupMaxAge) {
    CommitGroup();
  }
  if (result.rejected) {
    ++stats.batches_rejected;
    link.blocked[origin] = ExchangeClock::now() + kRejectBackoff;
    const std::string line = "rejected batch of origin " + origin + " (seq " +
                             std::to_string(batch.entries.front().seq) + ".." +
                             std::to_string(batch.head.seq) + ") from peer " + link.peer.name +
                             ": " + *result.rejected;
    Log(line);
    problems.push_back(line);
    return;
  }
  const auto now = ExchangeClock::now();
  local[origin] = std::max(LocalSeq(origin), batch.head.seq);
  ++stats.batches_applied;
  stats.entries_applied += result.applied;
  OriginProgress& p = progress[origin];
  p.origin = origin;
  p.applied += result.applied;
  p.seq = local[origin];
  // From the start of the run (a single batch still has a rate).
  if (!first_apply.count(origin)) first_apply[origin] = started;
  p.seconds = Seconds(now - first_apply[origin]);
}

void Exchange::Impl::BeginGroup() {
  group.emplace(store.db());
  group_entries = 0;
  group_started = ExchangeClock::now();
}

void Exchange::Impl::CommitGroup() {
  if (!group) return;
  group->Commit();
  group.reset();
  if (group_entries > 0) bulk->Poke();  // outside any transaction
  group_entries = 0;
}

std::int64_t Exchange::Impl::GroupTarget() const {
  // At least one pull's worth; smaller pulls (--max-batch) also mean smaller groups.
  const std::int64_t least = std::min<std::int64_t>(options.max_batch, kGroupMinEntries);
  return GrowingBatchSize(store_rows, least, kGroupMaxEntries);
}

void Exchange::Impl::Timers() {
  const auto now = ExchangeClock::now();
  if (now - last_member_refresh > kMemberRefresh) RefreshMembers();
  if (now - last_head_poll > options.head_poll) PollHeads();
  for (Link& link : links) {
    if (link.retired) continue;
    if (!link.socket) {
      if (now >= link.next_dial) Dial(link);
      continue;
    }
    if (now - link.last_recv > options.peer_timeout) {
      // Silent peer: drop the connection and its pulls, re-dial after a growing pause.
      if (!link.unreachable) Log("peer " + link.peer.name + " is silent; reconnecting");
      link.unreachable = true;
      link.socket.reset();
      link.welcomed = false;
      for (auto it = in_flight.begin(); it != in_flight.end();) {
        it = &links[it->second.link] == &link ? in_flight.erase(it) : std::next(it);
      }
      link.next_dial = now + link.backoff;
      link.backoff =
          std::min(link.backoff * 2, std::chrono::duration_cast<milliseconds>(kMaxBackoff));
      continue;
    }
    if (now - link.last_ping > options.heartbeat) {
      link.last_ping = now;
      SendTo(link, wire::Ping{static_cast<std::uint64_t>(now.time_since_epoch().count())});
    }
    if (link.welcomed && now - link.last_hello > options.rehello) {
      link.last_hello = now;
      SendTo(link, HelloMessage());
    }
  }
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    int& retries = pull_retries[it->first];
    const auto timeout = std::min<ExchangeClock::duration>(
        kPullTimeoutFirst * (1 << std::min(retries, 4)), kPullTimeoutMax);
    if (now - it->second.sent > timeout) {
      ++retries;
      it = in_flight.erase(it);  // SchedulePulls sends it again
    } else {
      ++it;
    }
  }
}

void Exchange::Impl::OnPong(std::size_t index, std::uint64_t nonce) {
  Link& link = links[index];
  if (!link.welcomed &&
      nonce > static_cast<std::uint64_t>(link.last_hello.time_since_epoch().count())) {
    // The HELLO went to a peer that is gone (the connection was re-made underneath): again.
    link.last_hello = ExchangeClock::now();
    SendTo(link, HelloMessage());
  }
  // The nonce is the steady-clock time the PING was sent. A server answers one connection's
  // requests in order, so a PONG to a PING sent after a PULL that is still unanswered means
  // that PULL (or its answer) was lost: the peer restarted, or dropped it at its high-water
  // mark. It is sent again at once instead of after its timeout.
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    const auto sent = static_cast<std::uint64_t>(it->second.sent.time_since_epoch().count());
    const bool parked_here = std::any_of(parked.begin(), parked.end(), [&](const ParkedBatch& p) {
      return p.batch.head.origin == it->first;
    });
    if (it->second.link == index && nonce > sent && !parked_here) {
      ++stats.pulls_lost;
      it = in_flight.erase(it);
    } else {
      ++it;
    }
  }
}

void Exchange::Impl::SchedulePulls() {
  const auto now = ExchangeClock::now();
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& link = links[i];
    if (!link.socket || !link.welcomed) continue;
    for (const auto& [origin, seq] : link.advertised) {
      if (static_cast<int>(in_flight.size()) >= options.max_in_flight) return;
      if (origin == store.region() || !members.count(origin) || in_flight.count(origin)) continue;
      if (seq <= LocalSeq(origin)) continue;
      if (auto b = link.blocked.find(origin); b != link.blocked.end() && now < b->second) continue;
      if (auto d = link.deferred.find(origin); d != link.deferred.end() && now < d->second) {
        continue;
      }
      const std::int64_t after = LocalSeq(origin);
      in_flight[origin] = {i, after, now};
      SendTo(link, wire::Pull{origin, after, options.max_batch});
    }
  }
}

bool Exchange::Impl::CaughtUp() const {
  if (!in_flight.empty() || !parked.empty()) return false;
  const auto now = ExchangeClock::now();
  for (const Link& link : links) {
    if (link.unreachable || link.retired) continue;
    if (!link.welcomed) return false;
    for (const auto& [origin, seq] : link.advertised) {
      if (origin == store.region() || !members.count(origin)) continue;
      if (auto b = link.blocked.find(origin); b != link.blocked.end() && now < b->second) continue;
      if (seq > LocalSeq(origin)) return false;
    }
  }
  return true;
}

Exchange::Exchange(const std::filesystem::path& dir, ExchangeOptions options)
    : impl_(std::make_unique<Impl>(dir, std::move(options))) {}

Exchange::~Exchange() = default;

std::string Exchange::endpoint() const {
  return impl_->router ? impl_->router->get(zmq::sockopt::last_endpoint) : "";
}

SyncReport Exchange::SyncOnce(milliseconds timeout, const std::atomic<bool>* stop) {
  Impl& s = *impl_;
  const auto deadline = ExchangeClock::now() + timeout;
  SyncReport report;
  while (ExchangeClock::now() < deadline && !(stop && *stop)) {
    s.Step(20ms);
    if (s.CaughtUp()) {
      report.caught_up = true;
      break;
    }
  }
  s.CommitGroup();
  for (const Link& link : s.links) {
    if (link.unreachable || !link.welcomed) {
      report.problems.push_back("peer " + link.peer.name + " (" + *link.peer.endpoint +
                                ") did not answer");
    }
  }
  report.problems.insert(report.problems.end(), s.problems.begin(), s.problems.end());
  report.origins = progress();
  return report;
}

void Exchange::Serve(const std::atomic<bool>& stop) {
  while (!stop) {
    impl_->Step(std::chrono::milliseconds(50));
    impl_->VerifyStep();
    impl_->PublishLinkStates();
  }
  impl_->CommitGroup();
}

void Exchange::Impl::PublishLinkStates() {
  const auto now = ExchangeClock::now();
  const auto since = [&](ExchangeClock::time_point t) {
    return t == ExchangeClock::time_point{} ? -1.0 : std::chrono::duration<double>(now - t).count();
  };
  std::map<std::string, PeerLinkState> by_name;
  for (const auto& [region, peer] : members) {
    PeerLinkState& state = by_name[peer.name];
    state.name = peer.name;
    state.region = peer.region;
  }
  for (const Link& link : links) {
    PeerLinkState& state = by_name[link.peer.name];
    state.name = link.peer.name;
    state.region = link.peer.region;
    state.dialled = true;
    state.connected =
        link.welcomed && !link.unreachable && now - link.last_recv < options.peer_timeout;
    state.last_heard_seconds = link.welcomed ? since(link.last_recv) : -1.0;
    state.advertised = link.advertised;
  }
  for (const auto& [routing_id, client] : clients) {
    auto it = by_name.find(client.name);
    if (it == by_name.end()) continue;
    const double heard = since(client.last_seen);
    if (heard >= 0 && heard * 1000 < static_cast<double>(options.peer_timeout.count())) {
      it->second.connected = true;
    }
    if (it->second.last_heard_seconds < 0 ||
        (heard >= 0 && heard < it->second.last_heard_seconds)) {
      it->second.last_heard_seconds = heard;
    }
  }
  std::vector<PeerLinkState> out;
  for (auto& [name, state] : by_name) out.push_back(std::move(state));
  batches_rejected_shared = stats.batches_rejected;
  std::lock_guard lock(link_states_mutex);
  link_states = std::move(out);
}

std::vector<PeerLinkState> Exchange::LinkStates() const {
  std::lock_guard lock(impl_->link_states_mutex);
  return impl_->link_states;
}

std::int64_t Exchange::BatchesRejected() const { return impl_->batches_rejected_shared.load(); }

StoreCheckState Exchange::StoreCheck() const {
  std::lock_guard lock(impl_->check_mutex);
  return impl_->check;
}

ExchangeStats Exchange::stats() const { return impl_->stats; }

std::vector<OriginProgress> Exchange::progress() const {
  std::vector<OriginProgress> out;
  for (const auto& [origin, p] : impl_->progress) out.push_back(p);
  return out;
}

}  // namespace carehub
