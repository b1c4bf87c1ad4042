// Repair of this hub's own change log from members (docs/PROTOCOL.md "Detection and repair of
// damaged copies"): the own log is the only one a hub cannot cut and pull again (members hold it
// and would see a fork), so a damaged range of it is pulled from a member that holds a copy,
// checked against this hub's own signed heads (RestoreOwnLog) and rewritten in place.
#include "hub/exchange/exchange_internal.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
// An unanswered or refused request of the own range is sent again (to another member) after
// this long.
constexpr auto kOwnRepairRetry = 2s;

}  // namespace

// Writer thread: where the own log's first chain or head problem lies, as the cursor to fetch
// from (nullopt when the own log has none).
std::optional<ChainCursor> Exchange::Impl::OwnDamage(Store& s,
                                                     const std::vector<StoreProblem>& found) {
  std::optional<std::int64_t> first;
  for (const StoreProblem& p : found) {
    if (p.origin != s.region()) continue;
    if (p.kind != ProblemKind::kChain && p.kind != ProblemKind::kHead) continue;
    first = std::min(first.value_or(p.seq), p.seq);
  }
  if (!first) return std::nullopt;
  return LastSoundCursor(s, s.region(), std::max<std::int64_t>(*first - 1, 0));
}

void Exchange::Impl::StartOwnRepair(const ChainCursor& from) {
  if (own_repair && own_repair->from == from) return;
  own_repair = OwnRepair{};
  own_repair->from = from;
  Log("repair: this hub's own log (origin " + store.region() + ") is damaged beyond seq " +
      std::to_string(from.seq) + "; fetching it from a member that holds a copy");
}

void Exchange::Impl::OwnRepairTimers() {
  const auto now = ExchangeClock::now();
  if (!own_repair || now < own_repair->next_try) return;
  const std::string& origin = store.region();
  // The next member after the one asked last that holds the range and whose copy was not
  // refused in this round.
  const std::size_t n = links.size();
  const std::size_t start = own_repair->link == SIZE_MAX ? 0 : own_repair->link + 1;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (start + k) % n;
    const Link& link = links[i];
    if (!link.socket || !link.welcomed || link.unreachable || own_repair->refused.count(i)) {
      continue;
    }
    const auto held = link.advertised.find(origin);
    if (held == link.advertised.end() || held->second <= own_repair->from.seq) continue;
    own_repair->link = i;
    own_repair->next_try = now + kOwnRepairRetry;
    SendTo(links[i], wire::Pull{origin, own_repair->from.seq, options.max_batch});
    return;
  }
  if (!own_repair->refused.empty()) ++own_repair->exhausted_rounds;
  own_repair->refused.clear();  // every member holding it was asked: a new round later
  own_repair->next_try = now + kOwnRepairRetry;
}

void Exchange::Impl::OnOwnBatch(std::size_t index, wire::Batch batch) {
  const ChainCursor from = own_repair->from;
  own_repair->next_try = ExchangeClock::now() + kOwnRepairRetry;  // not while it is checked
  auto fetched = std::make_shared<wire::Batch>(std::move(batch));
  writer->Post([this, index, from, fetched](Store& s) {
    CommitGroup(s);
    const OwnLogRestore restore = RestoreOwnLog(s, from, fetched->entries, fetched->head);
    std::optional<ChainCursor> next;
    if (!restore.refused) {
      const VerifyReport report = VerifyStore(s, {.origin = s.region(), .integrity_check = false});
      next = OwnDamage(s, report.problems);
    }
    const std::int64_t last = fetched->head.seq;
    mailbox.Post([this, index, from, restore, last, next] {
      OnOwnRestored(index, from, restore, last, next);
    });
  });
}

void Exchange::Impl::OnOwnRestored(std::size_t index, const ChainCursor& from,
                                   const OwnLogRestore& restore, std::int64_t last,
                                   const std::optional<ChainCursor>& next) {
  if (!own_repair || !(own_repair->from == from)) return;
  const std::string& peer = links[index].peer.name;
  const std::string range = "seq " + std::to_string(from.seq + 1) + ".." + std::to_string(last);
  if (restore.refused) {
    Log("repair: peer " + peer + "'s copy of this hub's own log (" + range +
        ") was refused: " + *restore.refused + "; asking another member");
    own_repair->refused.insert(index);
    own_repair->next_try = ExchangeClock::now();
    return;
  }
  Log("repair: this hub's own log " + range + ": " + std::to_string(restore.rewritten) + " entr" +
      (restore.rewritten == 1 ? "y" : "ies") + " rewritten from peer " + peer + "'s copy");
  {
    std::lock_guard lock(check_mutex);
    ++check.repairs;
  }
  verifier.reset();
  if (next && next->seq > from.seq) {
    own_repair = OwnRepair{};  // damaged further on: the next range
    own_repair->from = *next;
    return;
  }
  own_repair.reset();
  if (next) {
    Log("repair: not repaired: this hub's own log is still damaged beyond seq " +
        std::to_string(next->seq));
  } else {
    Log("repair: this hub's own log (origin " + store.region() + ") verifies now");
  }
}

