#include "hub/store/person_rows.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "schemas/error.h"

namespace carehub {
namespace {

template <typename A, typename B>
bool KeyLess(const A& a, const B& b) {
  return std::tie(a.token_key, a.record_key) < std::tie(b.token_key, b.record_key);
}

struct RowHash {
  template <typename R>
  std::size_t operator()(const R& r) const {
    return std::hash<std::int64_t>{}(r.token_key) * 31 + std::hash<std::int64_t>{}(r.record_key);
  }
};

struct RowEqual {
  template <typename R>
  bool operator()(const R& a, const R& b) const {
    return a.token_key == b.token_key && a.record_key == b.record_key;
  }
};

}  // namespace

PersonRows::PersonRows(sqlite::Database& db)
    : insert_(db, "INSERT OR IGNORE INTO record_persons(token_key, record_key) VALUES(?, ?)"),
      delete_(db, "DELETE FROM record_persons WHERE token_key = ? AND record_key = ?"),
      delete_all_(db, "DELETE FROM record_persons WHERE record_key = ?") {}

void PersonRows::Insert(std::int64_t token_key, std::int64_t record_key) {
  inserts_.push_back({token_key, record_key});
}

void PersonRows::Delete(std::int64_t token_key, std::int64_t record_key) {
  removals_.push_back({{token_key, record_key}, static_cast<std::uint32_t>(Size()), Kind::kDelete});
}

void PersonRows::DeleteAll(std::int64_t record_key) {
  removals_.push_back({{0, record_key}, static_cast<std::uint32_t>(Size()), Kind::kDeleteAll});
}

void PersonRows::Clear() {
  inserts_.clear();
  removals_.clear();
}

void PersonRows::Truncate(std::size_t mark) {
  if (mark >= Size()) return;
  while (!removals_.empty() && removals_.back().order >= mark) removals_.pop_back();
  // The first `mark` ops were the removals left and this many inserts.
  inserts_.resize(mark - removals_.size());
}

void PersonRows::Flush() {
  if (Size() == 0) return;
  if (Size() > std::numeric_limits<std::uint32_t>::max()) {
    throw Error::InvalidInput("too many queued person rows in one transaction");
  }
  DropSuperseded();
  WriteInKeyOrder();
  Clear();
}

// The net effect of the queue, op by op in queue order, is: a DeleteAll(r) removes the rows of r
// stored and voids the ops of r queued before it; of the ops of one row after that, the last
// decides (an insert or ignore leaves the row there, a delete leaves it gone). So the DeleteAlls
// run first, against the stored rows, and only each row's last op stays.
void PersonRows::DropSuperseded() {
  if (removals_.empty()) return;  // inserts only (a bulk write): duplicates are ignored anyway
  std::unordered_map<std::int64_t, std::uint32_t> last_delete_all;  // record_key -> order
  std::unordered_map<Row, std::uint32_t, RowHash, RowEqual> last_delete;
  for (const Removal& r : removals_) {
    auto& last =
        r.kind == Kind::kDeleteAll ? last_delete_all[r.row.record_key] : last_delete[r.row];
    last = std::max(last, r.order);
  }
  for (const auto& [record_key, order] : last_delete_all) delete_all_.Bind(1, record_key).Run();
  const auto voided = [&](std::int64_t record_key, std::uint32_t at) {
    const auto it = last_delete_all.find(record_key);
    return it != last_delete_all.end() && it->second > at;
  };
  // Inserts in place, each at the queue position the removals around it give back.
  std::unordered_map<Row, std::uint32_t, RowHash, RowEqual> last_insert;  // of deleted rows
  std::size_t kept = 0;
  std::size_t next_removal = 0;
  std::uint32_t position = 0;
  for (const Row& row : inserts_) {
    while (next_removal < removals_.size() && removals_[next_removal].order == position) {
      ++next_removal;
      ++position;
    }
    const std::uint32_t at = position++;
    if (voided(row.record_key, at)) continue;
    if (const auto d = last_delete.find(row); d != last_delete.end()) {
      if (d->second > at) continue;  // deleted later
      last_insert[row] = at;
    }
    inserts_[kept++] = row;
  }
  inserts_.resize(kept);
  kept = 0;
  for (const Removal& r : removals_) {
    if (r.kind == Kind::kDeleteAll || last_delete[r.row] != r.order) continue;
    if (const auto i = last_insert.find(r.row); i != last_insert.end() && i->second > r.order) {
      continue;  // inserted again later
    }
    removals_[kept++] = r;
  }
  removals_.resize(kept);
}

// One walk of the index in key order: inserts and deletes merged (no row is in both).
void PersonRows::WriteInKeyOrder() {
  std::sort(inserts_.begin(), inserts_.end(), KeyLess<Row, Row>);
  std::sort(removals_.begin(), removals_.end(),
            [](const Removal& a, const Removal& b) { return KeyLess(a.row, b.row); });
  auto insert = inserts_.begin();
  auto removal = removals_.begin();
  while (insert != inserts_.end() || removal != removals_.end()) {
    if (removal == removals_.end() ||
        (insert != inserts_.end() && KeyLess(*insert, removal->row))) {
      insert_.Bind(1, insert->token_key).Bind(2, insert->record_key).Run();
      ++insert;
    } else {
      delete_.Bind(1, removal->row.token_key).Bind(2, removal->row.record_key).Run();
      ++removal;
    }
  }
}

}  // namespace carehub
