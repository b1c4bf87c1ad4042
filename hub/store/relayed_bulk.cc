#include "hub/store/relayed_bulk.h"

#include <algorithm>
#include <array>

#include "hub/store/bulk_load.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// The secondary record indexes (bulk_load.cc keeps their definitions).
constexpr std::array<const char*, 3> kDrop = {"DROP INDEX IF EXISTS records_key",
                                              "DROP INDEX IF EXISTS records_kind_origin",
                                              "DROP INDEX IF EXISTS records_subject_org"};

}  // namespace

RelayedBulk::~RelayedBulk() {
  if (!dropped_) return;
  try {
    BuildRecordIndexes(db_);
  } catch (const Error&) {
    // The next open builds them (RepairRecordIndexes).
  }
}

void RelayedBulk::Expect(const std::string& origin, std::int64_t advertised_seq) {
  std::int64_t& seq = expected_[origin];
  seq = std::max(seq, advertised_seq);
  if (auto it = runs_.find(origin); it != runs_.end()) it->second.target = seq;
}

bool RelayedBulk::BeginBatch(const std::string& origin, std::int64_t tip_seq) {
  if (finished_) return false;
  if (auto it = runs_.find(origin); it != runs_.end()) {
    if (it->second.tip == tip_seq) return true;
    runs_.erase(it);  // another writer appended: probed from now on
    return false;
  }
  if (tip_seq != 0) return false;
  const auto expected = expected_.find(origin);
  const std::int64_t coming = expected == expected_.end() ? 0 : expected->second;
  runs_[origin] = {0, coming};
  if (!written_) written_.emplace(keys_in_memory_, IdSet::kDefaultFilterBytes);
  if (!drop_tried_) {
    drop_tried_ = true;
    // Rebuilding the indexes over the whole store must cost less than the random inserts.
    const std::int64_t stored = db_.QueryInt("SELECT max(rowid) FROM records").value_or(0);
    if (stored <= coming) {
      for (const char* sql : kDrop) db_.Exec(sql);
      dropped_ = true;
    }
  }
  return true;
}

void RelayedBulk::EndBatch(const std::string& origin, std::int64_t tip_seq) {
  if (auto it = runs_.find(origin); it != runs_.end()) it->second.tip = tip_seq;
}

bool RelayedBulk::IsNew(std::string_view origin, std::int32_t version, bool derived_id,
                        std::int64_t record_key) {
  if (version != 1 || !derived_id || !written_ || runs_.find(origin) == runs_.end()) {
    return false;
  }
  return Insert(record_key);
}

void RelayedBulk::Written(std::int64_t record_key) {
  if (written_) Insert(record_key);
}

bool RelayedBulk::Insert(std::int64_t record_key) {
  try {
    return written_->Insert(static_cast<std::uint64_t>(record_key));
  } catch (const Error&) {
    // The temporary file failed (a spill may have lost keys): no entry skips its probe again.
    written_.reset();
    runs_.clear();
    finished_ = true;
    return false;
  }
}

void RelayedBulk::NeedIndexes() {
  if (!dropped_) return;
  BuildRecordIndexesAfterLoad(db_);
  dropped_ = false;
}

bool RelayedBulk::ShouldFinish() const {
  if (finished_ || (runs_.empty() && !dropped_)) return false;
  return std::all_of(runs_.begin(), runs_.end(),
                     [](const auto& run) { return run.second.tip >= run.second.target; });
}

void RelayedBulk::Finish() {
  finished_ = true;
  runs_.clear();
  written_.reset();
  NeedIndexes();
}

void RelayedBulk::RolledBack() {
  // The rollback restored indexes dropped in it; ones dropped by an earlier commit are built by
  // the next batch (RemoteWriter) or the next open. The run ends: tips are no longer known.
  finished_ = true;
  runs_.clear();
  written_.reset();
  dropped_ = false;
}

}  // namespace carehub
