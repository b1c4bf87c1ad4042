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
// A PULL while the writer holds nothing of the origin (docs/PROTOCOL.md "Serving a PULL": a
// client asks for at least 10000 entries, origins sign a head every 10000).
constexpr std::uint32_t kFillPullEntries = 10000;

double Seconds(ExchangeClock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void Exchange::Impl::OnBatch(std::size_t index, wire::Batch batch,
                             std::vector<RelayedColumns> prepared) {
  Link& link = links[index];
  const std::string origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.link == index && it->second.after == batch.after_seq) {
    in_flight.erase(it);
  }
  if (auto probe = probes.find(origin); probe != probes.end() && probe->second.link == index &&
                                        probe->second.asked == batch.after_seq) {
    return OnProbeBatch(origin, batch);  // compared, never applied
  }
  if (auto repair = relay_repairs.find(origin); repair != relay_repairs.end() &&
                                                repair->second.link == index &&
                                                repair->second.from.seq == batch.after_seq) {
    return OnRelayRepairBatch(index, std::move(batch));  // proven, then rewritten in place
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
  if (origin == store.region()) {
    if (own_repair && batch.after_seq == own_repair->from.seq) {
      return OnOwnBatch(index, std::move(batch));
    }
    if (own_repair) return;  // an answer to an earlier request of the own repair
    return reject("it claims this hub's own origin");
  }
  auto member = members.find(origin);
  if (member == members.end()) return reject("origin is not a federation member");
  const std::int64_t held = PullFrom(origin);
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
  if (const std::set<std::uint64_t> missing = MissingSchemas(batch, prepared); !missing.empty()) {
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
      batch.head.seq == batch.entries.back().seq && applying[origin] + 2 <= kMaxBatchesHeld) {
    in_flight[origin] = {index, batch.head.seq, ExchangeClock::now()};
    SendTo(link, wire::Pull{origin, batch.head.seq, options.max_batch});
  }
  ApplyBatch(index, std::move(batch), std::move(prepared));
}

// Each writer schema is looked up once: the lookup copies its JSON, once per entry it cost the
// loop ~60 MB a batch. Prepared columns hold each body's fingerprint: read there, the loop does
// not touch every body (cache misses: ~0.04 s per million entries). (Prepared bodies all
// decoded: their schemas are known, a fingerprint 0 among them is no schema to fetch.)
std::set<std::uint64_t> Exchange::Impl::MissingSchemas(
    const wire::Batch& batch, const std::vector<RelayedColumns>& prepared) {
  std::set<std::uint64_t> seen, missing;
  const bool have_prepared = prepared.size() == batch.entries.size();
  for (std::size_t i = 0; i < batch.entries.size(); ++i) {
    const auto fingerprint = have_prepared ? std::optional<std::uint64_t>(prepared[i].fingerprint)
                                           : SingleObjectFingerprint(batch.entries[i].body);
    if (fingerprint && seen.insert(*fingerprint).second && !SchemaJsonByFingerprint(*fingerprint)) {
      missing.insert(*fingerprint);
    }
  }
  return missing;
}

std::int64_t Exchange::Impl::PullFrom(const std::string& origin) const {
  const auto it = queued.find(origin);
  return std::max(LocalSeq(origin), it == queued.end() ? 0 : it->second);
}

void Exchange::Impl::ApplyBatch(std::size_t index, wire::Batch batch,
                                std::vector<RelayedColumns> prepared) {
  const std::string origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.after <= batch.after_seq) {
    in_flight.erase(it);  // (a pipelined pull for the batch after this one stays)
  }
  auto job = std::make_shared<PendingApply>();
  job->link = index;
  job->peer = links[index].peer.name;
  job->key = members.at(origin).sign_key;
  job->batch = std::move(batch);
  job->advertised = std::max(links[index].advertised[origin], job->batch.head.seq);
  // The bodies were decoded by the decoder thread, while the writer wrote the batch before.
  job->prepared = std::move(prepared);
  queued[origin] = std::max(queued[origin], job->batch.head.seq);
  ++applying[origin];
  ++writes_outstanding;
  expecting_batches.store(!in_flight.empty(), std::memory_order_relaxed);
  if (!MorePulls()) spare_batches.Clear();  // the last batch: no more decoded into spares
  writer->Post([this, job](Store& s) { WriteBatch(s, job); });
}

