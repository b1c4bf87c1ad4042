// Internals shared by hub/exchange/exchange*.cc (exchange.cc: set-up and the poll loop;
// exchange_links.cc: liveness; exchange_pull.cc: pull and apply; exchange_serve.cc: the ROUTER
// side): the state of one Exchange. Not part of the interface; include only from exchange*.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "hub/exchange/exchange.h"
#include "hub/exchange/peers.h"
#include "hub/exchange/store_worker.h"
#include "hub/exchange/wire.h"
#include "hub/exchange/zap.h"
#include "hub/store/forks.h"
#include "hub/store/person_rows.h"
#include "hub/store/relayed_bulk.h"
#include "hub/store/store.h"
#include "hub/store/verify.h"

namespace carehub {

using ExchangeClock = std::chrono::steady_clock;

// Largest batch a server sends whatever the client asks (bounded memory on both sides), unless
// the nearest signed head lies further.
inline constexpr std::uint32_t kMaxServedEntries = 20000;
// Batches of one origin held at once by a pulling hub: received and queued for the writer
// (being written included) plus the one pulled ahead. Three keep the writer fed while the peer
// reads the next batch and the loop decodes it (two left it waiting for the peer's read when
// both cores were busy); each holds at most one pull's entries, so memory stays bounded.
inline constexpr int kMaxBatchesHeld = 3;
// An origin whose batch a peer refused to serve or this hub rejected is not pulled from that
// peer again for this long (other members are asked meanwhile).
inline constexpr std::chrono::seconds kRejectBackoff{5};
// Group commit age bound. It keeps what a relay applied reaching its clients promptly (NOTIFY
// follows each commit): 1 s while groups are small (kGroupMinEntries), growing with the group
// target (one more second per kGroupMinEntries entries of it) up to kGroupMaxAgeLarge. Each
// commit rewrites every random-key index page the group touched, nearly the whole index once it
// is larger than a group, so a large store catching up commits less often. With no client heard
// from (kClientForgotten: nobody to notify, e.g. `carehub sync --once`) the group runs to its
// target, bounded by kGroupMaxAgeAlone (issue 16: at 5M records a 4 s group was one 20,000-entry
// batch, ~20x the commits of the same ingest). Another writer waiting for the lock never waits
// for the bound: the group commits after the batch it is writing (sqlite::kWriterWaitingFor).
inline constexpr std::chrono::seconds kGroupMaxAge{1};
inline constexpr std::chrono::seconds kGroupMaxAgeLarge{4};
inline constexpr std::chrono::seconds kGroupMaxAgeAlone{60};
// With no client, a group also stays open across a gap between batches of up to this long while
// a PULL is outstanding (the next batch is being read and sent by the peer); otherwise, and
// always with clients, it is committed 50 ms after the last batch.
inline constexpr std::chrono::seconds kGroupIdleAlone{1};
inline constexpr std::chrono::milliseconds kGroupIdlePoke{200};

// One dialled member.
struct Link {
  Peer peer;
  std::unique_ptr<zmq::socket_t> socket;
  bool welcomed = false;
  bool unreachable = false;
  std::map<std::string, std::int64_t> advertised;            // origin -> seq the peer holds
  std::map<std::string, ExchangeClock::time_point> blocked;  // origin -> retry after a rejection
  // origin -> pull again after the store was busy; unlike `blocked`, not caught up meanwhile
  std::map<std::string, ExchangeClock::time_point> deferred;
  std::set<std::uint64_t> schema_requested;
  // Protocol version spoken on this link: the newest, until the peer answers ERROR
  // unknown_version (an older hub) in an older version, then that one until re-dialled.
  std::uint8_t version = wire::kProtocolVersion;
  ExchangeClock::time_point dialled{}, last_recv{}, last_ping{}, last_hello{}, next_dial{};
  std::chrono::milliseconds backoff{250};
  bool retired = false;  // the member was removed: closed and never dialled again
  // A BATCH of it is with the decoder thread (DecodeOffLoop): its socket is not read meanwhile,
  // so its messages are still handled in the order they came.
  bool decoding = false;
};

struct InFlight {
  std::size_t link = 0;
  std::int64_t after = 0;
  ExchangeClock::time_point sent{};
};

// A batch waiting for the writer schemas of some of its records.
struct ParkedBatch {
  std::size_t link = 0;
  wire::Batch batch;
};

struct ConnectedClient {
  std::string name;
  ExchangeClock::time_point last_seen{};
  std::uint8_t version = wire::kProtocolVersion;  // of its last request: replies and NOTIFY use it
  // PULLs (origin, after_seq) being read by the serve worker: a repeat of one is not read twice,
  // and a PING is answered with the nonce of the last PING that had none waiting before it, so
  // a PONG still proves that every earlier request was answered (docs/PROTOCOL.md).
  std::set<std::pair<std::string, std::int64_t>> serving;
  std::uint64_t answered_nonce = 0;
};

// A received batch on its way to the writer thread.
struct PendingApply {
  std::size_t link = 0;
  std::string peer;
  SignPublicKey key{};
  wire::Batch batch;
  std::int64_t advertised = 0;  // the origin's head the link advertised (RelayedBulk::Expect)
  std::vector<RelayedColumns> prepared;  // PrepareRelayed of the entries (empty: the writer's)
};

// What the writer made of a PendingApply.
struct ApplyOutcome {
  ApplyResult result;
  bool gap = false;   // it does not continue what is held (an earlier batch was refused)
  bool busy = false;  // another writer held the lock: nothing written, pulled again later
  // The writer's encoding dictionaries of the batch's schemas, for the decoder thread to
  // compress the next batches' bodies with (PrepareRelayed).
  std::map<std::uint64_t, DictionaryPtr> dictionaries;
};

// The writer thread's state (touched on the writer thread only): its connection's bulk mode
// and the open group of relayed batches.
struct WriterState {
  std::unique_ptr<sqlite::BulkWriteMode> bulk;
  std::optional<sqlite::Transaction> group;
  // The open group's record_persons rows, written in key order by CommitGroup (person_rows.h).
  std::unique_ptr<PersonRows> persons;
  // The bulk path of a first catch-up of an origin (relayed_bulk.h), one per writer.
  std::unique_ptr<RelayedBulk> relay_bulk;
  std::int64_t group_entries = 0;
  ExchangeClock::time_point group_started{};
  ExchangeClock::time_point last_write{};  // end of the last batch written into the group
  std::int64_t store_rows = 0;  // records in the store (max rowid at open + entries applied)
};

struct Exchange::Impl {
  Impl(const std::filesystem::path& dir, ExchangeOptions opts);
  ~Impl();

