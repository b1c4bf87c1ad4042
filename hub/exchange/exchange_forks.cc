// Fork evidence of an Exchange (docs/PROTOCOL.md "Fork evidence"): members gossip the latest
// signed head they hold of every origin in HELLO, WELCOME and NOTIFY (protocol version 3). A
// validly signed head whose hash differs from the held entry at its seq, or a validly signed,
// self-consistent batch that does not extend the held chain, is recorded with this hub's own
// signed head (hub/store/forks.h), logged as an alarm, and its origin held until an operator
// resolves it. A difference caused by this hub's own damaged copy is repaired instead.
#include <algorithm>

#include "hub/exchange/exchange_internal.h"
#include "schemas/error.h"

namespace carehub {

namespace {

using namespace std::chrono_literals;
constexpr auto kProbeRetry = 2s;  // an unanswered probe PULL is sent again
constexpr int kProbeTries = 64;   // PULLs per probe before the fork point is left unknown
// A batch refused because this hub's own copy is damaged: the origin is pulled again after this
// (the repair, on the writer, comes first).
constexpr auto kOwnDamageRetry = 1s;

std::string Hex8(const Hash256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 8; ++i) {
    out += kDigits[hash[i] >> 4];
    out += kDigits[hash[i] & 15];
  }
  return out;
}

}  // namespace

std::vector<SignedHead> Exchange::Impl::SignedHeads() { return store.Heads(); }

const SignPublicKey* Exchange::Impl::OriginKey(const std::string& origin) const {
  if (origin == store.region()) return &store.keys().sign_public();
  const auto it = members.find(origin);
  return it == members.end() ? nullptr : &it->second.sign_key;
}

std::optional<SignedHead> Exchange::Impl::SoundHeldRange(const std::string& origin,
                                                         std::int64_t from_seq, std::int64_t to_seq,
                                                         const SignPublicKey& key) {
  from_seq = std::max<std::int64_t>(from_seq, 1);
  std::optional<SignedHead> held;
  sqlite::Statement at(store.db(),
                       "SELECT seq, head_hash, signature FROM signed_heads WHERE origin = ? AND "
                       "seq >= ? ORDER BY seq LIMIT 1");
  at.Bind(1, origin).Bind(2, to_seq);
  if (at.Step()) {
    if (at.ColumnBlob(1).size() != 32 || at.ColumnBlob(2).size() != 64) return std::nullopt;
    held = SignedHead{origin, at.ColumnInt64(0), {}, {}};
    std::copy(at.ColumnBlob(1).begin(), at.ColumnBlob(1).end(), held->head_hash.begin());
    std::copy(at.ColumnBlob(2).begin(), at.ColumnBlob(2).end(), held->signature.begin());
  } else {
    held = store.Head(origin);  // (a head not in signed_heads: the latest)
    if (!held || held->seq < to_seq) return std::nullopt;
  }
  std::vector<ChangeEntry> entries;
  try {
    entries = store.ReadChanges(origin, from_seq - 1, held->seq - from_seq + 1);
  } catch (const Error&) {
    return std::nullopt;  // e.g. a stored entry_hash that is not 32 bytes
  }
  if (entries.empty() ||
      VerifyBatch(origin, {from_seq - 1, entries.front().prev_hash}, entries, *held, key)) {
    return std::nullopt;
  }
  return held;
}

std::optional<Hash256> Exchange::Impl::HeldEntryHash(const std::string& origin, std::int64_t seq) {
  if (seq == 0) return kZeroHash;
  sqlite::Statement stmt(store.db(), "SELECT entry_hash FROM changes WHERE origin = ? AND seq = ?");
  stmt.Bind(1, origin).Bind(2, seq);
  if (!stmt.Step() || stmt.ColumnBlob(0).size() != 32) return std::nullopt;
  Hash256 hash{};
  std::copy(stmt.ColumnBlob(0).begin(), stmt.ColumnBlob(0).end(), hash.begin());
  return hash;
}

void Exchange::Impl::OnGossip(const std::string& peer, const std::vector<SignedHead>& heads) {
  for (const SignedHead& head : heads) {
    try {
      CheckGossipedHead(peer, head);
    } catch (const sqlite::SqliteError& e) {
      if (!e.busy()) throw;
      gossip_checked.erase({peer, head.origin});  // checked again with the next gossip
    }
  }
}