// Writer thread: verifies and writes one batch into the open group.
void Exchange::Impl::WriteBatch(Store& s, const std::shared_ptr<PendingApply>& job) {
  const wire::Batch& batch = job->batch;
  const std::string& origin = batch.head.origin;
  ApplyOutcome out;
  if (batch.entries.front().seq > s.Tip(origin).seq + 1) {
    out.gap = true;  // queued behind a batch that was refused or deferred
  } else if (!w.group && s.db().OtherWriterWaiting()) {
    out.busy = true;  // the lock goes to the writer that waits: this batch is pulled again
  } else {
    try {
      if (!w.group) BeginGroup(s);  // BEGIN IMMEDIATE: may wait for another writer, then BUSY
      // A version-4 batch's hashes were derived by the loop thread while this thread wrote the
      // previous batch: only links, head and signature are checked here.
      w.relay_bulk->Expect(origin, job->advertised);
      out.result =
          ApplyRemoteBatch(s, origin, batch.entries, batch.head, job->key,
                           batch.hashes_derived ? EntryHashes::kDerivedHere : EntryHashes::kClaimed,
                           w.persons.get(), *w.relay_bulk, job->prepared);
    } catch (const sqlite::SqliteError& e) {
      if (!e.busy()) throw;
      // Another writer (an ingest batch) held the write lock past busy_timeout: nothing was
      // written and the cursor is unchanged, so the origin is simply pulled again a bit later.
      out.busy = true;
    } catch (const Error& e) {
      out.result.rejected = std::string("undecodable record: ") + ErrorKindName(e.kind()).data();
    }
  }
  if (out.result.applied > 0) out.dictionaries = EncodingDictionaries(s, *job);
  w.group_entries += out.result.applied;
  w.store_rows += out.result.applied;
  w.last_write = ExchangeClock::now();
  // A refused batch is compared with the committed chain (fork evidence) by the loop.
  if (out.result.rejected || w.group_entries >= GroupTarget() ||
      ExchangeClock::now() - w.group_started >= GroupMaxAge() || s.db().OtherWriterWaiting()) {
    CommitGroup(s);
  }
  mailbox.Post([this, job, out] {
    OnApplied(*job, out);
    RecycleBatch(*job);
  });
}

void Exchange::Impl::RecycleBatch(PendingApply& job) {
  if (!MorePulls()) return spare_batches.Clear();  // (the job's vectors go with it)
  spare_batches.Give(
      {std::move(job.batch.entries), std::move(job.batch.stored), std::move(job.prepared)});
}

bool Exchange::Impl::MorePulls() const {
  if (!in_flight.empty()) return true;
  for (const Link& link : links) {
    for (const auto& [origin, seq] : link.advertised) {
      if (origin != store.region() && members.count(origin) && seq > PullFrom(origin)) return true;
    }
  }
  return false;
}

// Writer thread: the dictionaries the writer's codec encodes the batch's schemas with (those
// it has one for), for the decoder thread's PrepareRelayed. A batch holds bodies of one schema or
// few.
std::map<std::uint64_t, DictionaryPtr> Exchange::Impl::EncodingDictionaries(
    Store& s, const PendingApply& job) {
  std::map<std::uint64_t, DictionaryPtr> out;
  std::uint64_t last = 0;
  const bool have_prepared = job.prepared.size() == job.batch.entries.size();
  for (std::size_t i = 0; i < job.batch.entries.size(); ++i) {
    const std::uint64_t fingerprint =
        have_prepared ? job.prepared[i].fingerprint
                      : SingleObjectFingerprint(job.batch.entries[i].body).value_or(0);
    if (fingerprint == 0 || fingerprint == last) continue;
    last = fingerprint;
    if (out.count(fingerprint)) continue;
    if (DictionaryPtr d = s.bodies().EncodingDictionary(fingerprint)) out.emplace(fingerprint, d);
  }
  return out;
}