  void Log(const std::string& line) const;
  bool Step(std::chrono::milliseconds wait);  // one poll round; false when nothing happened
  // Read and handle up to `max` waiting messages of the router / of one link, without waiting;
  // true when there was one.
  bool DrainRouter(int max);
  bool DrainLink(std::size_t index, int max);
  bool CaughtUp() const;

  // client side (exchange.cc, exchange_links.cc, exchange_pull.cc)
  void Dial(Link& link);
  void SendTo(Link& link, const wire::Message& message);
  wire::Hello HelloMessage();
  void OnLinkMessage(std::size_t index, const wire::Frames& frames);
  void StepDownVersion(Link& link, std::uint8_t answered_in);
  std::uint8_t NewestVersion() const {
    return options.protocol_version ? options.protocol_version : wire::kProtocolVersion;
  }
  // A BATCH's frames are decoded (decompressed, hashes derived) and its bodies decoded into
  // their lookup columns (PrepareRelayed) on the decoder thread, not on the loop: ~0.1-0.3 s
  // per 20,000 entries, seconds under a sanitizer, during which the loop answered nobody.
  struct DecodedBatch {
    wire::Batch batch;
    std::vector<RelayedColumns> prepared;  // empty: left to the writer
    std::optional<std::string> error;      // why the frames did not decode
  };
  // Version 6: the dictionaries an applied batch brought (held from now on, listed in PULLs).
  void HoldDictionaries(const std::vector<DictionaryPtr>& received);
  // The ids a version-6 PULL lists (at most wire::kMaxPullDictionaries, the newest).
  std::vector<std::uint32_t> HeldDictionaryIds() const;
  void DecodeOffLoop(std::size_t index, wire::Frames frames);
  void OnDecoded(std::size_t index, DecodedBatch decoded);
  // `prepared`: PrepareRelayed of the batch's entries, or empty (the writer prepares them).
  void OnBatch(std::size_t index, wire::Batch batch, std::vector<RelayedColumns> prepared = {});
  // The writer schemas of `batch`'s bodies this hub does not know (SCHEMA_REQUEST them first).
  std::set<std::uint64_t> MissingSchemas(const wire::Batch& batch,
                                         const std::vector<RelayedColumns>& prepared);
  void ApplyBatch(std::size_t index, wire::Batch batch,
                  std::vector<RelayedColumns> prepared);                 // hands it to the writer
  void OnApplied(const PendingApply& job, const ApplyOutcome& outcome);  // back on the loop
  // The seq pulls of `origin` continue from: held, or queued for the writer beyond that.
  std::int64_t PullFrom(const std::string& origin) const;
  void Timers();
  void OnPong(std::size_t index, std::uint64_t nonce);
  void SchedulePulls();
  void RefreshMembers();
  void RetireOrRedialLinks(const std::map<std::string, Peer>& now_by_name);
  void OpenRouter(const std::string& endpoint);
  void ReopenRouter();
  void PollHeads();
  std::int64_t LocalSeq(const std::string& origin) const;

