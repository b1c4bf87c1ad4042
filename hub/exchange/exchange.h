// Peer-to-peer exchange of signed change logs over ZeroMQ (docs/PROTOCOL.md). An Exchange owns
// one hub's Store connections, optionally a ROUTER socket (CURVE server, ZAP admits members only)
// that serves every origin the hub holds, and one DEALER (CURVE client) per member with an
// endpoint, through which it pulls every member origin the peer advertises and applies it
// (verified, exactly once: Store::ApplyRemoteBatch). New heads — own ingest by another process
// or relayed batches — are announced to connected peers with NOTIFY.
// Thread-safety: an Exchange's loop runs on the thread that calls SyncOnce / Serve; it hands
// store reads for serving and all store writes to two worker threads of its own, so that it keeps
// answering while they work. `stop` may be set from another thread or a signal handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carehub {

struct ExchangeOptions {
  // ROUTER endpoint to listen on (tcp://127.0.0.1:7301, port * for any); none = client only.
  std::optional<std::string> listen = std::nullopt;
  // Dial only this member (by name); all members with an endpoint when empty.
  std::optional<std::string> only_peer = std::nullopt;
  // Entries asked per PULL; a server may answer with fewer, or more when its nearest signed
  // head lies further (an ingest batch is signed as a whole).
  std::uint32_t max_batch = 20000;
  // PULLs outstanding at once over all peers (at most one per origin): bounds memory.
  int max_in_flight = 4;
  std::chrono::milliseconds heartbeat{500};      // PING interval per dialled peer
  std::chrono::milliseconds peer_timeout{2000};  // silence after which a link is re-dialled
  std::chrono::milliseconds head_poll{200};      // check of the store for new heads to NOTIFY
  std::chrono::milliseconds rehello{10000};      // fallback refresh of a peer's heads
  // Background store check of Serve: `verify_rows` change-log entries or records rows checked
  // every `verify_interval` (0 rows: off). The default checks at most 20000 rows a second.
  std::int64_t verify_rows = 2000;
  std::chrono::milliseconds verify_interval{100};
  // The check yields to the exchange's own work: while this hub serves or applies batches (a
  // PULL being read or a batch being written, or a BATCH with entries sent or applied within the
  // last `verify_busy_interval`) it takes a slice only once per that interval (the default: 4000
  // rows a second, a fifth of its idle pace), so a catch-up keeps the cores; a hub that is busy
  // all the time still checks at that pace (docs/PROTOCOL.md states the bound).
  std::chrono::milliseconds verify_busy_interval{500};
  // Check every batch read for serving (chain, head hash and signature) before it leaves; a
  // damaged one is answered with ERROR internal and its origin repaired. To a version-7 client
  // only what needs no body hashed is checked (the signed head and the stored log's shape) and
  // the range of a batch it refuses (REFUSED) is checked in full. Tests turn it off to
  // play a relay that serves damaged data, which its clients must refuse themselves (REFUSED
  // is then not checked either).
  bool check_served = true;
  // Newest protocol version spoken (docs/PROTOCOL.md "Versions"); 0 = this build's newest.
  // Requests in a newer version are answered ERROR unknown_version, links start in it. Tests
  // use it to play an older hub.
  std::uint8_t protocol_version = 0;
  // Pull the member origins peers advertise (off: `verify --repair` only fetches its own log).
  bool pull = true;
  // Diagnostics (peer names, origins, seqs; never record contents). stderr when empty.
  std::function<void(const std::string&)> log = nullptr;
};

// What one SyncOnce/Serve run applied for an origin.
struct OriginProgress {
  std::string origin;
  std::int64_t applied = 0;  // entries applied
  std::int64_t seq = 0;      // seq held now
  double seconds = 0;        // from the start of the run to the last applied batch
};

struct SyncReport {
  std::vector<OriginProgress> origins;  // sorted by origin
  std::vector<std::string> problems;    // unreachable peers, rejected batches
  bool caught_up = false;               // every reachable peer's member origins held
};

// One member link as the running exchange sees it, for /v1/peers and /metrics: whether the
// link answers and which seq of each origin the peer says it holds (its latest WELCOME/NOTIFY).
struct PeerLinkState {
  std::string name;
  std::string region;
  bool dialled = false;            // this hub dials the member (it has an endpoint)
  bool connected = false;          // dialled and answered recently, or connected to us recently
  double last_heard_seconds = -1;  // since the last message from the member; -1 never
  std::map<std::string, std::int64_t> advertised;  // origin -> seq the member holds
};

// The store's own check as `serve` runs it in the background (hub/store/verify.h) and what it
// repaired, for /metrics and /health.
struct StoreCheckState {
  std::int64_t passes = 0;    // full passes over changes and records completed
  std::int64_t problems = 0;  // problems found by the last full pass (0 before the first)
  std::int64_t repairs = 0;   // repairs run (background pass or a damaged batch found serving)
  bool sound = true;          // no problem in the last pass nor in a batch read for serving since
  std::int64_t slices = 0;    // slices checked (verify_rows rows each, the last of a pass fewer)
  std::int64_t slices_while_busy = 0;  // of them, taken at the busy pace (serving, applying)
  // Version 7: REFUSED from members (a batch this hub served, refused for its content) whose
  // range this hub checked and found damaged (then repaired) or sound, and those not checked
  // (one at a time per member, one a second; or check_served off, or an unknown origin).
  std::int64_t refused_damaged = 0;
  std::int64_t refused_sound = 0;
  std::int64_t refused_dropped = 0;
};

