// The one RAII wrapper around the sqlite3 C API (after SRombauts/SQLiteCpp): Database owns a
// sqlite3* connection, Statement a prepared statement that is reused (Reset clears bindings),
// Transaction a BEGIN IMMEDIATE/DEFERRED that rolls back in its destructor unless committed.
// Failures throw SqliteError (a carehub::Error) carrying the extended result code.
// Thread-safety: a Database and its Statements belong to one thread at a time (one connection
// per thread); Statements must be destroyed before their Database.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "schemas/error.h"

namespace carehub::sqlite {

// A carehub::Error (kind IoError, Corruption for corrupt files, InvalidInput for constraint
// violations) that keeps SQLite's extended result code, e.g. SQLITE_CONSTRAINT_PRIMARYKEY.
class SqliteError : public Error {
 public:
  SqliteError(int extended_code, const std::string& message);
  int extended_code() const { return extended_code_; }
  bool busy() const { return (extended_code_ & 0xFF) == SQLITE_BUSY; }

 private:
  int extended_code_;
};

enum class OpenMode { kReadWriteCreate, kReadWrite, kReadOnly };

struct DatabaseOptions {
  OpenMode mode = OpenMode::kReadWriteCreate;
  int busy_timeout_ms = 5000;  // writers wait for each other instead of failing with BUSY
  // Page cache per connection in KiB; bigger helps random inserts into large indexes (ingest),
  // at the price of resident memory.
  int cache_kib = 32 * 1024;
};

// A writer that waits for the write lock says so: while its busy handler waits (at least every
// 100 ms) it touches `<database>-writers` (created 0600 beside the database), and
// OtherWriterWaiting() is true for kWriterWaitingFor after the last touch. A long-running
// bulk writer (the exchange's group of relayed batches) asks between two of its batches and
// commits at once, so the waiter gets the lock within one batch however long the group would
// otherwise run (docs/STORE.md "Writers waiting"). Read-only connections do not announce, nor
// does a connection whose busy timeout `PRAGMA busy_timeout` replaced (SQLite's own handler: the
// exchange's connections, which wait 100 ms and then defer their batch).
inline constexpr std::chrono::milliseconds kWriterWaitingFor{300};

class Database {
 public:
  // Opens (or creates) the file and applies carehub's settings: WAL, synchronous=NORMAL (WAL
  // keeps commits atomic and durable up to the last checkpoint on power loss, and every commit
  // on a process crash), busy_timeout, foreign_keys=ON. A file created here gets carehub's page
  // size (kNewDatabasePageSize in sqlite_db.cc, docs/STORE.md); an existing file keeps its own
  // (in WAL mode not even VACUUM changes it).
  explicit Database(const std::string& path, const DatabaseOptions& options = {});
  ~Database();
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements without results (DDL, PRAGMA, BEGIN).
  void Exec(std::string_view sql);
  // Runs a query returning one integer in its first row (e.g. "PRAGMA user_version");
  // nullopt when there is no row or the value is NULL.
  std::optional<std::int64_t> QueryInt(std::string_view sql);
  std::int64_t LastInsertRowid() const;
  int Changes() const;  // rows changed by the last statement
  sqlite3* handle() const { return db_.get(); }
  const std::string& path() const { return path_; }
  // Another connection (any process) waited for the write lock of this database within the
  // last kWriterWaitingFor.
  bool OtherWriterWaiting() const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  struct BusyWait;  // the busy handler's state (sqlite_db.cc)
  std::string path_;
  std::unique_ptr<BusyWait> busy_;  // declared before db_: outlives the connection
  std::unique_ptr<sqlite3, Closer> db_;
};

// A prepared statement. Bind indexes and column indexes follow SQLite (bind from 1, columns
// from 0). Typical use:
//   Statement get(db, "SELECT version FROM records WHERE record_id = ?");
//   get.Bind(1, id);
//   if (get.Step()) version = get.ColumnInt(0);
//   get.Reset();
class Statement {
 public:
  Statement(const Database& db, std::string_view sql) : Statement(db.handle(), sql) {}
  // On a connection known by its handle (e.g. inside an SQL function of that connection).
  Statement(sqlite3* db, std::string_view sql);
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& Bind(int index, std::int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<std::int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);  // copied (SQLITE_TRANSIENT)
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  Statement& BindBlob(int index, std::span<const std::uint8_t> bytes);
  Statement& BindBlob(int index, std::string_view bytes);
  // Binds text/blob WITHOUT copying: the bytes must stay alive until Reset (hot paths).
  Statement& BindBlobStatic(int index, std::string_view bytes);
  Statement& BindTextStatic(int index, std::string_view text);
  Statement& BindNull(int index);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances: true when a row is available, false when done. Throws SqliteError on error.
  bool Step();
  // Steps to completion (for INSERT/UPDATE/DELETE) then resets; returns changed rows.
  int Run();
  // Makes the statement ready to run again and clears all bindings.
  void Reset();