std::optional<std::string> Exchange::Impl::OwnRepairHopeless() const {
  if (!own_repair) return std::nullopt;
  const OwnRepair& r = *own_repair;
  return NoMemberCanHelp(
      store.region(), r.from.seq, "this hub's log",
      [&](std::size_t i) { return !r.refused.count(i) && r.exhausted_rounds == 0; },
      r.exhausted_rounds > 0 ? std::optional<std::string>("every member's copy of it was refused")
                             : std::nullopt);
}

std::optional<std::string> Exchange::Impl::NoMemberCanHelp(
    const std::string& origin, std::int64_t from_seq, const std::string& what,
    const std::function<bool(std::size_t)>& may_help,
    const std::optional<std::string>& all_tried) const {
  bool dialled = false;
  for (std::size_t i = 0; i < links.size(); ++i) {
    const Link& link = links[i];
    if (link.retired) continue;
    dialled = true;
    // Not answered yet, but not silent for a whole peer timeout either: may still help.
    if (!link.welcomed && !link.unreachable) return std::nullopt;
    if (!link.welcomed) continue;
    const auto held = link.advertised.find(origin);
    if (held == link.advertised.end() || held->second <= from_seq) continue;
    if (may_help(i)) return std::nullopt;
  }
  if (!dialled) return "no member has an endpoint to fetch it from (carehub peers add --endpoint)";
  if (all_tried) return *all_tried;
  return "no member that answers holds " + what + " beyond seq " + std::to_string(from_seq) +
         " (unanswered members are silent for " + std::to_string(options.peer_timeout.count()) +
         " ms)";
}

bool Exchange::RepairOwnLog(std::chrono::milliseconds timeout, std::string* why_not) {
  const std::vector<LogRepairOutcome> outcome = RepairLogs({impl_->store.region()}, timeout, false);
  if (why_not && !outcome[0].sound) *why_not = outcome[0].why_not;
  return outcome[0].sound;
}

// Gives up, at once, each repair no member can help with (rather than waiting out the timeout):
// `why` gets the reason; another origin's log is cut back instead when `cut`.
void Exchange::Impl::DropHopelessRepairs(bool cut, std::map<std::string, std::string>& why) {
  if (own_repair && !own_check_pending) {
    if (auto hopeless = OwnRepairHopeless()) {
      why[store.region()] = *hopeless;
      own_repair.reset();
    }
  }
  for (auto it = relay_repairs.begin(); it != relay_repairs.end();) {
    const std::optional<std::string> hopeless = RelayRepairHopeless(it->first);
    if (!hopeless) {
      ++it;
      continue;
    }
    const std::string origin = it->first;
    it = relay_repairs.erase(it);
    why[origin] = *hopeless;
    if (!cut) continue;
    Log("repair: origin " + origin + ": " + *hopeless + "; cutting the log back instead");
    RepairOrigin(origin, "no member's copy", false, true);
    cut_back.insert(origin);
  }
}

std::vector<Exchange::LogRepairOutcome> Exchange::RepairLogs(
    const std::vector<std::string>& origins, std::chrono::milliseconds timeout,
    bool cut_without_copy) {
  Impl& s = *impl_;
  const auto deadline = ExchangeClock::now() + timeout;
  s.relay_repair_cuts = cut_without_copy;
  for (const std::string& origin : origins) {
    s.RepairOrigin(origin, "carehub verify --repair", false);
  }
  std::map<std::string, std::string> why;
  while (ExchangeClock::now() < deadline && s.RepairsBusy()) {
    s.Step(std::chrono::milliseconds(20));
    // Fails fast: no member configured, none answering, none holding it, every copy refused.
    s.DropHopelessRepairs(cut_without_copy, why);
  }
  s.FlushWriter();
  std::vector<LogRepairOutcome> outcomes;
  for (const std::string& origin : origins) {
    LogRepairOutcome outcome;
    outcome.origin = origin;
    outcome.sound = VerifyStore(s.store, {.origin = origin, .integrity_check = false}).sound();
    outcome.cut = s.cut_back.count(origin) > 0;
    if (auto it = why.find(origin); it != why.end()) {
      outcome.why_not = it->second;
    } else if (auto not_done = s.repairs_not_done.find(origin);
               not_done != s.repairs_not_done.end()) {
      outcome.why_not = not_done->second;
    } else if (!outcome.sound) {
      outcome.why_not = "not repaired within " + std::to_string(timeout.count()) + " ms";
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace carehub
