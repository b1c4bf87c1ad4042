// Self-check and repair of a hub store (`carehub verify [--repair]`, serve's background check):
// every origin's chain (seqs, entry hashes recomputed, links), every signed head (hash at its seq,
// signature by the origin's key), every `records` row against the change that wrote it and
// holds its body (id, version, the body decodes, lookup keys, person index), that each record
// is at its latest change, and PRAGMA integrity_check. Problems name origin, seq and record id,
// never record contents.
// Repair rewrites bad `records` rows from their changes and drops a bad tail of another origin's
// log back to its last sound signed head, so that the exchange pulls it again from a member.
// Thread-safety: functions use the caller's Store (one thread); a LogVerifier belongs to one
// thread too. Layouts and the exact checks: docs/STORE.md "Verification and repair".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/store/store.h"

namespace carehub {

enum class ProblemKind {
  kChain,      // a change-log entry: gap, unknown op, entry_hash does not match, broken link
  kHead,       // a signed head: hash not at its seq, bad signature, not the log's end
  kRecord,     // a `records` row disagrees with its latest change
  kIndex,      // a lookup key or person index row is missing or wrong
  kIntegrity,  // PRAGMA integrity_check
};
std::string_view ProblemKindName(ProblemKind kind);

struct StoreProblem {
  ProblemKind kind = ProblemKind::kChain;
  std::string origin;     // "" for a store-wide problem
  std::int64_t seq = 0;   // 0 when none
  std::string record_id;  // "" when none
  std::string detail;     // what is wrong; never record contents
  bool operator==(const StoreProblem&) const = default;
};
// "chain origin=310000 seq=17 record=3f2a...: the body or the entry's fields changed: ..."
std::string ProblemLine(const StoreProblem& problem);

// Signing keys to check heads with: this hub's own origin and every member's (peers table).
std::map<std::string, SignPublicKey> OriginKeys(Store& store);

struct VerifyOptions {
  std::optional<std::string> origin = std::nullopt;  // only this origin's log and records
  bool integrity_check = true;                       // PRAGMA integrity_check (whole file)
};

struct VerifyReport {
  std::vector<StoreProblem> problems;
  std::vector<std::string> notes;  // what could not be checked (e.g. origin without a key)
  std::int64_t entries = 0;        // change-log entries checked
  std::int64_t records = 0;        // records rows checked
  bool sound() const { return problems.empty(); }
};

// Where a chain check stands in an origin's log: the last entry checked, its stored entry_hash,
// the hash recomputed from its content, and (when the two differ) the index of the problem
// reported for it, refined once the entry after it shows which of the two the chain continues.
struct LogCheckCursor {
  std::int64_t seq = 0;
  Hash256 stored{};    // zeros before seq 1
  Hash256 computed{};  // from the entry's content and the stored entry_hash before it
  std::optional<std::size_t> mismatch = std::nullopt;
};

// Checks the whole store (or one origin) in one read transaction.
VerifyReport VerifyStore(Store& store, const VerifyOptions& options = {});

// The background check of `serve`: each Step checks at most `rows_per_step` change-log entries
// and records rows, resuming where the last Step stopped, and starts over after a full pass.
// Problems of the pass in progress accumulate; `last_pass` holds those of the last full pass.
class IncrementalVerifier {
 public:
  explicit IncrementalVerifier(std::int64_t rows_per_step) : rows_per_step_(rows_per_step) {}
  // Checks the next slice. Returns true when this Step completed a pass.
  bool Step(Store& store);
  const std::vector<StoreProblem>& current() const { return current_; }
  const std::vector<StoreProblem>& last_pass() const { return last_pass_; }
  std::int64_t passes() const { return passes_; }

 private:
  std::int64_t rows_per_step_;
  std::vector<std::string> origins_;  // origins of this pass
  std::size_t origin_index_ = 0;
  LogCheckCursor chain_at_;  // last entry checked of origins_[origin_index_]
  bool records_phase_ = false;
  std::int64_t record_rowid_ = 0;
  std::vector<StoreProblem> current_, last_pass_;
  std::int64_t passes_ = 0;
};

struct RepairReport {
  std::int64_t records_restored = 0;             // rows rewritten from their change
  std::map<std::string, std::int64_t> logs_cut;  // origin -> seq kept (dropped beyond it)
  std::vector<std::string> unrepaired;           // what needs an operator
  bool reindexed = false;
};

// Repairs what `report` found, in one write transaction: records rows and index rows are
// rewritten from their latest change; a chain or head problem in another origin's log drops
// that log from the problem's seq on, back to the last signed head below it whose hash matches
// (records of the dropped entries go back to their last kept version), so the next sync pulls
// the rest again from any member; an index reported by integrity_check is rebuilt (REINDEX).
// The hub's own log is never cut (it cannot be re-fetched without forking it): reported in
// `unrepaired`.
RepairReport RepairStore(Store& store, const VerifyReport& report);

// The last signed head of `origin` at or below `at_most` whose hash is the stored entry hash at
// its seq and whose signature verifies, as a cursor (seq 0 and the zero hash when none): where
// a damaged range is fetched again from.
ChainCursor LastSoundCursor(Store& store, const std::string& origin, std::int64_t at_most);

// Repair of this hub's OWN log (its only copy of a damaged body is the one members hold):
// `entries`, fetched from a member, must continue the held log at `from` (LastSoundCursor),
// end at `head`, signed with this hub's own key, and agree with every signed head this hub holds
// in their range and with its head; then every stored entry of the range that differs is
// rewritten from them, in one write transaction. The records rows are not touched (they hold no
// body). Refused (nothing written) with the reason otherwise.
struct OwnLogRestore {
  std::int64_t rewritten = 0;          // entries rewritten
  std::optional<std::string> refused;  // why the entries were not used
};
OwnLogRestore RestoreOwnLog(Store& store, const ChainCursor& from,
                            const std::vector<ChangeEntry>& entries, const SignedHead& head);
// The same for ANOTHER origin's log (a relay's copy), with that origin's `key`, and `from` the
// entry just below the first damaged one (docs/STORE.md "How far back a relayed log is cut"):
// entries verifying from the stored entry hash at `from` to a head the origin signed prove
// every stored entry up to `from` (they recompute to it) without cutting anything.
OwnLogRestore RestoreRelayedLog(Store& store, const ChainCursor& from,
                                const std::vector<ChangeEntry>& entries, const SignedHead& head,
                                const SignPublicKey& key);
// Where a relayed origin's log can be proven and rewritten from instead of cut (the entry below
// its first damaged one, as stored): nullopt when `found` holds no chain problem of `origin` or
// any head problem of it (a damaged signed head is not rewritten: the log is cut instead).
std::optional<ChainCursor> RelayedDamage(Store& store, const std::string& origin,
                                         const std::vector<StoreProblem>& found);

// Drops another origin's log past its last sound signed head at or below `at_most` (0: all of
// it), with its signed heads and the records those entries wrote (back to their last kept
// version), in the caller's write transaction; returns the seq kept. Used by `carehub fork
// resolve` to give up a branch.
std::int64_t CutOriginLog(Store& store, const std::string& origin, std::int64_t at_most,
                          RepairReport& report);

}  // namespace carehub
