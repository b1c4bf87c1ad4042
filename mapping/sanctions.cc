#include "mapping/sanctions.h"

#include <algorithm>

namespace carehub::mapping {
namespace {

template <typename Map, typename Key>
void Unpost(Map& map, const Key& key, const SanctionEntry* entry) {
  auto it = map.find(key);
  if (it == map.end()) return;
  auto& postings = it->second;
  postings.erase(std::remove(postings.begin(), postings.end(), entry), postings.end());
  if (postings.empty()) map.erase(it);
}

}  // namespace

void SanctionIndex::Add(const CanonicalRecord& record) {
  const auto* notice = std::get_if<SanctionNotice>(&record.body);
  if (notice == nullptr) return;
  SanctionEntry* entry = nullptr;
  auto existing = by_record_.find(record.record_id);
  if (existing != by_record_.end()) {
    entry = existing->second;
    for (const auto& token : entry->tokens) Unpost(by_token_, token, entry);
    if (!entry->uscc.empty()) Unpost(by_uscc_, entry->uscc, entry);
    if (!entry->local_id.empty()) Unpost(by_local_id_, entry->local_id, entry);
    *entry = SanctionEntry{};
  } else {
    entry = &entries_.emplace_back();
    by_record_.emplace(record.record_id, entry);
  }
  entry->record_id = record.record_id;
  entry->issuing_region = notice->issuing_region;
  entry->legal_basis = notice->legal_basis;
  entry->native_code = notice->native.code;
  entry->type = notice->sanction_type;
  entry->subject_kind = notice->subject_kind;
  entry->status = record.status;
  entry->decided_on = notice->decided_on;
  entry->ends_on = notice->ends_on;
  if (notice->subject_person) {
    for (const auto& token : notice->subject_person->tokens) {
      entry->tokens.push_back(token.token);
      by_token_[token.token].push_back(entry);
      Mark(TokenHash{}(token.token));
    }
  }
  if (notice->subject_org) {
    if (notice->subject_org->uscc && !notice->subject_org->uscc->empty()) {
      entry->uscc = *notice->subject_org->uscc;
      by_uscc_[entry->uscc].push_back(entry);
      Mark(StringHash{}(entry->uscc));
    }
    if (notice->subject_org->local_id && !notice->subject_org->local_id->empty()) {
      entry->local_id = *notice->subject_org->local_id;
      by_local_id_[entry->local_id].push_back(entry);
      Mark(StringHash{}(entry->local_id));
    }
  }
}

void SanctionIndex::Consider(const Postings& postings, Date date, const SanctionEntry*& best) {
  for (const SanctionEntry* entry : postings) {
    if (!entry->InForce(date)) continue;
    if (best == nullptr || entry->decided_on < best->decided_on ||
        (entry->decided_on == best->decided_on && entry->record_id < best->record_id)) {
      best = entry;
    }
  }
}

const SanctionEntry* SanctionIndex::FindPerson(const PersonRef& person, Date date) const {
  const SanctionEntry* best = nullptr;
  if (by_token_.empty()) return best;
  for (const auto& token : person.tokens) {
    if (!Marked(TokenHash{}(token.token))) continue;
    auto it = by_token_.find(token.token);
    if (it != by_token_.end()) Consider(it->second, date, best);
  }
  return best;
}

const SanctionEntry* SanctionIndex::FindOrg(const OrgRef& org, Date date) const {
  const SanctionEntry* best = nullptr;
  if (org.uscc && !org.uscc->empty() && Marked(StringHash{}(*org.uscc))) {
    auto it = by_uscc_.find(std::string_view(*org.uscc));
    if (it != by_uscc_.end()) Consider(it->second, date, best);
  }
  if (org.local_id && !org.local_id->empty() && Marked(StringHash{}(*org.local_id))) {
    auto it = by_local_id_.find(std::string_view(*org.local_id));
    if (it != by_local_id_.end()) Consider(it->second, date, best);
  }
  return best;
}

}  // namespace carehub::mapping
