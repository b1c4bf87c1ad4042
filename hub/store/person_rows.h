// The record_persons writes of one bulk write (an ingest batch, a group of relayed batches),
// held in memory and written in (token_key, record_key) order just before the commit. The
// person index is keyed by random 8-byte keys: inserted in arrival order, every row lands on
// another page, and once the index outgrows the page cache (a few million records) nearly
// every row costs a page read and a page write. In key order, a batch walks the index once and
// each page is read and written once however many rows it gets (issue 16, docs/STORE.md).
//
// Contract: the owner calls Flush() inside the transaction, before committing it, and Clear()
// when the transaction is rolled back; ops take effect in the order they were queued (a
// Delete after an Insert of the same row removes it; DeleteAll(r) removes every row of r held
// in the table or queued before it). Truncate(mark) drops the ops queued after Size() returned
// `mark` (a savepoint that was rolled back). Nothing reads record_persons through the owner's
// connection between a queue and its Flush. One thread.
#pragma once

#include <cstdint>
#include <deque>

#include "hub/store/sqlite_db.h"

namespace carehub {

class PersonRows {
 public:
  // An ingest batch that queued this many rows flushes before it goes on (in its transaction):
  // batches grow with the store (400k rows from 3.2M stored), and the queue with them; one more
  // sorted pass over the person index per 2^18 rows bounds it at 4 MiB (2^17 cost a 5M ingest's
  // writer ~4% more, docs/PERFORMANCE.md session 13). The exchange's group flushes at its commit
  // only (at most 400k rows, 6.4 MB): the same bound cost a 5M catch-up's writer 5-10% more.
  static constexpr std::size_t kQueuedAtMost = std::size_t{1} << 18;

  explicit PersonRows(sqlite::Database& db);
  PersonRows(const PersonRows&) = delete;
  PersonRows& operator=(const PersonRows&) = delete;

  void Insert(std::int64_t token_key, std::int64_t record_key);
  void Delete(std::int64_t token_key, std::int64_t record_key);
  void DeleteAll(std::int64_t record_key);

  // Writes the queued ops (DeleteAll first, then the rest in key order) and empties the queue.
  void Flush();
  void Clear();
  std::size_t Size() const { return inserts_.size() + removals_.size(); }
  void Truncate(std::size_t mark);

 private:
  struct Row {
    std::int64_t token_key;
    std::int64_t record_key;
  };
  enum class Kind : std::uint8_t { kDelete, kDeleteAll };
  struct Removal {
    Row row;              // kDeleteAll: record_key only
    std::uint32_t order;  // position in the queue (inserts and removals together)
    Kind kind;
  };
  // Drops the ops a later op of the queue voids and runs the DeleteAlls; what stays takes effect
  // in any order (no row is both inserted and deleted).
  void DropSuperseded();
  void WriteInKeyOrder();

  // Inserts apart, 16 bytes each: a group of relayed batches (up to 400k entries) queues only
  // inserts, and with the position of each kept implicitly (the removals carry theirs) the
  // group's queue is 6.4 MB at most, not 9.6. Deques, not vectors: no doubling past the group.
  std::deque<Row> inserts_;
  std::deque<Removal> removals_;
  sqlite::Statement insert_, delete_, delete_all_;
};

}  // namespace carehub