void Exchange::Impl::CheckGossipedHead(const std::string& peer, const SignedHead& head) {
  const SignPublicKey* key = OriginKey(head.origin);
  if (key == nullptr) return;  // not a member: nothing of it is held or applied
  SignedHead& seen = gossip_checked[{peer, head.origin}];
  if (seen == head) return;
  seen = head;
  if (!VerifyHead(head, *key)) {
    Log("peer " + peer + " gossiped a head of origin " + head.origin + " at seq " +
        std::to_string(head.seq) + " whose signature does not verify; ignored");
    return;
  }
  if (head.seq > LocalSeq(head.origin)) return;  // not held yet: the pulled batch is checked
  const auto ours = HeldEntryHash(head.origin, head.seq);
  if (!ours || *ours == head.head_hash) return;
  if (IsRejectedHead(store.db(), head.origin, head.seq, head.head_hash)) return;
  // This hub's chain from the seq up to its signed head covering it: if it does not verify, the
  // difference is this hub's own damage (repaired), not a fork.
  const auto held = SoundHeldRange(head.origin, head.seq, head.seq, *key);
  if (!held) {
    RepairOrigin(head.origin, "a head gossiped by peer " + peer + " differs from this hub's copy");
    return;
  }
  ForkEvidence evidence;
  evidence.origin = head.origin;
  evidence.fork_seq = head.seq;
  evidence.held = *held;
  evidence.other = head;
  evidence.other_from = peer;
  evidence.how = "gossip";
  RaiseFork(std::move(evidence),
            "peer " + peer + " holds a different signed head at seq " + std::to_string(head.seq));
  StartProbe(peer, head);
}

void Exchange::Impl::StartProbe(const std::string& peer, const SignedHead& other) {
  // A probe through a client's connection gives way to one of a member this hub dials.
  const auto running = probes.find(other.origin);
  if (running != probes.end() && running->second.client.empty()) return;
  ForkProbe probe;
  probe.differ = other.seq;
  probe.other = other.head_hash;
  for (std::size_t i = 0; i < links.size(); ++i) {
    if (links[i].peer.name != peer || links[i].retired) continue;
    probe.link = i;
    probes[other.origin] = probe;
    return;
  }
  if (running != probes.end()) return;
  // Not a member this hub dials: asked through its own connection (HASH_REQUEST) when it speaks
  // version 5; else the point is found when a member this hub dials gossips a head of the other
  // branch, and stays unknown (0) until then.
  if (!ClientRoute(peer, 5)) return;
  probe.client = peer;
  probes[other.origin] = probe;
}

std::optional<std::string> Exchange::Impl::ClientRoute(const std::string& name,
                                                       std::uint8_t version) const {
  const ConnectedClient* latest = nullptr;
  std::optional<std::string> route;
  for (const auto& [routing_id, client] : clients) {
    if (client.name != name || client.version < version) continue;
    if (latest && latest->last_seen >= client.last_seen) continue;
    latest = &client;
    route = routing_id;
  }
  return route;
}

void Exchange::Impl::ProbeTimers() {
  const auto now = ExchangeClock::now();
  for (auto it = probes.begin(); it != probes.end();) {
    const std::string& origin = it->first;
    ForkProbe& p = it->second;
    const bool due = p.asked < 0 || now - p.sent > kProbeRetry;
    const Link* link = p.client.empty() ? &links[p.link] : nullptr;
    if (!due || (link && (!link->socket || !link->welcomed))) {
      ++it;
      continue;
    }
    const std::string peer = link ? link->peer.name : p.client;
    if (p.tries >= kProbeTries) {
      Log("fork of origin " + origin + ": probing peer " + peer +
          " for the fork point gave up; it stays unknown");
      it = probes.erase(it);
      continue;
    }
    ++p.tries;
    p.sent = now;
    if (link) {
      p.asked = p.agree + (p.differ - p.agree) / 2;  // its prev_hash is the peer's hash there
      SendTo(links[p.link], wire::Pull{origin, p.asked, 1});
    } else {
      SendHashRequest(origin, p);  // (a member not connected now counts as unanswered)
    }
    ++it;
  }
}

