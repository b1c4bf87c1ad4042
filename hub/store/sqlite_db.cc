#include "hub/store/sqlite_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <mutex>

namespace carehub::sqlite {
namespace {

ErrorKind KindOf(int extended_code) {
  switch (extended_code & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorKind::kCorruption;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return ErrorKind::kInvalidInput;
    case SQLITE_CANTOPEN:
      return ErrorKind::kNotFound;
    default:
      return ErrorKind::kIoError;
  }
}

std::string WritersFile(const std::string& db_path) { return db_path + "-writers"; }

// The page size of a database file created by carehub (SQLite's default is 4096). Set before
// the first write (journal_mode=WAL writes the header); an existing file keeps its own. Measured
// in docs/PERFORMANCE.md "Session 12: the writer's WAL and pages".
constexpr int kNewDatabasePageSize = 16384;

}  // namespace

// SQLite's own busy_timeout handler (sqliteDefaultBusyCallback: the same delays), which also
// touches the writers file before each sleep while announcing.
struct Database::BusyWait {
  std::string writers_file;
  int timeout_ms = 0;
  bool announce = false;

  static int Handler(void* arg, int count) {
    static constexpr int kDelays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
    static constexpr int kTotals[] = {0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228};
    constexpr int kSteps = static_cast<int>(std::size(kDelays));
    auto* self = static_cast<BusyWait*>(arg);
    int delay = 0;
    int prior = 0;
    if (count < kSteps) {
      delay = kDelays[count];
      prior = kTotals[count];
    } else {
      delay = kDelays[kSteps - 1];
      prior = kTotals[kSteps - 1] + delay * (count - (kSteps - 1));
    }
    if (prior + delay > self->timeout_ms) {
      delay = self->timeout_ms - prior;
      if (delay <= 0) return 0;
    }
    if (self->announce) self->Touch();
    sqlite3_sleep(delay);
    return 1;
  }

