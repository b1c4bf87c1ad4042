#include "hub/store/bulk_load.h"

#include <malloc.h>

#include <array>
#include <filesystem>
#include <string>
#include <string_view>

namespace carehub {
namespace {

// The index build at the end of a bulk load (BulkLoad::Finish): page cache and sorter memory.
constexpr std::int64_t kIndexBuildCacheKib = 16384;
constexpr int kIndexBuildThreads = 1;

struct IndexDef {
  std::string_view name;
  std::string_view create;  // the statement of the migration step that made it
  bool dropped_for_load;    // dropped by an ingest's bulk load, built at its end
};

// The secondary indexes of `records` (migrations.cc step 5). Each takes one entry per record; a
// load into an empty store writes records_key (random keys) and records_subject_org far cheaper
// sorted at the end than row by row. records_kind_origin stays: a load's rows all have the same
// kind and origin and come in rowid order, so each entry goes to the index's last page, and the
// writer thread, which has time to spare, does that while the reader reads, where its sorted
// build was ~35% of the serial index build at the end (docs/PERFORMANCE.md, session 11).
constexpr std::array<IndexDef, 3> kRecordIndexes{{
    {"records_key", "CREATE INDEX records_key ON records(record_key)", true},
    {"records_kind_origin", "CREATE INDEX records_kind_origin ON records(kind, origin)", false},
    {"records_subject_org",
     "CREATE INDEX records_subject_org ON records(subject_org) WHERE subject_org IS NOT NULL",
     true},
}};

// A record is at most this many bytes of any builtin input format (see BulkLoad).
constexpr std::uintmax_t kBytesPerRowAtMost = 512;

bool IndexExists(sqlite::Database& db, std::string_view name) {
  sqlite::Statement find(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?");
  find.Bind(1, name);
  return find.Step();
}

}  // namespace

bool RecordIndexesPresent(sqlite::Database& db) {
  for (const IndexDef& index : kRecordIndexes) {
    if (!IndexExists(db, index.name)) return false;
  }
  return true;
}

void BuildRecordIndexes(sqlite::Database& db) {
  for (const IndexDef& index : kRecordIndexes) {
    if (!IndexExists(db, index.name)) db.Exec(index.create);
  }
}

void RepairRecordIndexes(sqlite::Database& db) noexcept {
  try {
    if (RecordIndexesPresent(db)) return;
    sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
    BuildRecordIndexes(db);
    tx.Commit();
  } catch (const Error&) {
    // Left for the next open (see the header).
  }
}

BulkLoad::BulkLoad(sqlite::Database& db, const std::string& origin, const std::string& file,
                   bool enabled)
    : db_(db) {
  if (!enabled) return;
  sqlite::Statement own(db_, "SELECT EXISTS(SELECT 1 FROM changes WHERE origin = ?)");
  own.Bind(1, origin);
  active_ = own.Step() && own.ColumnInt(0) == 0;
  if (!active_) return;
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(file, ec);
  const auto records = db_.QueryInt("SELECT max(rowid) FROM records").value_or(0);
  drop_ = static_cast<std::uintmax_t>(records) <= (ec ? 0 : bytes / kBytesPerRowAtMost);
}

BulkLoad::~BulkLoad() {
  if (!dropped_) return;
  try {
    BuildRecordIndexes(db_);
  } catch (const Error&) {
    // The next open builds them (RepairRecordIndexes).
  }
}

void BulkLoad::BeginBatch(std::int64_t tip_seq) {
  if (!active_) return;
  if (tip_seq != expected_tip_) {
    active_ = false;
    drop_ = false;
    if (dropped_) BuildRecordIndexes(db_);  // the probes of the rest of the run use them
    dropped_ = false;
    return;
  }
  if (!drop_) return;
  drop_ = false;
  for (const IndexDef& index : kRecordIndexes) {
    if (index.dropped_for_load) db_.Exec("DROP INDEX IF EXISTS " + std::string(index.name));
  }
  dropped_ = true;
}

void BulkLoad::Finish() {
  active_ = false;
  if (!dropped_) return;
  BuildRecordIndexesAfterLoad(db_);
  dropped_ = false;
}

void BuildRecordIndexesAfterLoad(sqlite::Database& db) {
  // CREATE INDEX sorts its keys in memory up to the connection's cache size (64 MiB in bulk
  // write mode) before it writes sorted runs to a temporary file: with the bulk cache, the
  // sorter's memory grew with the store (1M records ~30 MB, 5M the whole 64 MiB) on top of a
  // full page cache. A small cache for the build (which also gives back the bulk cache's pages)
  // bounds both (malloc_trim: glibc keeps freed small chunks otherwise); PRAGMA threads lets a
  // second thread sort runs beside the table scan.
  if (RecordIndexesPresent(db)) return;
  const std::int64_t cache = db.QueryInt("PRAGMA cache_size").value_or(-2000);
  db.Exec("PRAGMA cache_size=-" + std::to_string(kIndexBuildCacheKib) +
          "; PRAGMA threads=" + std::to_string(kIndexBuildThreads));
  malloc_trim(0);  // the freed cache pages are small heap chunks: hand them back to the system
  BuildRecordIndexes(db);
  db.Exec("PRAGMA threads=0; PRAGMA cache_size=" + std::to_string(cache));
}

}  // namespace carehub