// Up to kMaxHashSeqs seqs spread evenly strictly between the bounds: each answer narrows the
// range by that factor, so a log of a million entries takes four round trips.
void Exchange::Impl::SendHashRequest(const std::string& origin, ForkProbe& p) {
  p.asked = 1;
  const auto route = ClientRoute(p.client, 5);
  if (!route || !router) return;
  wire::HashRequest request{origin, {}};
  const std::int64_t gap = p.differ - p.agree;
  const std::int64_t n = std::min<std::int64_t>(wire::kMaxHashSeqs, gap - 1);
  for (std::int64_t j = 1; j <= n; ++j) {
    // agree + gap * j / (n + 1), without overflowing for any seq below 2^63
    const std::int64_t seq = p.agree + gap / (n + 1) * j + gap % (n + 1) * j / (n + 1);
    if (request.seqs.empty() || seq > request.seqs.back()) request.seqs.push_back(seq);
  }
  SendFrames(*router, wire::Encode(request, 5), &*route);
}

// As a client: the entry hashes this hub holds at the seqs asked (a seq it does not hold is left
// out); whatever the origin's state here (a held origin is still served).
void Exchange::Impl::AnswerHashRequest(Link& link, const wire::HashRequest& request) {
  if (link.version < 5) return;
  wire::Hashes answer{request.origin, {}};
  for (const std::int64_t seq : request.seqs) {
    if (auto hash = HeldEntryHash(request.origin, seq)) answer.hashes.emplace_back(seq, *hash);
  }
  SendTo(link, answer);
}

bool Exchange::Impl::CompareProbed(
    ForkProbe& p, std::int64_t seq, const Hash256& theirs,
    const std::function<std::optional<Hash256>(std::int64_t)>& ours) {
  if (seq <= p.agree || seq >= p.differ) return seq < p.differ;
  const auto mine = ours(seq);
  if (mine && *mine == theirs) {
    p.agree = seq;
    return true;
  }
  p.differ = seq;
  return false;
}

void Exchange::Impl::OnProbeBatch(const std::string& origin, const wire::Batch& batch) {
  ForkProbe& p = probes.at(origin);
  p.asked = -1;
  if (batch.entries.empty()) return;
  // The peer's entry hash at after_seq (the first entry's prev_hash), then at each entry.
  const std::vector<ChangeEntry> ours =
      store.ReadChanges(origin, std::max<std::int64_t>(batch.after_seq - 1, 0),
                        static_cast<std::int64_t>(batch.entries.size()) + 1);
  const auto our_hash = [&](std::int64_t seq) -> std::optional<Hash256> {
    if (seq == 0) return kZeroHash;
    for (const ChangeEntry& e : ours) {
      if (e.seq == seq) return e.entry_hash;
    }
    return std::nullopt;
  };
  if (CompareProbed(p, batch.after_seq, batch.entries.front().prev_hash, our_hash)) {
    for (const ChangeEntry& e : batch.entries) {
      if (!CompareProbed(p, e.seq, e.entry_hash, our_hash)) break;
    }
  }
  if (p.differ - p.agree > 1) return;  // asked again (ProbeTimers)
  FinishProbe(origin);
}

void Exchange::Impl::OnProbeHashes(const std::string& peer, const wire::Hashes& hashes) {
  const auto it = probes.find(hashes.origin);
  // Any answer is a fact about the member's log (a late one too): compared within the bounds.
  if (it == probes.end() || it->second.client != peer) return;
  ForkProbe& p = it->second;
  p.asked = -1;
  const auto held = [&](std::int64_t seq) { return HeldEntryHash(hashes.origin, seq); };
  for (const auto& [seq, hash] : hashes.hashes) {
    if (!CompareProbed(p, seq, hash, held)) break;
  }
  if (p.differ - p.agree > 1) return;  // the next request at once (ProbeTimers)
  FinishProbe(hashes.origin);
}

void Exchange::Impl::FinishProbe(const std::string& origin) {
  const ForkProbe p = probes.at(origin);
  probes.erase(origin);
  const std::string peer = p.client.empty() ? links[p.link].peer.name : p.client;
  const std::int64_t agree = p.agree, differ = p.differ;
  const Hash256 other = p.other;
  Log("fork of origin " + origin + ": the branches agree up to seq " + std::to_string(agree) +
      " (probed peer " + peer + "'s copy" +
      (p.client.empty() ? ")" : ", asked through its connection)"));
  writer->Post([this, origin, peer, other, agree, differ](Store& s) {
    CommitGroup(s);
    RecordForkPoint(s.db(), origin, peer, other, agree, differ);
  });
}