void Exchange::Impl::OnApplied(const PendingApply& job, const ApplyOutcome& out) {
  const wire::Batch& batch = job.batch;
  const std::string& origin = batch.head.origin;
  for (const auto& [fingerprint, dict] : out.dictionaries) relay_dictionaries[fingerprint] = dict;
  --writes_outstanding;
  if (--applying[origin] <= 0) applying.erase(origin);
  if (out.gap || out.busy || out.result.rejected || queued[origin] <= batch.head.seq) {
    queued.erase(origin);  // what is queued behind a refused batch is a gap, pulled again
  }
  Link& link = links[job.link];
  if (out.gap) return;
  if (out.busy) {
    ++stats.batches_deferred;
    link.deferred[origin] = ExchangeClock::now() + kBusyBackoff;
    Log("store busy (another writer holds the lock): batch of origin " + origin + " (seq " +
        std::to_string(batch.entries.front().seq) + ".." + std::to_string(batch.head.seq) +
        ") from peer " + job.peer + " will be pulled again");
    return;
  }
  if (out.result.rejected) {
    ++stats.batches_rejected;
    if (RecordBatchFork(link, batch)) return;
    link.blocked[origin] = ExchangeClock::now() + kRejectBackoff;
    const std::string line = "rejected batch of origin " + origin + " (seq " +
                             std::to_string(batch.entries.front().seq) + ".." +
                             std::to_string(batch.head.seq) + ") from peer " + job.peer + ": " +
                             *out.result.rejected;
    Log(line);
    problems.push_back(line);
    SendRefused(link, batch, *out.result.rejected);
    return;
  }
  // Verified by use (its bodies decompressed with them into a chain that reached the signed
  // head) and stored: listed in PULLs from now on.
  HoldDictionaries(batch.dictionaries);
  const auto now = ExchangeClock::now();
  local[origin] = std::max(LocalSeq(origin), batch.head.seq);
  applied_local[origin] = local[origin];
  ++stats.batches_applied;
  if (out.result.applied > 0) last_batch_moved = now;  // the background check yields meanwhile
  stats.entries_applied += out.result.applied;
  OriginProgress& p = progress[origin];
  p.origin = origin;
  p.applied += out.result.applied;
  p.seq = local[origin];
  // From the start of the run (a single batch still has a rate).
  if (!first_apply.count(origin)) first_apply[origin] = started;
  p.seconds = Seconds(now - first_apply[origin]);
}

void Exchange::Impl::BeginGroup(Store& s) {
  w.group.emplace(s.db());
  group_open.store(true, std::memory_order_relaxed);
  w.group_entries = 0;
  w.group_started = ExchangeClock::now();
}

void Exchange::Impl::CommitIdleGroup(Store& s) {
  // Kept open only while nobody could be waiting for it; the loop's timers poke the writer
  // again (an empty job) while a group is open, so this runs again within kGroupIdleAlone.
  if (w.group && !has_clients.load(std::memory_order_relaxed) &&
      expecting_batches.load(std::memory_order_relaxed) &&
      ExchangeClock::now() - w.last_write < kGroupIdleAlone &&
      ExchangeClock::now() - w.group_started < GroupMaxAge() && !s.db().OtherWriterWaiting()) {
    return;
  }
  CommitGroup(s);
}

void Exchange::Impl::CommitGroup(Store&) {
  if (!w.group) return;
  try {
    // A first catch-up that reached the advertised heads builds its indexes in this group.
    if (w.relay_bulk->ShouldFinish()) w.relay_bulk->Finish();
    w.persons->Flush();
    w.group->Commit();
  } catch (...) {
    w.persons->Clear();
    w.group.reset();
    w.relay_bulk->RolledBack();
    group_open.store(false, std::memory_order_relaxed);
    throw;
  }
  w.group.reset();
  group_open.store(false, std::memory_order_relaxed);
  const bool wrote = w.group_entries > 0;
  if (wrote) w.bulk->Poke();  // outside any transaction
  w.group_entries = 0;
  // What it applied is in the stored heads now: announced (NOTIFY) and served at once.
  mailbox.Post([this, wrote] {
    if (wrote) ++stats.groups_committed;
    applied_local.clear();
    PollHeads();
  });
}

std::int64_t Exchange::Impl::GroupTarget() const {
  // At least one pull's worth; smaller pulls (--max-batch) also mean smaller groups.
  const std::int64_t least = std::min<std::int64_t>(options.max_batch, kGroupMinEntries);
  return GrowingBatchSize(w.store_rows, least, kGroupMaxEntries);
}

ExchangeClock::duration Exchange::Impl::GroupMaxAge() const {
  if (!has_clients.load(std::memory_order_relaxed)) return kGroupMaxAgeAlone;
  const std::int64_t seconds = std::clamp<std::int64_t>(
      GroupTarget() / kGroupMinEntries, kGroupMaxAge.count(), kGroupMaxAgeLarge.count());
  return std::chrono::seconds(seconds);
}

