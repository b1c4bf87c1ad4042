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
  explicit PersonRows(sqlite::Database& db);
  PersonRows(const PersonRows&) = delete;
  PersonRows& operator=(const PersonRows&) = delete;

  void Insert(std::int64_t token_key, std::int64_t record_key);
  void Delete(std::int64_t token_key, std::int64_t record_key);
  void DeleteAll(std::int64_t record_key);

  // Writes the queued ops (DeleteAll first, then the rest in key order) and empties the queue.
  void Flush();
  void Clear() { ops_.clear(); }
  std::size_t Size() const { return ops_.size(); }
  void Truncate(std::size_t mark);

 private:
  enum class Kind : std::uint8_t { kInsert, kDelete, kDeleteAll };
  struct Op {
    std::int64_t token_key;
    std::int64_t record_key;
    std::uint32_t order;  // position in the queue, set by Flush (in the padding: 24 bytes)
    Kind kind;
  };
  // A deque, not a vector: no doubling past the batch (a 400k-row batch held 12.6 MB for 9.6).
  std::deque<Op> ops_;
  sqlite::Statement insert_, delete_, delete_all_;
};

}  // namespace carehub
