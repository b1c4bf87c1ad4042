#include "hub/store/relayed_bulk.h"

#include <algorithm>
#include <array>

#include "hub/store/bulk_load.h"

namespace carehub {
namespace {

// Filter size: 32 bits per record expected (7 hashes: a false hit about once in 10^6 probes
// when full), between 1 MiB and 32 MiB whatever the size of the catch-up (memory stays flat; a
// larger catch-up than ~8M records only gets more false hits, i.e. probes).
constexpr std::uint64_t kBitsPerRecord = 32;
constexpr std::uint64_t kMinBits = std::uint64_t{1} << 23;
constexpr std::uint64_t kMaxBits = std::uint64_t{1} << 28;
constexpr int kHashes = 7;

// The secondary record indexes (bulk_load.cc keeps their definitions).
constexpr std::array<const char*, 3> kDrop = {"DROP INDEX IF EXISTS records_key",
                                              "DROP INDEX IF EXISTS records_kind_origin",
                                              "DROP INDEX IF EXISTS records_subject_org"};

std::uint64_t FilterBits(std::int64_t records) {
  const std::uint64_t want =
      static_cast<std::uint64_t>(std::max<std::int64_t>(records, 0)) * kBitsPerRecord;
  std::uint64_t bits = kMinBits;
  while (bits < want && bits < kMaxBits) bits <<= 1;
  return bits;
}

// Bit positions of a record key (already a hash of its id): double hashing.
template <typename F>
void ForEachBit(std::uint64_t key, std::uint64_t mask, F&& f) {
  const std::uint64_t step = ((key >> 29) | (key << 35)) * 0x9E3779B97F4A7C15ULL | 1;
  for (int i = 0; i < kHashes; ++i) f((key + static_cast<std::uint64_t>(i) * step) & mask);
}

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
  if (filter_.empty()) filter_.assign(FilterBits(coming) / 64, 0);
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

bool RelayedBulk::IsNew(std::string_view origin, std::int32_t version,
                        const CanonicalRecord& record, std::int64_t record_key) const {
  if (version != 1 || runs_.find(origin) == runs_.end()) return false;
  if (MayContain(static_cast<std::uint64_t>(record_key))) return false;
  return MakeRecordId(origin, record.kind(), record.provenance.source_record_id) ==
         record.record_id;
}

void RelayedBulk::Written(std::int64_t record_key) {
  if (filter_.empty()) return;
  const std::uint64_t mask = filter_.size() * 64 - 1;
  ForEachBit(static_cast<std::uint64_t>(record_key), mask,
             [&](std::uint64_t bit) { filter_[bit / 64] |= std::uint64_t{1} << (bit % 64); });
}

bool RelayedBulk::MayContain(std::uint64_t key) const {
  if (filter_.empty()) return false;
  const std::uint64_t mask = filter_.size() * 64 - 1;
  bool all = true;
  ForEachBit(key, mask,
             [&](std::uint64_t bit) { all = all && (filter_[bit / 64] >> (bit % 64) & 1) != 0; });
  return all;
}

void RelayedBulk::NeedIndexes() {
  if (!dropped_) return;
  BuildRecordIndexes(db_);
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
  std::vector<std::uint64_t>().swap(filter_);
  NeedIndexes();
}

void RelayedBulk::RolledBack() {
  // The rollback restored indexes dropped in it; ones dropped by an earlier commit are built by
  // the next batch (RemoteWriter) or the next open. The run ends: tips are no longer known.
  finished_ = true;
  runs_.clear();
  std::vector<std::uint64_t>().swap(filter_);
  dropped_ = false;
}

}  // namespace carehub
