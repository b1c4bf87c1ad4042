// Link liveness of an Exchange (the dialling side): dialling a member, HELLO, heartbeats (PING
// every options.heartbeat), the silent-link timeout and re-dial back-off, Lazy Pirate retries of
// unanswered PULLs and the lost-PULL detection by PONG, and the link snapshot other threads read.
// Timers: docs/PROTOCOL.md "Flow, notification, liveness".
#include <algorithm>

#include "hub/exchange/exchange_internal.h"

namespace carehub {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// Lazy Pirate: a PULL unanswered this long is sent again, the wait doubling per retry of the
// origin up to kPullTimeoutMax (reset by any BATCH of it). A lost PULL is usually noticed
// sooner, by a PONG to a later PING (see OnPong).
constexpr auto kPullTimeoutFirst = 2s;
constexpr auto kPullTimeoutMax = 16s;
constexpr auto kMaxBackoff = 8000ms;
constexpr auto kMemberRefresh = 500ms;  // a removed member is cut off within about this

}  // namespace

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
  s.set(zmq::sockopt::maxmsgsize, wire::kMaxReplyFrameBytes);  // a larger frame: disconnected
  s.connect(*link.peer.endpoint);
  link.welcomed = false;
  link.dialled = link.last_recv = link.last_ping = link.last_hello = now;
  link.schema_requested.clear();
  link.version = NewestVersion();
  SendTo(link, HelloMessage());
}

wire::Hello Exchange::Impl::HelloMessage() {
  wire::Hello hello;
  hello.region = store.region();
  for (const auto& [origin, seq] : local) hello.heads.push_back({origin, seq});
  hello.signed_heads = SignedHeads();
  return hello;
}

void Exchange::Impl::SendTo(Link& link, const wire::Message& message) {
  if (!link.socket) return;
  const auto* pull = std::get_if<wire::Pull>(&message);
  if (pull != nullptr && link.version >= 6 && pull->dictionaries.empty()) {
    wire::Pull listed = *pull;  // with the dictionaries held: the server does not send them
    listed.dictionaries = HeldDictionaryIds();
    return SendFrames(*link.socket, wire::Encode(listed, link.version));
  }
  SendFrames(*link.socket, wire::Encode(message, link.version));
}

void Exchange::Impl::HoldDictionaries(const std::vector<DictionaryPtr>& received) {
  auto held = std::make_shared<wire::HeldDictionaries>(*held_dictionaries);
  bool added = false;
  for (const DictionaryPtr& d : received) {
    if (!held->emplace(d->id(), d).second) continue;
    held_order.push_back(d->id());
    added = true;
  }
  if (added) held_dictionaries = std::move(held);
}

std::vector<std::uint32_t> Exchange::Impl::HeldDictionaryIds() const {
  std::vector<std::uint32_t> ids;
  const std::size_t n = std::min<std::size_t>(held_order.size(), wire::kMaxPullDictionaries);
  for (auto it = held_order.end() - static_cast<std::ptrdiff_t>(n); it != held_order.end(); ++it) {
    ids.push_back(static_cast<std::uint32_t>(*it));
  }
  return ids;
}

void Exchange::Impl::Timers() {
  const auto now = ExchangeClock::now();
  if (now - last_member_refresh > kMemberRefresh) RefreshMembers();
  if (now - last_head_poll > options.head_poll) PollHeads();
  expecting_batches.store(!in_flight.empty(), std::memory_order_relaxed);
  // A group kept open across a gap (CommitIdleGroup) is looked at again: an empty job makes
  // the writer run its idle hook once more 50 ms later.
  if (group_open.load(std::memory_order_relaxed) && writes_outstanding == 0 &&
      now - last_idle_poke > kGroupIdlePoke) {
    last_idle_poke = now;
    writer->Post([](Store&) {});
  }
  OwnRepairTimers();
  RelayRepairTimers();
  ProbeTimers();
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& link = links[i];
    if (link.retired) continue;
    if (!link.socket) {
      if (now >= link.next_dial) Dial(link);
      continue;
    }
    // What arrived while this hub was busy (applying a batch) was not polled yet: read it
    // before calling the link silent.
    // (A link whose BATCH is being decoded spoke: the rest of its messages wait for it.)
    if (!link.decoding && now - link.last_recv > options.peer_timeout && !DrainLink(i, 64)) {
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
    if (links[it->second.link].decoding) {  // its answer may be the batch being decoded
      ++it;
      continue;
    }
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

}  // namespace carehub
