// The record ids one file has shown so far, for the reader's duplicate_row check, in memory
// that does not grow with the file up to 11M ids (issue 16: peak RSS flat from 1M to 5M rows;
// but for the block index below, 8 bytes per 512 ids, 78 KiB at 5M). A record id is
// a SHA-256 in hex, so its 64-bit prefix is uniform; the set keeps prefixes, and a false
// duplicate needs a 64-bit collision (about 1e-6 for 5M ids). The relayed bulk path
// (hub/store/relayed_bulk.h) keeps the record keys a catch-up wrote in one too: any uniform
// 64-bit keys will do.
//
// Up to `spill_at` prefixes live in an open-addressing table (256 shards by the top byte). No
// shard grows past the slots its share of `spill_at` needs (a shard that would is the signal
// to spill too), so the table is at most 256 * that many slots: 8 MiB with the default. When
// it is full, its prefixes are sorted (in place: the shards are in key order) and merged into a
// sorted file of every earlier prefix, an unlinked temporary file (std::tmpfile, mode 0600).
// The file is indexed in memory by a blocked Bloom filter (schemas/bloom_filter.h: one cache
// line per lookup) and one key per 4 KiB block (8 bytes per 512 keys); a prefix the filter lets
// through costs one pread of a block. The filter is either
//   - fixed (`filter_bytes` > 0, the reader's default: 8 MiB, made at the first spill and kept,
//     each spill adds its keys): memory stays put and the false positives rise with the keys,
//     ~0.2% at 5M (13 bits a key), ~5% at 10M, each one pread; a spill that would leave it
//     under 6 bits a key (~7%; past 11M keys with 8 MiB) remakes it at 10 bits a key; or
//   - grown (`filter_bytes` 0): remade at each spill with 10 bits for every spilled key (~1%).
// Exact: Insert answers as a set of all prefixes inserted would. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "schemas/bloom_filter.h"

namespace carehub {

class IdSet {
 public:
  // The reader's set: 3 * 2^18 keys fill 4096 slots a shard at a load of 3/4 (8 MiB of table),
  // and an 8 MiB filter: 16 MiB from the first spill on (~750k ids) to 11M ids.
  static constexpr std::size_t kDefaultSpillAt = std::size_t{3} << 18;
  static constexpr std::size_t kDefaultFilterBytes = std::size_t{8} << 20;

  IdSet() : IdSet(kDefaultSpillAt, kDefaultFilterBytes) {}
  // `filter_bytes` 0: the filter grows with the spilled keys (see above).
  explicit IdSet(std::size_t spill_at, std::size_t filter_bytes = 0);
  ~IdSet();
  IdSet(const IdSet&) = delete;
  IdSet& operator=(const IdSet&) = delete;

  // Adds `key`; false when it was there already. Throws Error::IoError when the temporary file
  // cannot be created, written or read.
  bool Insert(std::uint64_t key);
  // Asks the CPU to fetch what an Insert of `key` reads first (its table slot, its Bloom filter
  // block): a caller that knows its next keys a few inserts ahead hides the cache misses (the
  // table is megabytes of random slots). No effect on the set.
  void Prefetch(std::uint64_t key) const;

  std::size_t size() const { return table_size_ + spilled_ + (has_zero_ ? 1 : 0); }
  std::size_t spilled() const { return spilled_; }
  // Bytes of memory the set holds: table slots, filter and block index (not the file).
  std::size_t memory_bytes() const;

 private:
  struct Shard {
    std::vector<std::uint64_t> slots;
    std::size_t size = 0;
  };
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  using File = std::unique_ptr<std::FILE, FileCloser>;

  bool TableInsert(std::uint64_t key);
  bool TableFull(const Shard& shard) const;
  static bool ShardHas(const Shard& shard, std::uint64_t key);
  static void Grow(Shard& shard);
  bool FileContains(std::uint64_t key) const;
  void Spill();

  std::size_t spill_at_;
  std::size_t max_slots_;     // of one shard
  std::size_t filter_bytes_;  // 0: grown
  std::vector<Shard> shards_;
  std::size_t table_size_ = 0;
  bool has_zero_ = false;
  // The spilled prefixes: sorted file, first key of every block, Bloom filter.
  File file_;
  std::size_t spilled_ = 0;
  std::vector<std::uint64_t> block_firsts_;
  BloomFilter bloom_;
};

}  // namespace carehub
