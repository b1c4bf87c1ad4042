#include "hub/exchange/exchange.h"

#include <algorithm>
#include <cerrno>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "hub/exchange/exchange_internal.h"
#include "schemas/codec.h"
#include "schemas/error.h"

// Set-up of an Exchange (store, router, members), the poll loop (Step) and message dispatch, and
// the public Exchange API. Liveness: exchange_links.cc; pull/apply: exchange_pull.cc; serving:
// exchange_serve.cc.
namespace carehub {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// Messages read from one socket per turn, so one busy peer cannot starve the others.
constexpr int kDrainPerSocket = 64;
// The exchange's connection waits at most this long for another writer (an ingest holding the
// write lock for seconds): a batch that cannot get the lock is deferred and pulled again
// (kBusyBackoff), so the loop keeps answering heartbeats and pulls meanwhile.
constexpr auto kWriteLockWait = 100ms;

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
    : options(std::move(opts)), store(Store::Open(dir)), context(1) {
  if (options.protocol_version != 0 && (options.protocol_version < wire::kOldestProtocolVersion ||
                                        options.protocol_version > wire::kProtocolVersion)) {
    throw Error::InvalidInput("exchange: protocol version " +
                              std::to_string(options.protocol_version) + " is not spoken");
  }
  store.db().Exec("PRAGMA busy_timeout=" + std::to_string(kWriteLockWait.count()));
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
  StartWorkers();
}

void Exchange::Impl::StartWorkers() {
  HoldDictionaries(LoadBodyDictionaries(store.db().handle()));
  const int busy_ms = static_cast<int>(kWriteLockWait.count());
  StoreWorker::Hooks write_hooks;
  write_hooks.setup = [this](Store& s) {
    // Relayed batches are bulk writes: bigger cache, checkpoints beside (poked per commit).
    w.bulk = std::make_unique<sqlite::BulkWriteMode>(s.db(), 64);
    w.persons = std::make_unique<PersonRows>(s.db());
    // A serving hub's background check (VerifyStep, on the loop) looks records up by id: it
    // keeps the record indexes; a hub that only pulls (`carehub sync`) drops them.
    w.relay_bulk = std::make_unique<RelayedBulk>(
        s.db(), !options.listen.has_value() || options.verify_rows <= 0);
    w.store_rows = s.RecordCountEstimate();
  };
  write_hooks.idle = [this](Store& s) { CommitIdleGroup(s); };
  write_hooks.teardown = [this](Store& s) {
    try {
      w.relay_bulk->Finish();  // indexes a first catch-up dropped, in its last group
      CommitGroup(s);          // a group the last idle hook kept open (CommitIdleGroup)
    } catch (const Error&) {
      // Rolled back: its batches are pulled again from the stored heads (and indexes still
      // missing are built by the next open).
    }
    w.group.reset();
    group_open.store(false, std::memory_order_relaxed);
    w.relay_bulk.reset();
    w.persons.reset();
    w.bulk.reset();
  };
  writer = std::make_unique<StoreWorker>(store.dir(), busy_ms, mailbox, std::move(write_hooks));
  reader = std::make_unique<StoreWorker>(store.dir(), busy_ms, mailbox, StoreWorker::Hooks{});
  decoder = std::make_unique<JobThread>(mailbox);
}

void Exchange::Impl::StopWorkers() {
  if (decoder) decoder->Stop();
  if (reader) reader->Stop();
  if (writer) writer->Stop();
}

void Exchange::Impl::FlushWriter() {
  writer->RunAndWait([this](Store& s) { CommitGroup(s); });
  mailbox.Run();
}

Exchange::Impl::~Impl() {
  StopWorkers();
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
  // What one client can make this hub hold: at most rcvhwm messages of request frames of at
  // most kMaxRequestFrameBytes each; a larger frame drops that client's connection.
  router->set(zmq::sockopt::rcvhwm, 100);
  router->set(zmq::sockopt::maxmsgsize, wire::kMaxRequestFrameBytes);
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
  has_clients.store(false, std::memory_order_relaxed);
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
  for (const auto& [origin, seq] : applied_local) local[origin] = std::max(local[origin], seq);
  held_origins = HeldOrigins(store.db());  // `carehub fork resolve` releases within 0.5 s
  held_origins.insert(pending_holds.begin(), pending_holds.end());
}

void Exchange::Impl::EndLoopStep() {
  ExchangeClock::duration total{};
  int top = 0;
  for (int i = 0; i < kLoopParts; ++i) {
    total += step_parts[i];
    if (step_parts[i] > step_parts[top]) top = i;
  }
  std::lock_guard lock(loop_load_mutex);
  ++loop_load.steps;
  for (int i = 0; i < kLoopParts; ++i) {
    loop_load.busy_seconds[i] += std::chrono::duration<double>(step_parts[i]).count();
    step_parts[i] = {};
  }
  const double seconds = std::chrono::duration<double>(total).count();
  if (seconds <= loop_load.longest_step_seconds) return;
  loop_load.longest_step_seconds = seconds;
  loop_load.longest_step_part = static_cast<LoopPart>(top);
  loop_load.longest_step_at_ms =
      std::chrono::duration_cast<milliseconds>(ExchangeClock::now() - started).count();
}

bool Exchange::Impl::Step(milliseconds wait) {
  EndLoopStep();  // the step before this one
  std::vector<zmq::pollitem_t> items;
  std::vector<std::size_t> owners;  // index into links, SIZE_MAX the router, else the mailbox
  constexpr std::size_t kMailboxItem = SIZE_MAX - 1;
  items.push_back({nullptr, mailbox.fd(), ZMQ_POLLIN, 0});
  owners.push_back(kMailboxItem);
  if (router) {
    items.push_back({router->handle(), 0, ZMQ_POLLIN, 0});
    owners.push_back(SIZE_MAX);
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (!links[i].socket || links[i].decoding) continue;
    items.push_back({links[i].socket->handle(), 0, ZMQ_POLLIN, 0});
    owners.push_back(i);
  }
  try {
    zmq::poll(items.data(), items.size(), wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;  // a signal (SIGTERM to stop) interrupts the wait
    return false;
  }
  bool busy = false;
  // Drain a bounded number per socket so one busy peer cannot starve the others.
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (!(items[k].revents & ZMQ_POLLIN)) continue;
    if (owners[k] == kMailboxItem) {
      LoopPartTimer timer(*this, LoopPart::kWorkerResults);
      busy = mailbox.Run() > 0 || busy;
      continue;
    }
    if (owners[k] == SIZE_MAX) {
      LoopPartTimer timer(*this, LoopPart::kRequests);
      busy = DrainRouter(kDrainPerSocket) || busy;
    } else {
      LoopPartTimer timer(*this, LoopPart::kPeerMessages);
      busy = DrainLink(owners[k], kDrainPerSocket) || busy;
    }
  }
  LoopPartTimer timer(*this, LoopPart::kTimers);
  Timers();
  SchedulePulls();
  stats.connections_denied = denied.load();
  return busy;
}

bool Exchange::Impl::DrainRouter(int max) {
  if (!router) return false;
  wire::Frames frames;
  std::string user;
  int n = 0;
  for (; n < max && ReceiveFrames(*router, frames, &user); ++n) {
    if (frames.empty()) continue;
    const std::string routing_id = frames.front();
    frames.erase(frames.begin());
    OnRouterMessage(routing_id, user, frames);
  }
  return n > 0;
}

bool Exchange::Impl::DrainLink(std::size_t index, int max) {
  wire::Frames frames;
  int n = 0;
  for (; n < max; ++n) {
    Link& link = links[index];
    if (!link.socket || link.decoding || !ReceiveFrames(*link.socket, frames, nullptr)) break;
    if (frames.front().size() == 5 &&
        static_cast<wire::MessageType>(frames.front()[4]) == wire::MessageType::kBatch) {
      DecodeOffLoop(index, std::move(frames));  // the rest waits until it is back
      frames = {};
      continue;
    }
    OnLinkMessage(index, frames);
  }
  return n > 0;
}

// An older hub answers a version it does not speak with ERROR unknown_version encoded in its own
// newest version: the link speaks that version (4 -> 3 -> 2) until re-dialled. An ERROR in the
// link's current version or newer answers a request sent before an earlier step down: ignored.
void Exchange::Impl::StepDownVersion(Link& link, std::uint8_t answered_in) {
  if (answered_in >= link.version || link.version <= wire::kOldestProtocolVersion) return;
  link.version = std::max(answered_in, wire::kOldestProtocolVersion);
  Log("peer " + link.peer.name + " speaks an older protocol version; using version " +
      std::to_string(link.version));
  link.last_hello = ExchangeClock::now();
  SendTo(link, HelloMessage());
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
          OnGossip(link.peer.name, m.signed_heads);
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
            writer->Post([fingerprint, name, json = m.json](Store& s) {
              s.RememberSchema(fingerprint, name, json);
            });
          } catch (const Error& e) {
            Log("peer " + link.peer.name + " sent an unusable schema: " + e.what());
            return;
          }
          // Retry the batches that waited for it.
          std::vector<ParkedBatch> waiting;
          waiting.swap(parked);
          for (ParkedBatch& p : waiting) OnBatch(p.link, std::move(p.batch));
        } else if constexpr (std::is_same_v<T, wire::ErrorReply>) {
          if (m.code == wire::ErrorCode::kUnknownVersion) {
            StepDownVersion(link, wire::VersionOf(frames));
            return;
          }
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
        } else if constexpr (std::is_same_v<T, wire::HashRequest>) {
          AnswerHashRequest(link, m);
        } else {
          Log("peer " + link.peer.name + " sent an unexpected message type");
        }
      },
      message);
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
  std::map<std::string, std::string> not_repaired;
  while (ExchangeClock::now() < deadline && !(stop && *stop)) {
    s.Step(20ms);
    s.DropHopelessRepairs(true, not_repaired);
    // A repair in progress is finished first: a range being fetched is not left half done.
    if (s.CaughtUp() && !s.RepairsBusy()) {
      report.caught_up = true;
      break;
    }
  }
  s.EndLoopStep();
  s.FlushWriter();
  report.caught_up = report.caught_up || s.CaughtUp();
  if (s.own_repair) not_repaired.emplace(s.store.region(), "not finished within the timeout");
  for (const auto& [origin, repair] : s.relay_repairs) {
    not_repaired.emplace(origin, "not finished within the timeout");
  }
  for (const auto& [origin, why] : not_repaired) {
    if (s.cut_back.count(origin)) continue;  // cut back instead, and pulled again
    report.problems.push_back("repair of origin " + origin + " not finished: " + why);
  }
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
    {
      LoopPartTimer timer(*impl_, LoopPart::kStoreCheck);
      impl_->VerifyStep();
    }
    LoopPartTimer timer(*impl_, LoopPart::kTimers);
    impl_->PublishLinkStates();
  }
  impl_->EndLoopStep();
  impl_->FlushWriter();
}

ExchangeLoopLoad Exchange::LoopLoad() const {
  std::lock_guard lock(impl_->loop_load_mutex);
  return impl_->loop_load;
}

std::string_view LoopPartName(LoopPart part) {
  switch (part) {
    case LoopPart::kPeerMessages:
      return "peer_messages";
    case LoopPart::kRequests:
      return "requests";
    case LoopPart::kWorkerResults:
      return "worker_results";
    case LoopPart::kTimers:
      return "timers";
    case LoopPart::kStoreCheck:
      return "store_check";
  }
  return "unknown";
}

std::string LoopLoadLine(const ExchangeLoopLoad& load) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << "loop: steps=" << load.steps
      << " longest=" << load.longest_step_seconds << "s (" << LoopPartName(load.longest_step_part)
      << " at " << std::setprecision(1) << static_cast<double>(load.longest_step_at_ms) / 1000.0
      << "s) busy:";
  for (int i = 0; i < kLoopParts; ++i) {
    out << " " << LoopPartName(static_cast<LoopPart>(i)) << "=" << std::setprecision(2)
        << load.busy_seconds[i] << "s";
  }
  return out.str();
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
