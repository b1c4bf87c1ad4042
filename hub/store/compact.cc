#include "hub/store/compact.h"

#include <filesystem>
#include <set>
#include <vector>

#include "hub/store/body_codec.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

struct RawRow {
  std::int64_t rowid;
  std::string body;
};

// Up to `limit` raw change rows after `after_rowid`, in rowid order (read before the batch's
// transaction: the statement is finished before any row is rewritten).
std::vector<RawRow> ReadRawRows(sqlite::Database& db, std::int64_t after_rowid,
                                std::int64_t up_to_rowid, std::int64_t limit) {
  sqlite::Statement stmt(db,
                         "SELECT rowid, body FROM changes WHERE dict IS NULL AND rowid > ? AND "
                         "rowid <= ? ORDER BY rowid LIMIT ?");
  stmt.Bind(1, after_rowid).Bind(2, up_to_rowid).Bind(3, limit);
  std::vector<RawRow> rows;
  while (stmt.Step()) rows.push_back({stmt.ColumnInt64(0), std::string(stmt.ColumnBlob(1))});
  return rows;
}

std::int64_t CheckpointedFileBytes(sqlite::Database& db) {
  sqlite3_wal_checkpoint_v2(db.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(db.path(), ec);
  return ec ? 0 : static_cast<std::int64_t>(bytes);
}

// Walks the raw rows up to the rowid the run started with, compressing each through the
// store's codec (which collects training samples of schemas without a dictionary and trains
// one once it has enough). With `only` set, rows of other schemas are skipped: the second pass
// compresses the rows a dictionary trained during the first pass came too late for, without
// feeding the same bodies to a trainer twice.
class Pass {
 public:
  Pass(Store& store, const CompactOptions& options, CompactReport& report, std::int64_t last_rowid)
      : store_(store), options_(options), report_(report), last_rowid_(last_rowid) {}

  void Run(const std::set<std::uint64_t>* only) {
    std::int64_t after = 0;
    while (true) {
      const std::vector<RawRow> rows =
          ReadRawRows(store_.db(), after, last_rowid_, options_.batch_rows);
      if (rows.empty()) return;
      RewriteBatch(rows, only);
      after = rows.back().rowid;
      if (options_.progress) options_.progress(report_.compressed);
    }
  }

 private:
  void RewriteBatch(const std::vector<RawRow>& rows, const std::set<std::uint64_t>* only) {
    BodyCodec& codec = store_.bodies();
    sqlite::Transaction tx(store_.db());
    codec.StoreTrained();  // a rolled-back batch may have taken a trained dictionary's row
    sqlite::Statement update(store_.db(),
                             "UPDATE changes SET dict = ?, body = ? WHERE rowid = ? AND dict IS "
                             "NULL");
    std::int64_t compressed = 0, before = 0, after = 0;
    for (const RawRow& row : rows) {
      if (only && !only->contains(SingleObjectFingerprint(row.body).value_or(0))) continue;
      const std::optional<std::int64_t> dict = codec.Encode(row.body, compressed_);
      if (!dict) continue;
      CheckRoundTrip(codec, *dict, row);
      update.Bind(1, *dict).BindBlob(2, compressed_).Bind(3, row.rowid);
      if (update.Run() == 0) continue;  // rewritten meanwhile (by serve): nothing to do
      ++compressed;
      before += static_cast<std::int64_t>(row.body.size());
      after += static_cast<std::int64_t>(compressed_.size());
    }
    tx.Commit();
    report_.compressed += compressed;
    report_.body_bytes_before += before;
    report_.body_bytes_after += after;
  }

  // Nothing is rewritten that would not read back byte for byte.
  void CheckRoundTrip(BodyCodec& codec, std::int64_t dict, const RawRow& row) {
    if (codec.Read(dict, compressed_, plain_) != row.body) {
      throw Error::Corruption("compact: change rowid " + std::to_string(row.rowid) +
                              " does not read back after compression");
    }
  }

  Store& store_;
  const CompactOptions& options_;
  CompactReport& report_;
  std::int64_t last_rowid_;
  std::string compressed_, plain_;
};

std::set<std::uint64_t> FingerprintsWithDictionary(Store& store) {
  std::set<std::uint64_t> out;
  for (const DictionaryPtr& d : LoadBodyDictionaries(store.db().handle())) {
    out.insert(d->fingerprint);
  }
  return out;
}

void Vacuum(Store& store, CompactReport& report) {
  const std::filesystem::path path = store.db().path();
  std::error_code ec;
  const auto space = std::filesystem::space(path.parent_path(), ec);
  const auto needed = static_cast<std::uintmax_t>(report.file_bytes_before);
  if (!ec && space.available < needed) {
    report.vacuum_skipped = "VACUUM needs " + std::to_string(needed) + " bytes free, " +
                            std::to_string(space.available) + " available";
    return;
  }
  try {
    store.db().Exec("VACUUM");
    report.vacuumed = true;
  } catch (const sqlite::SqliteError& e) {
    if (!e.busy()) throw;
    report.vacuum_skipped = "the hub is busy (another process writes): stop serve and run again";
  }
}

}  // namespace

CompactReport CompactBodies(Store& store, const CompactOptions& options) {
  if (options.batch_rows < 1) throw Error::InvalidInput("compact: batch rows must be at least 1");
  CompactReport report;
  sqlite::Database& db = store.db();
  report.file_bytes_before = CheckpointedFileBytes(db);
  report.raw_before = db.QueryInt("SELECT count(*) FROM changes WHERE dict IS NULL").value_or(0);
  const std::int64_t last_rowid = db.QueryInt("SELECT max(rowid) FROM changes").value_or(0);

  Pass pass(store, options, report, last_rowid);
  const std::set<std::uint64_t> before = FingerprintsWithDictionary(store);
  pass.Run(nullptr);
  if (const std::set<std::uint64_t> now = FingerprintsWithDictionary(store); now != before) {
    pass.Run(&now);
  }
  report.raw_after = db.QueryInt("SELECT count(*) FROM changes WHERE dict IS NULL").value_or(0);

  if (options.vacuum) Vacuum(store, report);
  report.file_bytes_after = CheckpointedFileBytes(db);
  return report;
}

}  // namespace carehub