// A rejected batch that is itself a validly signed chain but does not extend the held one. The
// held entry hashes it was compared with are proven first (this hub's chain from after_seq up to
// a signed head): a copy damaged there is repaired instead, and the origin pulled again shortly.
bool Exchange::Impl::RecordBatchFork(Link& link, const wire::Batch& batch) {
  const std::string& origin = batch.head.origin;
  const std::string& peer = link.peer.name;
  const SignPublicKey* key = OriginKey(origin);
  if (key == nullptr || batch.entries.empty()) return false;
  const ChainCursor from{batch.after_seq, batch.entries.front().prev_hash};
  if (batch.after_seq == 0 && from.hash != kZeroHash) return false;
  if (VerifyBatch(origin, from, batch.entries, batch.head, *key)) return false;  // just bad
  const auto held = store.Head(origin);
  const auto ours_before = HeldEntryHash(origin, batch.after_seq);
  if (!held || !ours_before || !VerifyHead(*held, *key)) return false;
  ForkEvidence evidence;
  evidence.origin = origin;
  evidence.held = *held;
  evidence.other = batch.head;
  evidence.other_from = peer;
  evidence.how = "batch";
  if (*ours_before != from.hash) {
    evidence.fork_seq = batch.after_seq;  // they differ at the seq before the batch already
  } else {
    const std::int64_t overlap = std::min(held->seq, batch.entries.back().seq) - batch.after_seq;
    std::vector<ChangeEntry> ours;
    try {
      ours = store.ReadChanges(origin, batch.after_seq, overlap);
    } catch (const Error&) {
      evidence.fork_seq = batch.after_seq + 1;  // unreadable here: proven (and failing) below
    }
    for (std::size_t i = 0; i < ours.size() && evidence.fork_seq == 0; ++i) {
      if (ours[i].entry_hash != batch.entries[i].entry_hash) {
        evidence.fork_seq = ours[i].seq;
        evidence.agree_seq = ours[i].seq - 1;
      }
    }
    if (evidence.fork_seq == 0) return false;  // it agrees where both hold: not a fork
  }
  if (!SoundHeldRange(origin, batch.after_seq, evidence.fork_seq, *key)) {
    Log("batch of origin " + origin + " (seq " + std::to_string(batch.entries.front().seq) + ".." +
        std::to_string(batch.head.seq) + ") from peer " + peer +
        " does not continue this hub's copy, whose own entries there do not verify: not a fork; "
        "repairing this hub's copy");
    RepairOrigin(origin, "a batch from peer " + peer + " does not continue this hub's copy");
    link.deferred[origin] = ExchangeClock::now() + kOwnDamageRetry;  // pulled again after it
    return true;
  }
  RaiseFork(std::move(evidence), "peer " + peer +
                                     " served a signed chain that does not extend "
                                     "this hub's head");
  return true;
}

void Exchange::Impl::RaiseFork(ForkEvidence evidence, const std::string& why) {
  const std::string origin = evidence.origin;
  const std::string line =
      "FORK of origin " + origin + ": " + why + " (held seq " + std::to_string(evidence.held.seq) +
      " hash " + Hex8(evidence.held.head_hash) + "…, other seq " +
      std::to_string(evidence.other.seq) + " hash " + Hex8(evidence.other.head_hash) +
      "…); origin held until `carehub fork "
      "resolve`";
  held_origins.insert(origin);
  pending_holds.insert(origin);
  in_flight.erase(origin);
  std::erase_if(parked, [&](const ParkedBatch& p) { return p.batch.head.origin == origin; });
  // Stored by the writer in its own transaction (after the open group); held meanwhile.
  writer->Post([this, origin, line, evidence = std::move(evidence)](Store& s) {
    CommitGroup(s);
    const bool fresh = RecordForkEvidence(s.db(), evidence);
    mailbox.Post([this, origin, line, fresh] {
      pending_holds.erase(origin);
      if (!fresh) return;  // known already
      ++stats.forks_found;
      Log(line);
      problems.push_back(line);
    });
  });
}

}  // namespace carehub