  // server side (exchange_serve.cc)
  void OnRouterMessage(const std::string& routing_id, const std::string& user,
                       const wire::Frames& frames);
  // nullopt: answered later (a PULL, read by the serve worker).
  std::optional<wire::Message> HandleRequest(const std::string& routing_id, const std::string& user,
                                             const wire::Message& request, std::uint8_t version);
  void PostPull(const std::string& routing_id, ConnectedClient& client, const wire::Pull& pull);
  // On the serve worker, with its Store. A batch read for serving is checked before it leaves
  // with `key` (chain inside the batch, its head's hash and signature); `damage` says why not.
  static wire::Message ServePull(Store& store, const wire::Pull& pull,
                                 const std::optional<SignPublicKey>& key,
                                 std::optional<std::string>& damage, std::uint8_t version = 0);
  // Version 6: the batch's bodies as stored, and the dictionaries they use that `pull` did not
  // list (a body whose dictionary cannot go along is sent raw).
  static void AttachStored(const wire::Pull& pull, wire::Batch& batch);
  // Version 7: the cheap check of a batch read as stored (contiguous, the last stored entry
  // hash is the signed head's, its signature verifies); nullopt when it passes.
  static std::optional<std::string> CheckServedCheaply(const wire::Batch& batch,
                                                       const SignPublicKey& key);
  static wire::ErrorReply DamagedReply(const std::string& origin);  // ERROR internal
  static std::optional<SignedHead> ServedHead(Store& store, const std::string& origin,
                                              std::int64_t after_seq, std::int64_t limit,
                                              const SignedHead& fallback);
  // Version 7: a member's REFUSED of a batch this hub served: that range checked on the serve
  // worker (bounded per member: refused_checks) and repaired when damaged.
  void OnRefused(const std::string& user, const wire::Refused& refused);
  struct RefusedChecks {
    bool checking = false;             // a check of this member's REFUSED is with the worker
    ExchangeClock::time_point next{};  // no further check started before
  };
  std::map<std::string, RefusedChecks> refused_checks;  // member name ->
  // Client side, version 7: tells the server of `link` that this hub refused its `batch` for
  // its content (`why`), so that it checks that range of its log.
  void SendRefused(Link& link, const wire::Batch& batch, const std::string& why);
  // A version-7 BATCH whose body did not decompress (Batch::damaged): refused like a batch the
  // writer refuses (logged, the origin not pulled from that peer for kRejectBackoff) and
  // REFUSED sent.
  void RefuseDamaged(std::size_t index, const wire::Batch& batch);

