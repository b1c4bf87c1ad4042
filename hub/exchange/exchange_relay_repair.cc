// Repair of a relayed origin's log without cutting it (docs/STORE.md "How far back a relayed log
// is cut"): the entries from the first damaged one up to a head the origin signed are pulled
// from a member (PULL with after_seq = the entry below the damage), proven from this hub's stored
// entry hash there (RestoreRelayedLog) and rewritten in place. Entries below the damage and
// every record stay; only one batch crosses the wire. When no member's copy can be used within
// kRelayRepairGiveUp, the log is cut back to its last sound signed head and pulled again.
#include "hub/exchange/exchange_internal.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
constexpr auto kRelayRepairRetry = 2s;    // an unanswered or refused request goes elsewhere
constexpr auto kRelayRepairGiveUp = 10s;  // then the log is cut (RepairStore) instead

}  // namespace

void Exchange::Impl::StartRelayRepair(const std::string& origin, const ChainCursor& from,
                                      std::int64_t held) {
  const auto it = relay_repairs.find(origin);
  if (it != relay_repairs.end() && it->second.from == from) return;
  RelayRepair repair;
  repair.from = from;
  repair.held = held;
  repair.give_up = ExchangeClock::now() + kRelayRepairGiveUp;
  relay_repairs[origin] = std::move(repair);
  Log("repair: origin " + origin + " is damaged beyond seq " + std::to_string(from.seq) +
      "; fetching seq " + std::to_string(from.seq + 1) + ".. from a member to prove and rewrite");
}

void Exchange::Impl::RelayRepairTimers() {
  const auto now = ExchangeClock::now();
  for (auto it = relay_repairs.begin(); it != relay_repairs.end();) {
    const std::string origin = it->first;
    RelayRepair& r = it->second;
    if (now >= r.give_up && !r.checking) {
      const std::string why = "no member's copy of origin " + origin + " beyond seq " +
                              std::to_string(r.from.seq) + " could be used within " +
                              std::to_string(kRelayRepairGiveUp.count()) + " s";
      it = relay_repairs.erase(it);
      if (!relay_repair_cuts) {
        Log("repair: " + why + "; the log is left as it is (not cut)");
        repairs_not_done[origin] = why;
        continue;
      }
      Log("repair: " + why + "; cutting the log back instead");
      RepairOrigin(origin, "relay repair gave up", false, true);
      continue;
    }
    if (now >= r.next_try) {
      for (std::size_t i = 0; i < links.size(); ++i) {
        const Link& link = links[i];
        if (!link.socket || !link.welcomed || link.unreachable || r.asked.count(i)) continue;
        const auto held = link.advertised.find(origin);
        if (held == link.advertised.end() || held->second <= r.from.seq) continue;
        r.asked.insert(i);
        r.link = i;
        r.next_try = now + kRelayRepairRetry;
        // max_entries 1: the member answers up to its nearest signed head at or after the damage
        // (docs/PROTOCOL.md "Serving a PULL"), the least that proves it.
        SendTo(links[i], wire::Pull{origin, r.from.seq, 1});
        break;
      }
    }
    ++it;
  }
}

void Exchange::Impl::OnRelayRepairBatch(std::size_t index, wire::Batch batch) {
  const std::string origin = batch.head.origin;
  RelayRepair& r = relay_repairs.at(origin);
  const ChainCursor from = r.from;
  r.next_try = ExchangeClock::now() + kRelayRepairRetry;  // not while it is checked
  const SignPublicKey* key = OriginKey(origin);
  if (key == nullptr || batch.entries.empty()) return;
  r.checking = true;
  auto fetched = std::make_shared<wire::Batch>(std::move(batch));
  const SignPublicKey origin_key = *key;
  writer->Post([this, index, from, fetched, origin_key](Store& s) {
    CommitGroup(s);
    const OwnLogRestore restore =
        RestoreRelayedLog(s, from, fetched->entries, fetched->head, origin_key);
    std::optional<ChainCursor> next;
    bool still_damaged = false;
    const std::string& o = fetched->head.origin;
    if (!restore.refused) {
      const VerifyReport report = VerifyStore(s, {.origin = o, .integrity_check = false});
      next = RelayedDamage(s, o, report.problems);
      still_damaged = !report.problems.empty();
    }
    const std::int64_t last = fetched->head.seq;
    mailbox.Post([this, index, o, from, restore, last, next, still_damaged] {
      OnRelayRestored(index, o, from, restore, last, next, still_damaged);
    });
  });
}

void Exchange::Impl::OnRelayRestored(std::size_t index, const std::string& origin,
                                     const ChainCursor& from, const OwnLogRestore& restore,
                                     std::int64_t last, const std::optional<ChainCursor>& next,
                                     bool still_damaged) {
  const auto it = relay_repairs.find(origin);
  if (it == relay_repairs.end() || !(it->second.from == from)) return;
  const std::string& peer = links[index].peer.name;
  const std::string range = "seq " + std::to_string(from.seq + 1) + ".." + std::to_string(last);
  it->second.checking = false;
  if (restore.refused) {
    Log("repair: peer " + peer + "'s copy of origin " + origin + " (" + range +
        ") was refused: " + *restore.refused + "; asking another member");
    it->second.next_try = ExchangeClock::now();
    return;
  }
  Log("repair: origin " + origin + " " + range + " proven from seq " + std::to_string(from.seq) +
      " and " + std::to_string(restore.rewritten) + " entr" +
      (restore.rewritten == 1 ? "y" : "ies") + " rewritten from peer " + peer +
      "'s copy; nothing cut");
  {
    std::lock_guard lock(check_mutex);
    ++check.repairs;
  }
  verifier.reset();
  const std::int64_t held = it->second.held;
  relay_repairs.erase(it);
  if (next && next->seq > from.seq) {
    StartRelayRepair(origin, *next, held);  // damaged further on
  } else if (still_damaged) {
    // Records rows left (repaired from the log now), or damage the rewrite did not reach (cut).
    RepairOrigin(origin, "after rewriting " + range, false, next.has_value());
  }
}

std::optional<std::string> Exchange::Impl::RelayRepairHopeless(const std::string& origin) const {
  const auto it = relay_repairs.find(origin);
  if (it == relay_repairs.end()) return std::nullopt;
  const RelayRepair& r = it->second;
  if (r.checking) return std::nullopt;
  const auto now = ExchangeClock::now();
  return NoMemberCanHelp(
      origin, r.from.seq, "origin " + origin,
      [&](std::size_t i) { return !r.asked.count(i) || (i == r.link && now < r.next_try); },
      r.asked.empty()
          ? std::nullopt
          : std::optional<std::string>("every member's copy asked was refused or not answered"));
}

}  // namespace carehub