void Exchange::Impl::SchedulePulls() {
  if (!options.pull) return;
  const auto now = ExchangeClock::now();
  for (std::size_t i = 0; i < links.size(); ++i) {
    Link& link = links[i];
    if (!link.socket || !link.welcomed) continue;
    for (const auto& [origin, seq] : link.advertised) {
      if (static_cast<int>(in_flight.size()) >= options.max_in_flight) return;
      if (origin == store.region() || !members.count(origin) || in_flight.count(origin)) continue;
      if (held_origins.count(origin)) continue;
      if (seq <= PullFrom(origin)) continue;
      if (auto a = applying.find(origin); a != applying.end() && a->second >= kMaxBatchesHeld) {
        continue;
      }
      if (auto b = link.blocked.find(origin); b != link.blocked.end() && now < b->second) continue;
      if (auto d = link.deferred.find(origin); d != link.deferred.end() && now < d->second) {
        continue;
      }
      const std::int64_t after = PullFrom(origin);
      in_flight[origin] = {i, after, now};
      // With nothing of the origin at the writer, the pipeline fills: a first batch of half the
      // size (the server ends it at the signed head 10000 entries on) is read, sent and decoded
      // in half the time before the writer can start; the pipelined pulls ask for full ones.
      const std::uint32_t max = applying.count(origin)
                                    ? options.max_batch
                                    : std::min(options.max_batch, kFillPullEntries);
      SendTo(link, wire::Pull{origin, after, max});
    }
  }
}

bool Exchange::Impl::CaughtUp() const {
  if (!in_flight.empty() || !parked.empty() || writes_outstanding > 0) return false;
  for (const Link& link : links) {
    if (link.decoding) return false;
  }
  // A probe through a member's connection to this hub (serve only) does not hold a sync up.
  for (const auto& [origin, probe] : probes) {
    if (probe.client.empty()) return false;
  }
  if (!options.pull) return true;
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

// Decoder thread: the frames decoded and the bodies prepared; back on the loop in OnDecoded.
void Exchange::Impl::DecodeOffLoop(std::size_t index, wire::Frames frames) {
  links[index].decoding = true;
  auto in = std::make_shared<wire::Frames>(std::move(frames));
  // The writer's dictionaries as last reported (a copy: the decoder thread reads it).
  // Version 6: the dictionaries held, for the received bodies that use them unsent.
  decoder->Post([this, index, in, dictionaries = relay_dictionaries, held = held_dictionaries] {
    auto out = std::make_shared<DecodedBatch>();
    BatchBuffers spare = spare_batches.Take();  // an applied batch's: overwritten in place
    out->batch.entries = std::move(spare.entries);
    out->batch.stored = std::move(spare.stored);
    out->prepared = std::move(spare.prepared);
    try {
      wire::DecodeBatch(*in, out->batch, held.get());
    } catch (const std::exception& e) {
      out->error = e.what();
    }
    if (!out->error && !out->batch.entries.empty()) {
      try {
        // Bodies received compressed are stored as received (their frames move out of
        // batch.stored); raw ones are compressed with the writer's dictionaries.
        PrepareRelayed(out->batch.head.origin, out->batch.entries, &dictionaries, out->batch.stored,
                       out->prepared);
      } catch (const Error&) {
        out->prepared.clear();  // a body that does not decode: the writer refuses the batch
      }
    } else {
      out->prepared.clear();
    }
    mailbox.Post([this, index, out] { OnDecoded(index, std::move(*out)); });
  });
}

void Exchange::Impl::OnDecoded(std::size_t index, DecodedBatch decoded) {
  Link& link = links[index];
  link.decoding = false;
  link.last_recv = ExchangeClock::now();  // what it sent since waits unread: not silent
  if (decoded.error) {
    Log("peer " + link.peer.name + " sent an undecodable message: " + *decoded.error);
    return;
  }
  if (decoded.batch.damaged) return RefuseDamaged(index, decoded.batch);
  OnBatch(index, std::move(decoded.batch), std::move(decoded.prepared));
}

void Exchange::Impl::RefuseDamaged(std::size_t index, const wire::Batch& batch) {
  Link& link = links[index];
  const std::string& origin = batch.head.origin;
  if (auto it = in_flight.find(origin);
      it != in_flight.end() && it->second.link == index && it->second.after == batch.after_seq) {
    in_flight.erase(it);
  }
  ++stats.batches_rejected;
  link.blocked[origin] = ExchangeClock::now() + kRejectBackoff;
  const std::string line =
      "rejected batch of origin " + origin + " (seq " + std::to_string(batch.after_seq + 1) + ".." +
      std::to_string(batch.head.seq) + ") from peer " + link.peer.name + ": " + *batch.damaged;
  Log(line);
  problems.push_back(line);
  SendRefused(link, batch, *batch.damaged);
}

void Exchange::Impl::SendRefused(Link& link, const wire::Batch& batch, const std::string& why) {
  if (link.version < 7 || batch.head.seq <= batch.after_seq) return;
  SendTo(link, wire::Refused{batch.head.origin, batch.after_seq, batch.head.seq,
                             why.substr(0, wire::kMaxRefusedReasonBytes)});
  ++stats.refused_sent;
}

}  // namespace carehub