  // Self-check (exchange_serve.cc): a background pass every options.verify_interval, and the
  // repair of an origin found damaged (its log cut back, pulled again from members).
  void VerifyStep();
  bool RecordIndexesReady();  // false while a bulk load has them dropped (logged once)
  // At most once a minute per origin (every PULL of a damaged origin would trigger it), unless
  // `per_minute` is false: a background pass that finds new damage (another first problem than
  // its last) repairs it at once instead of waiting out the minute of an earlier repair.
  // A relayed origin's damaged log is first proven and rewritten from a member's batch
  // (exchange_relay_repair.cc) unless `cut`: then it is cut back to its last sound signed head.
  void RepairOrigin(const std::string& origin, const std::string& why, bool per_minute = true,
                    bool cut = false);
  void OnRepaired(const std::string& origin, const std::vector<StoreProblem>& found,
                  const RepairReport& repair, const std::string& why);
  // Repair of this hub's own log (exchange_own_repair.cc): its damaged range is pulled from a
  // member holding it, proven against this hub's own signed heads and rewritten in place
  // (RestoreOwnLog, hub/store/verify.h), range by range until the own log verifies.
  struct OwnRepair {
    ChainCursor from;                      // last sound signed head below the damage
    std::size_t link = SIZE_MAX;           // the member asked last (SIZE_MAX: none yet)
    ExchangeClock::time_point next_try{};  // when to ask (again, another member)
    std::set<std::size_t> refused;         // links whose copy was refused this round
    int exhausted_rounds = 0;              // rounds that ended with every holder refused
  };
  std::optional<OwnRepair> own_repair;
  bool own_check_pending = false;  // a verify of the own origin is with the writer
  static std::optional<ChainCursor> OwnDamage(Store& s, const std::vector<StoreProblem>& found);
  void StartOwnRepair(const ChainCursor& from);
  void OwnRepairTimers();
  // Why the own repair cannot succeed with the members as they are (none dialled, none
  // answering, none holding the range, every copy refused); nullopt while one may still help.
  std::optional<std::string> OwnRepairHopeless() const;
  void OnOwnBatch(std::size_t index, wire::Batch batch);
  void OnOwnRestored(std::size_t index, const ChainCursor& from, const OwnLogRestore& restore,
                     std::int64_t last, const std::optional<ChainCursor>& next);
  // Repair of a relayed origin's log without cutting it (exchange_relay_repair.cc): the range
  // from the first damaged entry is pulled from a member, proven from the stored entry below it
  // (RestoreRelayedLog) and rewritten; cut back after kRelayRepairGiveUp without a usable copy.
  struct RelayRepair {
    ChainCursor from;       // the entry below the first damaged one, as stored
    std::int64_t held = 0;  // this hub's head of the origin
    std::size_t link = SIZE_MAX;
    std::set<std::size_t> asked;
    bool checking = false;  // a member's batch is with the writer, being proven
    ExchangeClock::time_point next_try{}, give_up{};
  };
  std::map<std::string, RelayRepair> relay_repairs;  // origin ->
  void StartRelayRepair(const std::string& origin, const ChainCursor& from, std::int64_t held);
  void RelayRepairTimers();
  // Why the relay repair of `origin` cannot succeed with the members as they are (none dialled,
  // none answering, none holding the range, every copy asked refused or unanswered); nullopt
  // while one may still help.
  std::optional<std::string> RelayRepairHopeless(const std::string& origin) const;
  // The walk both *RepairHopeless share: nullopt while some member may still supply `origin`
  // beyond `from_seq` (a link not answered yet but not silent, or one advertising the range
  // for which `may_help(link index)` holds); else why none can: no dialled member,
  // `all_tried` when given (every copy asked was refused), or no answering member holding
  // `what` beyond `from_seq`.
  std::optional<std::string> NoMemberCanHelp(const std::string& origin, std::int64_t from_seq,
                                             const std::string& what,
                                             const std::function<bool(std::size_t)>& may_help,
                                             const std::optional<std::string>& all_tried) const;
  // Whether a relayed log without a usable member copy is cut back to its last sound signed
  // head (serve, sync) or left as it is and reported in `repairs_not_done` (`carehub verify
  // --repair` without --cut: an operator decides).
  bool relay_repair_cuts = true;
  std::map<std::string, std::string> repairs_not_done;  // origin -> why (not cut)
  int repair_checks_pending = 0;   // RepairOrigin verifies with the writer, not reported back
  std::set<std::string> cut_back;  // origins cut back by DropHopelessRepairs
  void DropHopelessRepairs(bool cut, std::map<std::string, std::string>& why);
  // A repair started and not finished: a verify with the writer, a range being fetched.
  bool RepairsBusy() const {
    return repair_checks_pending > 0 || own_repair.has_value() || !relay_repairs.empty();
  }
  void OnRelayRepairBatch(std::size_t index, wire::Batch batch);
  void OnRelayRestored(std::size_t index, const std::string& origin, const ChainCursor& from,
                       const OwnLogRestore& restore, std::int64_t last,
                       const std::optional<ChainCursor>& next, bool still_damaged);
  std::optional<Store> verify_store;
  std::optional<IncrementalVerifier> verifier;
  bool verify_paused = false;  // a bulk load has the record indexes dropped (VerifyStep)
  ExchangeClock::time_point last_verify_step{};
  // The check yields to serving and applying (options.verify_busy_interval): PULLs posted to
  // the serve worker and not answered yet, and when the last BATCH with entries was sent or
  // applied (batches with the writer: writes_outstanding).
  int pulls_being_read = 0;
  ExchangeClock::time_point last_batch_moved{};
  std::map<std::string, ExchangeClock::time_point> last_origin_repair;
  std::map<std::string, std::string> last_pass_problem;  // origin -> first problem line
  std::set<std::string> acted_this_pass;  // origins whose problem this pass was acted on already
  std::int64_t passes_done = 0;           // background passes finished by this serve
  StoreCheckState check;
  mutable std::mutex check_mutex;  // guards `check` for Exchange::StoreCheck
  // Fork evidence (exchange_forks.cc): signed heads gossiped in HELLO/WELCOME/NOTIFY are
  // compared with the held log; a batch that is validly signed but does not extend the held
  // chain is evidence too. An origin with open evidence is held: not pulled, nothing applied.
  void OnGossip(const std::string& peer, const std::vector<SignedHead>& heads);
  void CheckGossipedHead(const std::string& peer, const SignedHead& head);
  // True when the refused batch was handled here: evidence raised, or this hub's own copy found
  // damaged where it was compared (repaired, the origin deferred on `link`).
  bool RecordBatchFork(Link& link, const wire::Batch& batch);
  void RaiseFork(ForkEvidence evidence, const std::string& why);
  const SignPublicKey* OriginKey(const std::string& origin) const;
  std::optional<Hash256> HeldEntryHash(const std::string& origin, std::int64_t seq);
  // This hub's signed head of `origin` covering `to_seq` (the smallest at or above it), when its
  // stored chain from `from_seq` up to that head verifies with `key` (the stored entry hashes
  // there are the origin's); nullopt when this hub's own copy is damaged there.
  std::optional<SignedHead> SoundHeldRange(const std::string& origin, std::int64_t from_seq,
                                           std::int64_t to_seq, const SignPublicKey& key);
  std::set<std::string> held_origins;   // origins with open fork evidence (re-read every 0.5 s)
  std::set<std::string> pending_holds;  // evidence handed to the writer, not yet stored
  // Fork point probe (exchange_forks.cc): evidence from gossip says only that the branches
  // differ at some seq; the member holding the other branch is asked for batches (binary
  // search over seqs) and entry hashes compared, so that `fork resolve` keeping the other
  // branch drops only the diverging suffix.
  struct ForkProbe {
    std::size_t link = SIZE_MAX;  // the dialled member asked with PULLs
    // Or: the member (by name) asked through its own connection to this hub with HASH_REQUEST
    // (version 5), when this hub does not dial it.
    std::string client;
    std::int64_t agree = 0;   // highest seq known equal on both
    std::int64_t differ = 0;  // lowest seq known different
    std::int64_t asked = -1;  // after_seq of the PULL out (-1: none)
    ExchangeClock::time_point sent{};
    int tries = 0;
    Hash256 other{};  // the head the probed member gossiped (its branch)
  };
  std::map<std::string, ForkProbe> probes;  // origin ->
  void StartProbe(const std::string& peer, const SignedHead& other);
  void ProbeTimers();
  void OnProbeBatch(const std::string& origin, const wire::Batch& batch);
  // Version 5: a HASH_REQUEST of the probed client's entry hashes, its HASHES answer, and this
  // hub answering one as a client (exchange_forks.cc).
  void SendHashRequest(const std::string& origin, ForkProbe& probe);
  void OnProbeHashes(const std::string& peer, const wire::Hashes& hashes);
  void AnswerHashRequest(Link& link, const wire::HashRequest& request);
  // Both: moves the probe's bounds by one compared (seq, hash); false at the first difference.
  static bool CompareProbed(ForkProbe& probe, std::int64_t seq, const Hash256& theirs,
                            const std::function<std::optional<Hash256>(std::int64_t)>& ours);
  void FinishProbe(const std::string& origin);  // once the point is found: recorded
  // The routing id of the latest connection of member `name` speaking `version` or newer.
  std::optional<std::string> ClientRoute(const std::string& name, std::uint8_t version) const;
  std::map<std::pair<std::string, std::string>, SignedHead> gossip_checked;  // (peer, origin)
  std::vector<SignedHead> SignedHeads();  // this hub's latest signed head of every origin
  wire::Welcome WelcomeMessage();
  std::optional<std::string> CheckHelloRegion(const std::string& user,
                                              const std::string& region) const;
  void Notify();