  // Best effort: a directory that cannot take the file only loses the announcement.
  void Touch() const {
    const int fd = ::open(writers_file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    ::futimens(fd, nullptr);
    ::close(fd);
  }
};

SqliteError::SqliteError(int extended_code, const std::string& message)
    : Error(KindOf(extended_code), message), extended_code_(extended_code) {}

void ThrowSqlite(sqlite3* db, int rc, std::string_view context) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  const int code = (extended & 0xFF) == (rc & 0xFF) ? extended : rc;
  std::string message = "sqlite: ";
  message += context;
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (" + std::to_string(code) + " " + sqlite3_errstr(code) + ")";
  throw SqliteError(code, message);
}

namespace {
// Once per process, before SQLite initialises: no memory statistics, which SQLite otherwise
// keeps under a global mutex on every allocation (nothing here reads them).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

Database::Database(const std::string& path, const DatabaseOptions& options) : path_(path) {
  ConfigureSqliteOnce();
  int flags = SQLITE_OPEN_NOMUTEX;
  switch (options.mode) {
    case OpenMode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case OpenMode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case OpenMode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_.reset(raw);  // closed even when opening failed
  if (rc != SQLITE_OK) ThrowSqlite(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  busy_ = std::make_unique<BusyWait>();
  busy_->writers_file = WritersFile(path);
  busy_->timeout_ms = options.busy_timeout_ms;
  busy_->announce = options.mode != OpenMode::kReadOnly;
  sqlite3_busy_handler(raw, &BusyWait::Handler, busy_.get());
  if (options.mode == OpenMode::kReadWriteCreate) {
    Exec("PRAGMA page_size=" +
         std::to_string(kNewDatabasePageSize));  // no-op for a file with pages
  }
  if (options.mode != OpenMode::kReadOnly) Exec("PRAGMA journal_mode=WAL");
  // temp_store stays FILE (the default): sorts larger than the page cache (CREATE INDEX in a
  // migration, the digest's ORDER BY record_id over millions of records) spill to temporary
  // files instead of growing the heap (temp_store=MEMORY took 557 MB to migrate 1M records).
  Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
  Exec("PRAGMA cache_size=-" + std::to_string(options.cache_kib));
}

Database::~Database() = default;
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

bool Database::OtherWriterWaiting() const {
  struct stat st {};
  if (::stat(busy_->writers_file.c_str(), &st) != 0) return false;
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const std::chrono::nanoseconds age = std::chrono::seconds(now.tv_sec - st.st_mtim.tv_sec) +
                                       std::chrono::nanoseconds(now.tv_nsec - st.st_mtim.tv_nsec);
  return age < kWriterWaitingFor;
}

void Database::Exec(std::string_view sql) {
  const std::string text(sql);
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) ThrowSqlite(db_.get(), rc, text.substr(0, 60));
}

std::optional<std::int64_t> Database::QueryInt(std::string_view sql) {
  Statement stmt(*this, sql);
  if (!stmt.Step() || stmt.IsNull(0)) return std::nullopt;
  return stmt.ColumnInt64(0);
}

std::int64_t Database::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }

int Database::Changes() const { return sqlite3_changes(db_.get()); }

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  stmt_.reset(raw);
  if (rc != SQLITE_OK) ThrowSqlite(db_, rc, "prepare " + std::string(sql.substr(0, 60)));
}

void Statement::Check(int rc) const {
  if (rc != SQLITE_OK) ThrowSqlite(db_, rc, "bind");
}

Statement& Statement::Bind(int index, std::int64_t value) {
  Check(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  Check(sqlite3_bind_double(stmt_.get(), index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  Check(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                            SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindBlob(int index, std::span<const std::uint8_t> bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  Check(sqlite3_bind_blob64(stmt_.get(), index, bytes.empty() ? &kEmpty : bytes.data(),
                            bytes.size(), SQLITE_TRANSIENT));
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  return BindBlob(index, std::span<const std::uint8_t>(
                             reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Statement& Statement::BindBlobStatic(int index, std::string_view bytes) {
  static const char kEmpty = 0;
  Check(sqlite3_bind_blob64(stmt_.get(), index, bytes.empty() ? &kEmpty : bytes.data(),
                            bytes.size(), SQLITE_STATIC));
  return *this;
}

Statement& Statement::BindTextStatic(int index, std::string_view text) {
  Check(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_STATIC,
                            SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindNull(int index) {
  Check(sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

bool Statement::Step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // Keep the message of the failed step, then make the statement reusable.
  const int extended = sqlite3_extended_errcode(db_);
  std::string message = std::string("sqlite: step: ") + sqlite3_errmsg(db_) + " (" +
                        std::to_string(extended) + " " + sqlite3_errstr(extended) + ")";
  const char* sql = sqlite3_sql(stmt_.get());
  if (sql != nullptr) message += " in: " + std::string(sql).substr(0, 60);
  sqlite3_reset(stmt_.get());
  throw SqliteError(extended, message);
}

int Statement::Run() {
  while (Step()) {
  }
  const int changed = sqlite3_changes(db_);
  Reset();
  return changed;
}

void Statement::Reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

double Statement::ColumnDouble(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}

std::string Statement::ColumnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_.get(), column);
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

std::optional<std::string> Statement::ColumnOptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return ColumnText(column);
}

std::optional<std::int64_t> Statement::ColumnOptionalInt64(int column) const {
  if (IsNull(column)) return std::nullopt;
  return ColumnInt64(column);
}

std::string_view Statement::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_.get(), column);
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return data == nullptr ? std::string_view()
                         : std::string_view(static_cast<const char*>(data), size);
}

Transaction::Transaction(Database& db, TransactionKind kind) : db_(db) {
  if (sqlite3_get_autocommit(db_.handle()) == 0) {
    nested_ = true;
    db_.Exec("SAVEPOINT carehub_nested");
    return;
  }
  switch (kind) {
    case TransactionKind::kDeferred:
      db_.Exec("BEGIN DEFERRED");
      break;
    case TransactionKind::kImmediate:
      db_.Exec("BEGIN IMMEDIATE");
      break;
    case TransactionKind::kExclusive:
      db_.Exec("BEGIN EXCLUSIVE");
      break;
  }
}

Transaction::~Transaction() {
  if (open_) {
    // Never throws: a failed rollback leaves SQLite to roll back when the connection closes.
    sqlite3_exec(db_.handle(),
                 nested_ ? "ROLLBACK TO carehub_nested; RELEASE carehub_nested" : "ROLLBACK",
                 nullptr, nullptr, nullptr);
  }
}

void Transaction::Commit() {
  if (!open_) throw Error::InvalidInput("sqlite: commit of a finished transaction");
  db_.Exec(nested_ ? "RELEASE carehub_nested" : "COMMIT");
  open_ = false;
}

void Transaction::Rollback() {
  if (!open_) return;
  open_ = false;
  db_.Exec(nested_ ? "ROLLBACK TO carehub_nested; RELEASE carehub_nested" : "ROLLBACK");
}

BulkWriteMode::BulkWriteMode(Database& db, int cache_mib, std::uint64_t wal_restart_bytes)
    : db_(db), wal_restart_bytes_(wal_restart_bytes) {
  db_.Exec("PRAGMA cache_size=-" + std::to_string(cache_mib * 1024));
  db_.Exec("PRAGMA wal_autocheckpoint=0");  // removes SQLite's own WAL hook: ours replaces it
  frame_bytes_ = static_cast<std::uint64_t>(db_.QueryInt("PRAGMA page_size").value_or(4096)) +
                 kWalFrameHeaderBytes;
  thread_ = std::thread([this] { Loop(); });
  sqlite3_wal_hook(db_.handle(), &BulkWriteMode::WalHook, this);  // last: nothing throws after it
}

int BulkWriteMode::WalHook(void* self, sqlite3* /*db*/, const char* /*schema*/, int frames) {
  static_cast<BulkWriteMode*>(self)->wal_frames_ = frames;
  return SQLITE_OK;
}

BulkWriteMode::~BulkWriteMode() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // SQLite's own hook and autocheckpoint back first: they cannot fail, and the hook must not
  // outlive this object whatever the PRAGMA below does.
  sqlite3_wal_autocheckpoint(db_.handle(), 1000);
  try {
    db_.Exec("PRAGMA cache_size=-" + std::to_string(DatabaseOptions{}.cache_kib));
  } catch (const Error&) {
    // Destructors do not throw; the settings are per connection and only about speed.
  }
}

// The PASSIVE checkpoints of the background thread copy pages, but SQLite restarts the WAL
// from its beginning only after a checkpoint that caught up with the writer, which a writer
// that keeps committing never allows: the WAL grew without bound (35 GB after 4M ingested rows)
// and every page lookup searched a wal-index that large. Past this size the writer itself,
// between transactions, checkpoints with RESTART (waiting for readers through the busy
// handler), so its next transaction writes the WAL from its beginning again. RESTART, not
// TRUNCATE: the file keeps its size and its pages stay in the page cache, so the next 256 MiB
// of frames overwrite cached pages in place; after a TRUNCATE every frame extended the file
// again (ext4 block allocation, the zeroing of each new page a frame only partly covers, the
// freeing of the cut pages): the writer's kernel time of a 1M ingest fell 1.10 -> 0.90 s
// (docs/PERFORMANCE.md "Session 12"). The file stays as large as it grew (<= 256 MiB + one
// batch, as before) until the last connection closes it.
void BulkWriteMode::Poke() {
  if (static_cast<std::uint64_t>(wal_frames_) * frame_bytes_ > wal_restart_bytes_) {
    sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr,
                              nullptr);  // SQLITE_BUSY: tried again after the next commit
    return;
  }
  bool fallback = false;
  {
    std::lock_guard lock(mutex_);
    fallback = fallback_;
    poked_ = !fallback;
  }
  if (fallback) {
    sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else {
    wake_.notify_all();
  }
}

void BulkWriteMode::Loop() {
  try {
    Database checkpointer(db_.path(), {.mode = OpenMode::kReadWrite, .cache_kib = 2048});
    std::unique_lock lock(mutex_);
    while (!stop_) {
      wake_.wait(lock, [this] { return poked_ || stop_; });
      if (stop_) break;
      poked_ = false;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(checkpointer.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr);
      lock.lock();
    }
  } catch (const Error&) {
    std::lock_guard lock(mutex_);
    fallback_ = true;
  }
}

}  // namespace carehub::sqlite
