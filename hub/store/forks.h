// Fork evidence (issue 17, docs/STORE.md "Fork evidence"): two validly signed heads of one origin
// that cannot both be true — the same seq with different hashes, or a chain that does not extend
// a head this hub holds. The exchange records what it finds here (both signed heads, who sent
// the other one, when); an origin with open evidence is held (nothing of it is applied) until an
// operator keeps one branch (`carehub fork resolve`). Functions use the caller's connection and
// write in its transaction when one is open; one thread per Store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hub/store/change_log.h"
#include "hub/store/store.h"

namespace carehub {

struct ForkEvidence {
  std::int64_t id = 0;
  std::string origin;
  std::int64_t fork_seq = 0;   // a seq at which the two branches are known to differ
  std::int64_t agree_seq = 0;  // highest seq known to be the same on both (0: unknown)
  SignedHead held;             // this hub's signed head on its branch
  SignedHead other;            // the conflicting signed head
  std::string other_from;      // member that sent `other`
  std::string how;             // "gossip" (a head exchanged in HELLO/WELCOME/NOTIFY) or "batch"
  std::int64_t detected_ms = 0;
  std::optional<std::int64_t> resolved_ms = std::nullopt;
  std::optional<Hash256> kept = std::nullopt;  // head hash of the branch the operator kept
};

// Stores `evidence` (id and detected_ms are filled in) unless the same pair of heads of the
// origin is recorded already. Returns true when it is new.
bool RecordForkEvidence(sqlite::Database& db, ForkEvidence evidence);
// Every row, oldest first; only those not resolved yet when `open_only`.
std::vector<ForkEvidence> ListForkEvidence(sqlite::Database& db, bool open_only);
// Origins with open evidence: the exchange applies nothing of them.
std::set<std::string> HeldOrigins(sqlite::Database& db);
// The fork point found by probing `other_from`'s copy (the exchange compares entry hashes), whose
// gossiped head was `other_hash`: the open evidence of `origin` from that member, or of that head
// whoever sent it (a hub dialled by the member that raised it probes another member holding the
// same branch), gets agree_seq and fork_seq. Returns rows set.
int RecordForkPoint(sqlite::Database& db, const std::string& origin, const std::string& other_from,
                    const Hash256& other_hash, std::int64_t agree_seq, std::int64_t fork_seq);
// True when (origin, seq, hash) is the head of a branch an operator decided against: it is not
// raised again when a member still carries it.
bool IsRejectedHead(sqlite::Database& db, const std::string& origin, std::int64_t seq,
                    const Hash256& hash);

struct ForkResolution {
  std::int64_t resolved = 0;                          // evidence rows closed
  bool kept_held = true;                              // the branch this hub holds was kept
  std::optional<std::int64_t> cut_to = std::nullopt;  // seq the log was cut back to
};
// `carehub fork resolve --origin O --keep HASH`: HASH must be the held or the other head of an
// open evidence row of O (else Error::InvalidInput). Keeping the held branch closes the rows.
// Keeping the other branch also drops this hub's entries of O past the last seq known to agree
// (all of them when unknown) back to a sound signed head, with the records they wrote, so that
// the exchange pulls the kept branch from members; refused for this hub's own origin (its log
// cannot be cut). One write transaction.
ForkResolution ResolveFork(Store& store, const std::string& origin, const Hash256& keep);

}  // namespace carehub