  bool IsNull(int column) const;
  std::int64_t ColumnInt64(int column) const;
  int ColumnInt(int column) const { return static_cast<int>(ColumnInt64(column)); }
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::optional<std::string> ColumnOptionalText(int column) const;
  std::optional<std::int64_t> ColumnOptionalInt64(int column) const;
  // Valid until the next Step/Reset.
  std::string_view ColumnBlob(int column) const;
  sqlite3_stmt* handle() const { return stmt_.get(); }

 private:
  void Check(int rc) const;
  struct Finalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
};

enum class TransactionKind { kDeferred, kImmediate, kExclusive };

// BEGIN in the constructor, Commit() to keep, rollback in the destructor otherwise (never
// throws). Writers use kImmediate so that the write lock is taken up front (no BUSY upgrade
// deadlocks between two writers). Inside an open transaction of the same connection it is a
// SAVEPOINT instead: Commit() releases it into the outer transaction, a rollback undoes only
// what was written since it began (the exchange applies several relayed batches in one
// transaction, each of which may still be refused on its own).
class Transaction {
 public:
  explicit Transaction(Database& db, TransactionKind kind = TransactionKind::kImmediate);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void Commit();
  void Rollback();  // explicit rollback; the destructor then does nothing

 private:
  Database& db_;
  bool open_ = true;
  bool nested_ = false;  // a SAVEPOINT inside an outer transaction
};

// Throws the SqliteError for a result code of `db` (message from sqlite3_errmsg).
[[noreturn]] void ThrowSqlite(sqlite3* db, int rc, std::string_view context);

// Bulk writing on one connection (ingest, applying relayed batches): a bigger page cache for the
// random-key indexes, and WAL checkpoints moved to a second connection on its own thread
// (SQLite's PASSIVE checkpoint runs beside a writer), so the writer never stops to copy pages
// into the database file and fsync it. Call Poke() after commits, outside a transaction: it
// also keeps the WAL near 256 MiB (when its frames pass that, a RESTART checkpoint by the
// writer, so that the next transaction overwrites the WAL file from its beginning; the file is
// not cut: writing over cached pages costs the kernel less than extending a file). The
// destructor stops the thread and restores the connection's default cache and autocheckpoint. Best
// effort: when the second connection cannot be opened, the writer checkpoints as usual.
class BulkWriteMode {
 public:
  static constexpr std::uint64_t kWalRestartBytes = 256ull << 20;
  // wal_restart_bytes: the WAL size past which Poke() restarts it (smaller in tests).
  BulkWriteMode(Database& db, int cache_mib, std::uint64_t wal_restart_bytes = kWalRestartBytes);
  ~BulkWriteMode();
  BulkWriteMode(const BulkWriteMode&) = delete;
  BulkWriteMode& operator=(const BulkWriteMode&) = delete;
  void Poke();

 private:
  static constexpr std::uint64_t kWalFrameHeaderBytes = 24;
  // sqlite3_wal_hook: after each commit of db_, the number of frames in its WAL.
  static int WalHook(void* self, sqlite3* db, const char* schema, int frames);
  void Loop();

  Database& db_;
  std::uint64_t wal_restart_bytes_;
  std::uint64_t frame_bytes_ = 0;  // page size + frame header
  int wal_frames_ = 0;             // written by WalHook on the writer's thread, read by Poke
  std::mutex mutex_;
  std::condition_variable wake_;
  bool poked_ = false;
  bool stop_ = false;
  bool fallback_ = false;  // no second connection: the writer checkpoints itself
  std::thread thread_;
};

}  // namespace carehub::sqlite
