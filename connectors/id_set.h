// The record ids one file has shown so far, for the reader's duplicate_row check, in memory
// that does not grow with the file beyond ~1.3 bytes per id (issue 16: peak RSS flat from 1M to
// 5M rows). A record id is a SHA-256 in hex, so its 64-bit prefix is uniform; the set keeps
// prefixes, and a false duplicate needs a 64-bit collision (about 1e-6 for 5M ids). The relayed
// bulk path (hub/store/relayed_bulk.h) keeps the record keys a catch-up wrote in one too: any
// uniform 64-bit keys will do.
//
// Up to `spill_at` prefixes live in an open-addressing table (256 shards by the top byte, at
// most 16 MiB with the default). When it holds `spill_at`, its prefixes are sorted (in place:
// the shards are in key order) and merged into a sorted file of every earlier prefix, an
// unlinked temporary file (std::tmpfile, mode 0600). The file is indexed in memory by a
// blocked Bloom filter (schemas/bloom_filter.h: 10 bits per prefix, one cache line per lookup)
// and one key per 4 KiB block; a prefix the filter lets through (~1% of the new ones) costs one
// pread of a block.
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
  static constexpr std::size_t kDefaultSpillAt = std::size_t{1} << 20;

  explicit IdSet(std::size_t spill_at = kDefaultSpillAt);
  ~IdSet();
  IdSet(const IdSet&) = delete;
  IdSet& operator=(const IdSet&) = delete;

  // Adds `key`; false when it was there already. Throws Error::IoError when the temporary file
  // cannot be created, written or read.
  bool Insert(std::uint64_t key);

  std::size_t size() const { return table_size_ + spilled_ + (has_zero_ ? 1 : 0); }
  std::size_t spilled() const { return spilled_; }

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
  static void Grow(Shard& shard);
  bool FileContains(std::uint64_t key) const;
  void Spill();

  std::size_t spill_at_;
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