struct ExchangeStats {
  std::int64_t batches_applied = 0;
  std::int64_t entries_applied = 0;
  std::int64_t batches_rejected = 0;
  std::int64_t batches_deferred = 0;  // not applied, store busy (another writer): pulled again
  std::int64_t groups_committed = 0;  // commits of applied batches (group commit, PROTOCOL.md)
  std::int64_t batches_served = 0;
  std::int64_t notifies_sent = 0;
  std::int64_t connections_denied = 0;
  std::int64_t pulls_lost = 0;    // PULLs found unanswered by a later PONG, sent again
  std::int64_t forks_found = 0;   // new fork evidence recorded (docs/PROTOCOL.md "Fork evidence")
  std::int64_t refused_sent = 0;  // version 7: REFUSED sent to servers whose batch was refused
};

// How long the exchange loop's steps take (docs/PROTOCOL.md "Flow, notification, liveness"): the
// loop answers every PING and PULL between steps, so its longest step is how long a member may
// wait for an answer beyond the network. Each step is split into the parts below; the longest
// step is kept with the part that took most of it, and the loop's time per part is summed.
enum class LoopPart {
  kPeerMessages,   // messages from dialled members: WELCOME/NOTIFY gossip, a BATCH checked and
                   // its bodies decoded for the writer (PrepareRelayed)
  kRequests,       // requests of connected members (PING, HELLO, PULL handed to the reader)
  kWorkerResults,  // what the writer and reader report back (applied batches, served batches)
  kTimers,         // liveness, pulls, repairs, head poll and NOTIFY
  kStoreCheck,     // the background store check (Serve)
};
inline constexpr int kLoopParts = 5;
std::string_view LoopPartName(LoopPart part);  // "peer_messages", "requests", ...

struct ExchangeLoopLoad {
  std::int64_t steps = 0;                          // steps that did any work
  double longest_step_seconds = 0;                 // the longest of them
  LoopPart longest_step_part = LoopPart::kTimers;  // the part that took most of it
  std::int64_t longest_step_at_ms = 0;             // when (ms since the exchange started)
  double busy_seconds[kLoopParts] = {};            // loop time per part (LoopPart order)
};
// "loop: steps=N longest=0.081s (peer_messages at 12.3s) busy: peer_messages=9.10s ..." for
// `carehub sync` and `carehub serve` output (bench/catchup.sh reads it).
std::string LoopLoadLine(const ExchangeLoopLoad& load);

class Exchange {
 public:
  // Opens the hub at `dir`, binds `options.listen` (throws Error::IoError when it cannot) and
  // dials the members.
  Exchange(const std::filesystem::path& dir, ExchangeOptions options);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // The bound ROUTER endpoint with its real port, or "" without a listener.
  std::string endpoint() const;
  // Pulls until every dialled peer's member origins are held (or the peer is unreachable /
  // rejected), or `timeout`, or `stop`. Also serves requests meanwhile when listening. A repair
  // started meanwhile (a damaged range found while serving, a gossiped head that differs) is
  // finished before it returns; one still running at `timeout` is named in `problems`.
  SyncReport SyncOnce(std::chrono::milliseconds timeout, const std::atomic<bool>* stop = nullptr);
  // Serves and keeps in sync until `stop` is true.
  void Serve(const std::atomic<bool>& stop);
  ExchangeStats stats() const;
  std::vector<OriginProgress> progress() const;
  // A snapshot of the member links, refreshed by Serve/SyncOnce after every poll round.
  // Thread-safe: may be called from any thread while Serve runs (the HTTP API does).
  std::vector<PeerLinkState> LinkStates() const;
  // Batches rejected so far (stats().batches_rejected), readable from any thread.
  std::int64_t BatchesRejected() const;
  // Verifies this hub's own origin and, while its log is damaged, fetches the damaged range
  // back from members that hold a copy and rewrites it once proven against this hub's own
  // signed heads (`carehub verify --repair`). True when the own log verifies, false when it
  // still does not after `timeout`, or sooner when no member can help (none has an endpoint,
  // none answers within the peer timeout, none holds the range, every copy was refused);
  // `why_not` (optional) then says which.
  bool RepairOwnLog(std::chrono::milliseconds timeout, std::string* why_not = nullptr);
  // `carehub verify --repair`: repairs the change logs of `origins` (and the records rows that
  // read them) from members, as serve does: this hub's own log as RepairOwnLog; another
  // origin's damaged range pulled from a member, proven from the stored entry below it and
  // rewritten in place (nothing cut). When no member's copy can be used (none has an endpoint,
  // none answers within the peer timeout, none holds the range, every copy asked was refused or
  // not answered) or `timeout` passes first, another origin's log is cut back to its last sound
  // signed head if `cut_without_copy` (the next sync pulls the rest again) and otherwise left as
  // it is; the own log is never cut. One outcome per origin, in the order given.
  struct LogRepairOutcome {
    std::string origin;
    bool sound = false;   // the origin verifies now
    bool cut = false;     // its log was cut back (only with cut_without_copy)
    std::string why_not;  // why no member's copy was used, when none was
  };
  std::vector<LogRepairOutcome> RepairLogs(const std::vector<std::string>& origins,
                                           std::chrono::milliseconds timeout,
                                           bool cut_without_copy);
  // The background store check (Serve only), readable from any thread.
  StoreCheckState StoreCheck() const;
  // The loop's step times so far (Serve/SyncOnce), readable from any thread.
  ExchangeLoopLoad LoopLoad() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace carehub