  ExchangeOptions options;
  Store store;  // the loop's connection: reads only (writes go to the writer thread)
  // The vectors of applied batches, given back by the loop (RecycleBatch) for the decoder thread
  // to decode and prepare the next ones into: their strings are reused, not freed on the loop
  // and allocated again by the decoder (~4 per entry: ~0.7 s of the loop and ~0.3 s of the
  // decoder in a 1M catch-up). Declared before the threads that use it (destroyed after them).
  struct BatchBuffers {
    std::vector<ChangeEntry> entries;
    std::vector<CompressedBody> stored;
    std::vector<RelayedColumns> prepared;
  };
  // Kept: as many as the batches one origin holds at once (kMaxBatchesHeld; with one or two,
  // applied batches were still freed on the loop half the time: the decoder takes in bursts),
  // and only while more batches are pulled: the spares are dropped with the last one queued,
  // before the writer's final commit (which may build the record indexes).
  SparePool<BatchBuffers> spare_batches{static_cast<std::size_t>(kMaxBatchesHeld)};
  void RecycleBatch(PendingApply& job);
  bool MorePulls() const;  // a batch is being pulled, or a link advertises more than is queued
  // Store work off the loop thread (hub/exchange/store_worker.h): `writer` applies relayed
  // batches, repairs and records evidence on its own connection; `reader` reads and encodes
  // batches for serving on another. Results come back through `mailbox`.
  Mailbox mailbox;
  std::unique_ptr<StoreWorker> writer, reader;
  std::unique_ptr<JobThread> decoder;  // received batches (DecodeOffLoop)
  void StartWorkers();
  void StopWorkers();
  // Writer thread. Group commit: consecutive relayed batches share one transaction (each batch a
  // savepoint in it), committed when no batch arrived for 50 ms, after kGroupMaxAge, or at
  // GroupTarget() entries. Each commit rewrites the random-key index pages it touched, so fewer
  // commits write far less once the store is large (as ingest's growing batches,
  // hub/store/ingest.h). A crash loses the open group only; the cursors are the stored heads, so
  // it is pulled again. A commit tells the loop, which announces the new heads at once.
  WriterState w;
  void WriteBatch(Store& s, const std::shared_ptr<PendingApply>& job);
  std::map<std::uint64_t, DictionaryPtr> EncodingDictionaries(Store& s, const PendingApply& job);
  void BeginGroup(Store& s);
  void CommitGroup(Store& s);
  void CommitIdleGroup(Store& s);  // writer idle: commits unless the group may wait (no client)
  std::int64_t GroupTarget() const;
  ExchangeClock::duration GroupMaxAge() const;
  void FlushWriter();  // loop: commits the open group and runs what it reported
  // Loop-side view of the writer: origin -> seq applied (committed or not; cleared by each
  // commit, after which the stored heads show it), origin -> last seq queued for it and batches
  // of it queued.
  std::map<std::string, std::int64_t> applied_local, queued;
  std::map<std::string, int> applying;
  // Writer schema -> the dictionary the writer compresses relayed bodies of it with, learnt
  // from ApplyOutcome: PrepareRelayed compresses with it on the decoder thread.
  std::map<std::uint64_t, DictionaryPtr> relay_dictionaries;
  // Body dictionaries this hub holds (stored at start, or received in version-6 BATCHes and
  // stored by the writer with the first batch using them): a PULL lists them, the decoder
  // thread decompresses received bodies with them. Replaced, never changed (shared with it).
  std::shared_ptr<const wire::HeldDictionaries> held_dictionaries =
      std::make_shared<wire::HeldDictionaries>();
  std::vector<std::int64_t> held_order;  // ids, oldest first
  std::int64_t writes_outstanding = 0;
  zmq::context_t context;
  std::unique_ptr<ZapHandler> zap;
  std::unique_ptr<zmq::socket_t> router;
  std::vector<Link> links;
  std::map<std::string, Peer> members;            // region -> member
  std::map<std::string, std::int64_t> local;      // origin -> seq held (signed head)
  std::map<std::string, std::int64_t> announced;  // heads last sent in NOTIFY
  std::map<std::string, InFlight> in_flight;      // origin -> outstanding PULL
  std::map<std::string, int> pull_retries;        // origin -> PULLs timed out since its last BATCH
  std::vector<ParkedBatch> parked;
  std::map<std::string, ConnectedClient> clients;  // routing id -> peer
  std::atomic<bool> has_clients{false};            // !clients.empty(), for the writer thread
  std::atomic<bool> group_open{false};             // the writer holds an open group (w.group)
  std::atomic<bool> expecting_batches{false};      // !in_flight.empty(): a PULL is answered soon
  std::map<std::string, OriginProgress> progress;
  std::map<std::string, ExchangeClock::time_point> first_apply;
  std::vector<std::string> problems;
  ExchangeStats stats;
  ExchangeClock::time_point last_head_poll{}, last_member_refresh{}, last_idle_poke{};
  ExchangeClock::time_point started = ExchangeClock::now();
  std::atomic<std::int64_t> denied{0};

