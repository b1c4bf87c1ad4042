// SanctionIndex: every penalty / dishonesty notice the hub knows, from any region, indexed by
// the person tokens and organisation ids (USCC, local id) of its subject, so that recognising a
// caregiver or facility can ask "is this subject under a sanction in force on date D?" without
// touching the disk. Build it completely (Add), then query; queries are const and thread-safe,
// and the entries they return stay valid as long as the index lives and nothing is added.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schemas/record.h"

namespace carehub::mapping {

struct SanctionEntry {
  std::string record_id;
  std::string issuing_region;
  std::string legal_basis;
  std::string native_code;  // e.g. "blacklist"
  SanctionType type = SanctionType::kPenalty;
  SubjectKind subject_kind = SubjectKind::kOrganisation;
  RecordStatus status = RecordStatus::kActive;
  Date decided_on{};
  std::optional<Date> ends_on;
  // The subject's keys as indexed.
  std::vector<Hmac256> tokens;
  std::string uscc;
  std::string local_id;

  // ACTIVE, decided on or before `date`, and not ended before it. WITHDRAWN, REPAIRED (信用修复),
  // RETRACTED or ended notices do not block.
  bool InForce(Date date) const {
    return status == RecordStatus::kActive && decided_on <= date && (!ends_on || *ends_on >= date);
  }
};

class SanctionIndex {
 public:
  // Indexes a sanction record (other kinds are ignored). A newer version of the same record id
  // replaces the older one.
  void Add(const CanonicalRecord& record);

  // The sanction in force on `date` against any of the person's tokens / the organisation's
  // USCC or local id; nullptr when none. When several are in force the earliest decided (then
  // the smallest record id) is returned, so the answer does not depend on insertion order.
  const SanctionEntry* FindPerson(const PersonRef& person, Date date) const;
  const SanctionEntry* FindOrg(const OrgRef& org, Date date) const;

  std::size_t size() const { return by_record_.size(); }

 private:
  struct TokenHash {
    std::size_t operator()(const Hmac256& token) const {
      std::size_t h = 0;
      for (int i = 0; i < 8; ++i) h = (h << 8) | token[i];
      return h;
    }
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  using Postings = std::vector<const SanctionEntry*>;

  static void Consider(const Postings& postings, Date date, const SanctionEntry*& best);

  // One bit per hashed person token / org id ever indexed: most subjects have no notice, and
  // this 128 KiB filter answers that from cache instead of walking the hash maps.
  static constexpr std::size_t kFilterBits = std::size_t{1} << 20;
  void Mark(std::size_t hash) { filter_[(hash % kFilterBits) / 64] |= 1ull << (hash % 64); }
  bool Marked(std::size_t hash) const {
    return (filter_[(hash % kFilterBits) / 64] >> (hash % 64)) & 1;
  }
  std::vector<std::uint64_t> filter_ = std::vector<std::uint64_t>(kFilterBits / 64);

  std::deque<SanctionEntry> entries_;
  std::unordered_map<std::string, SanctionEntry*> by_record_;
  std::unordered_map<Hmac256, Postings, TokenHash> by_token_;
  std::unordered_map<std::string, Postings, StringHash, std::equal_to<>> by_uscc_;
  std::unordered_map<std::string, Postings, StringHash, std::equal_to<>> by_local_id_;
};

}  // namespace carehub::mapping
