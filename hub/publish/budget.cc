#include "hub/publish/budget.h"

#include <climits>

#include "hub/store/published_files.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// What the series spent, through release `through_seq` (all releases by default).
std::int64_t Spent(sqlite::Database& db, const std::string& series, int through_seq = INT32_MAX) {
  sqlite::Statement stmt(db,
                         "SELECT coalesce(sum(rho_micro), 0) FROM dataset_spends WHERE series = ? "
                         "AND seq <= ?");
  stmt.Bind(1, series).Bind(2, through_seq);
  stmt.Step();
  return stmt.ColumnInt64(0);
}

std::optional<std::string> PreviousRelease(sqlite::Database& db, const std::string& series,
                                           int seq) {
  sqlite::Statement stmt(db,
                         "SELECT release FROM dataset_spends WHERE series = ? AND seq < ? AND "
                         "release IS NOT NULL ORDER BY seq DESC LIMIT 1");
  stmt.Bind(1, series).Bind(2, seq);
  if (!stmt.Step()) return std::nullopt;
  return stmt.ColumnText(0);
}

// The series' budget, creating the series when new; checks a requested budget against it.
std::int64_t SeriesBudgetMicro(sqlite::Database& db, const std::string& series,
                               std::optional<std::int64_t> requested, std::int64_t now_ms) {
  sqlite::Statement find(db, "SELECT budget_rho_micro FROM dataset_series WHERE series = ?");
  find.Bind(1, series);
  if (find.Step()) {
    const std::int64_t budget = find.ColumnInt64(0);
    if (requested && *requested != budget) {
      throw Error::InvalidInput("budget: series '" + series + "' has a budget of rho " +
                                RhoText(budget) + "; a series' budget is fixed when it starts");
    }
    return budget;
  }
  if (!requested || *requested <= 0) {
    throw Error::InvalidInput("budget: series '" + series + "' is new: give its total rho");
  }
  sqlite::Statement insert(
      db, "INSERT INTO dataset_series(series, budget_rho_micro, created_at) VALUES(?, ?, ?)");
  insert.Bind(1, series).Bind(2, *requested).Bind(3, now_ms);
  insert.Run();
  return *requested;
}

}  // namespace

std::string RhoText(std::int64_t rho_micro) {
  std::string text = std::to_string(rho_micro / 1000000) + ".";
  std::string fraction = std::to_string(1000000 + rho_micro % 1000000).substr(1);
  while (fraction.size() > 1 && fraction.back() == '0') fraction.pop_back();
  return text + fraction;
}

ReleaseSlot SpendBudget(Store& store, const std::string& series, const std::string& fingerprint,
                        std::int64_t rho_micro, std::optional<std::int64_t> budget_micro,
                        std::int64_t now_ms) {
  sqlite::Database& db = store.db();
  sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
  ReleaseSlot slot;
  slot.budget.series = series;
  slot.budget.budget_micro = SeriesBudgetMicro(db, series, budget_micro, now_ms);
  sqlite::Statement same(db,
                         "SELECT seq, issued_day, release FROM dataset_spends WHERE series = ? "
                         "AND fingerprint = ?");
  same.Bind(1, series).Bind(2, fingerprint);
  if (same.Step()) {
    slot.seq = static_cast<int>(same.ColumnInt64(0));
    slot.issued = Date(std::chrono::days(same.ColumnInt64(1)));
    slot.reused = true;
    if (!same.IsNull(2)) slot.release = same.ColumnText(2);
  } else {
    const std::int64_t spent = Spent(db, series);
    if (spent + rho_micro > slot.budget.budget_micro) {
      throw Error::InvalidInput("budget: series '" + series + "' has rho " +
                                RhoText(slot.budget.budget_micro - spent) + " left of " +
                                RhoText(slot.budget.budget_micro) + " (" + RhoText(spent) +
                                " spent); this release needs " + RhoText(rho_micro) +
                                ": publish with a smaller --rho or start a new --series");
    }
    sqlite::Statement next(db,
                           "SELECT coalesce(max(seq), 0) + 1 FROM dataset_spends WHERE series = ?");
    next.Bind(1, series);
    next.Step();
    slot.seq = static_cast<int>(next.ColumnInt64(0));
    slot.issued = std::chrono::floor<std::chrono::days>(
        std::chrono::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(now_ms)));
    sqlite::Statement insert(db,
                             "INSERT INTO dataset_spends(series, seq, fingerprint, rho_micro, "
                             "issued_day, spent_at) VALUES(?, ?, ?, ?, ?, ?)");
    insert.Bind(1, series)
        .Bind(2, slot.seq)
        .Bind(3, fingerprint)
        .Bind(4, rho_micro)
        .Bind(5, static_cast<std::int64_t>(slot.issued.time_since_epoch().count()))
        .Bind(6, now_ms);
    insert.Run();
  }
  slot.budget.spent_micro = Spent(db, series, slot.seq);
  slot.previous_release = PreviousRelease(db, series, slot.seq);
  tx.Commit();
  return slot;
}

std::optional<SeriesBudget> ReadBudget(Store& store, const std::string& series) {
  sqlite::Statement find(store.db(),
                         "SELECT budget_rho_micro FROM dataset_series WHERE series = ?");
  find.Bind(1, series);
  if (!find.Step()) return std::nullopt;
  return SeriesBudget{series, find.ColumnInt64(0), Spent(store.db(), series)};
}

void RecordRelease(Store& store, const std::string& series, int seq, const std::string& release,
                   const std::filesystem::path& path, const std::string& catalog_sha256,
                   const std::map<std::string, std::string_view>& files, std::int64_t now_ms) {
  sqlite::Database& db = store.db();
  sqlite::Transaction tx(db, sqlite::TransactionKind::kImmediate);
  sqlite::Statement name(db, "UPDATE dataset_spends SET release = ? WHERE series = ? AND seq = ?");
  name.Bind(1, release).Bind(2, series).Bind(3, seq);
  name.Run();
  sqlite::Statement reg(
      db,
      "INSERT INTO published_releases(release, path, catalog_sha256, "
      "published_at, series) VALUES(?, ?, ?, ?, ?) ON CONFLICT(release) DO "
      "UPDATE SET path = excluded.path, catalog_sha256 = excluded.catalog_sha256, "
      "series = excluded.series");
  reg.Bind(1, release)
      .Bind(2, path.string())
      .Bind(3, catalog_sha256)
      .Bind(4, now_ms)
      .Bind(5, series);
  reg.Run();
  RecordPublishedFiles(db, release, files);
  tx.Commit();
}

}  // namespace carehub
