// Pulling and applying of an Exchange (the dialling side): which origins to PULL from which
// link, the checks of a received BATCH before it is applied, pipelining the next PULL, and the
// group commit of relayed batches (docs/PROTOCOL.md "Applying a BATCH").
#include <algorithm>

#include "hub/exchange/exchange_internal.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;

constexpr auto kBusyBackoff = 1s;
constexpr std::int64_t kGroupMinEntries = 20000;
constexpr std::int64_t kGroupMaxEntries = 400000;

double Seconds(ExchangeClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void Exchange::Impl::OnBatch(std::size_t index, wire::Batch batch) {
  Link& link = links[index];
  const std::string origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.link == index && it->second.after == batch.after_seq) {
    in_flight.erase(it);
  }
  pull_retries.erase(origin);
  if (held_origins.count(origin)) return;  // open fork evidence: nothing applied
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
    if (RecordBatchFork(link.peer.name, batch)) return;
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

void Exchange::Impl::SchedulePulls() {
  const auto now = ExchangeClock::now();
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& link = links[i];
    if (!link.socket || !link.welcomed) continue;
    for (const auto& [origin, seq] : link.advertised) {
      if (static_cast<int>(in_flight.size()) >= options.max_in_flight) return;
      if (origin == store.region() || !members.count(origin) || in_flight.count(origin)) continue;
      if (held_origins.count(origin)) continue;
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
      if (held_origins.count(origin)) continue;
      if (auto b = link.blocked.find(origin); b != link.blocked.end() && now < b->second) continue;
      if (seq > LocalSeq(origin)) return false;
    }
  }
  return true;
}

}  // namespace carehub