  // Snapshot for other threads (Exchange::LinkStates); written by the exchange thread only.
  // Loop load (exchange.cc): the current step's time per part (LoopPartTimer), folded into
  // `loop_load` by EndLoopStep at the start of the next step.
  ExchangeClock::duration step_parts[kLoopParts] = {};
  void EndLoopStep();
  mutable std::mutex loop_load_mutex;  // guards `loop_load` for Exchange::LoopLoad
  ExchangeLoopLoad loop_load;

  void PublishLinkStates();
  mutable std::mutex link_states_mutex;
  std::vector<PeerLinkState> link_states;
  std::atomic<std::int64_t> batches_rejected_shared{0};
};

// Adds the time from its construction to its end to the current loop step's `part`.
class LoopPartTimer {
 public:
  LoopPartTimer(Exchange::Impl& impl, LoopPart part)
      : impl_(impl), part_(static_cast<int>(part)), start_(ExchangeClock::now()) {}
  ~LoopPartTimer() { impl_.step_parts[part_] += ExchangeClock::now() - start_; }
  LoopPartTimer(const LoopPartTimer&) = delete;
  LoopPartTimer& operator=(const LoopPartTimer&) = delete;

 private:
  Exchange::Impl& impl_;
  int part_;
  ExchangeClock::time_point start_;
};

// Multipart helpers: Receive returns false when nothing was waiting.
bool ReceiveFrames(zmq::socket_t& socket, wire::Frames& frames, std::string* user_id);
void SendFrames(zmq::socket_t& socket, const wire::Frames& frames,
                const std::string* routing_id = nullptr);

}  // namespace carehub
