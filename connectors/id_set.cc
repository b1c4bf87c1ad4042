#include "connectors/id_set.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::size_t kShards = 256;
constexpr std::size_t kFirstSlots = 64;     // of a shard's table when it first grows
constexpr std::size_t kKeysPerBlock = 512;  // 4 KiB of the file: one pread
constexpr double kBloomBitsPerKey = 10;     // ~1% of new keys cost a pread
// A fixed filter is kept while it has at least this many bits per key (~7% false positives).
constexpr double kFixedBitsPerKeyAtLeast = 6;
constexpr std::size_t kIoKeys = 8192;  // buffered reads and writes of the merge

[[noreturn]] void Fail(const std::string& what) {
  throw Error::IoError("duplicate-id set: " + what + ": " + std::strerror(errno));
}

// Buffered sequential writer of keys into a FILE.
class KeyWriter {
 public:
  explicit KeyWriter(std::FILE* f) : f_(f) { buffer_.reserve(kIoKeys); }
  void Put(std::uint64_t key) {
    buffer_.push_back(key);
    if (buffer_.size() == kIoKeys) Flush();
  }
  void Flush() {
    if (!buffer_.empty() &&
        std::fwrite(buffer_.data(), sizeof(std::uint64_t), buffer_.size(), f_) != buffer_.size()) {
      Fail("cannot write the temporary file");
    }
    buffer_.clear();
    if (std::fflush(f_) != 0) Fail("cannot write the temporary file");
  }

 private:
  std::FILE* f_;
  std::vector<std::uint64_t> buffer_;
};

// Buffered sequential reader of the keys of a FILE (from its start).
class KeyReader {
 public:
  explicit KeyReader(std::FILE* f) : f_(f) {
    if (f_ && std::fseek(f_, 0, SEEK_SET) != 0) Fail("cannot read the temporary file");
    Fill();
  }
  bool Done() const { return at_ == buffer_.size(); }
  std::uint64_t Peek() const { return buffer_[at_]; }
  void Next() {
    if (++at_ == buffer_.size()) Fill();
  }

 private:
  void Fill() {
    buffer_.resize(kIoKeys);
    const std::size_t n = f_ ? std::fread(buffer_.data(), sizeof(std::uint64_t), kIoKeys, f_) : 0;
    if (f_ && n < kIoKeys && std::ferror(f_)) Fail("cannot read the temporary file");
    buffer_.resize(n);
    at_ = 0;
  }
  std::FILE* f_;
  std::vector<std::uint64_t> buffer_;
  std::size_t at_ = 0;
};

}  // namespace

void IdSet::FileCloser::operator()(std::FILE* f) const { std::fclose(f); }

namespace {
// A shard's slots: the power of two that holds its share of `spill_at` at a load of 3/4.
std::size_t MaxShardSlots(std::size_t spill_at) {
  const std::size_t share = (spill_at + kShards - 1) / kShards;
  std::size_t slots = kFirstSlots;
  while (share * 4 > slots * 3) slots *= 2;
  return slots;
}
}  // namespace

IdSet::IdSet(std::size_t spill_at, std::size_t filter_bytes)
    : spill_at_(std::max<std::size_t>(spill_at, 1)),
      max_slots_(MaxShardSlots(spill_at_)),
      filter_bytes_(filter_bytes),
      shards_(kShards) {}

IdSet::~IdSet() = default;

bool IdSet::Insert(std::uint64_t key) {
  if (key == 0) {  // 0 marks a free slot
    const bool had = has_zero_;
    has_zero_ = true;
    return !had;
  }
  if (spilled_ > 0 && bloom_.MayContain(key) && FileContains(key)) return false;
  if (!TableInsert(key)) return false;
  if (table_size_ >= spill_at_) Spill();
  return true;
}

std::size_t IdSet::memory_bytes() const {
  std::size_t bytes = bloom_.bytes() + block_firsts_.capacity() * sizeof(std::uint64_t);
  for (const Shard& shard : shards_) bytes += shard.slots.capacity() * sizeof(std::uint64_t);
  return bytes;
}

// True when `shard` has no room for one more key without growing past its largest size.
bool IdSet::TableFull(const Shard& shard) const { return (shard.size + 1) * 4 > max_slots_ * 3; }

bool IdSet::ShardHas(const Shard& shard, std::uint64_t key) {
  const std::size_t mask = shard.slots.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(key) & mask; shard.slots[i] != 0;
       i = (i + 1) & mask) {
    if (shard.slots[i] == key) return true;
  }
  return false;
}

void IdSet::Prefetch(std::uint64_t key) const {
  const Shard& shard = shards_[key >> 56];
  if (!shard.slots.empty()) {
    __builtin_prefetch(&shard.slots[static_cast<std::size_t>(key) & (shard.slots.size() - 1)]);
  }
  if (spilled_ > 0) bloom_.Prefetch(key);
}

bool IdSet::TableInsert(std::uint64_t key) {
  Shard& shard = shards_[key >> 56];
  if ((shard.size + 1) * 4 > shard.slots.size() * 3) {
    if (TableFull(shard)) {
      if (ShardHas(shard, key)) return false;  // looked up before the spill empties it
      Spill();
    } else {
      Grow(shard);
    }
  }
  const std::size_t mask = shard.slots.size() - 1;
  std::size_t i = static_cast<std::size_t>(key) & mask;
  while (shard.slots[i] != 0) {
    if (shard.slots[i] == key) return false;
    i = (i + 1) & mask;
  }
  shard.slots[i] = key;
  ++shard.size;
  ++table_size_;
  return true;
}

// Doubles a shard's table one shard at a time, so growing never holds a second copy of the
// whole table.
void IdSet::Grow(Shard& shard) {
  std::vector<std::uint64_t> old = std::move(shard.slots);
  shard.slots.assign(old.empty() ? kFirstSlots : old.size() * 2, 0);
  const std::size_t mask = shard.slots.size() - 1;
  for (std::uint64_t k : old) {
    if (k == 0) continue;
    std::size_t i = static_cast<std::size_t>(k) & mask;
    while (shard.slots[i] != 0) i = (i + 1) & mask;
    shard.slots[i] = k;
  }
}

bool IdSet::FileContains(std::uint64_t key) const {
  auto it = std::upper_bound(block_firsts_.begin(), block_firsts_.end(), key);
  if (it == block_firsts_.begin()) return false;
  const std::size_t block = static_cast<std::size_t>(it - block_firsts_.begin()) - 1;
  const std::size_t first = block * kKeysPerBlock;
  const std::size_t count = std::min(kKeysPerBlock, spilled_ - first);
  std::uint64_t keys[kKeysPerBlock];
  const auto bytes = static_cast<ssize_t>(count * sizeof(std::uint64_t));
  if (pread(fileno(file_.get()), keys, static_cast<std::size_t>(bytes),
            static_cast<off_t>(first * sizeof(std::uint64_t))) != bytes) {
    Fail("cannot read the temporary file");
  }
  return std::binary_search(keys, keys + count, key);
}

// Merges the table's keys (each shard sorted in place; shards are in key order) with the file
// into a new file, filling the block index and the Bloom filter on the way; empties the table.
// A fixed filter is made at the first spill and takes only the table's keys after; a grown one
// (and a fixed one that would drop below kFixedBitsPerKeyAtLeast) is remade from all keys.
void IdSet::Spill() {
  const std::size_t total = spilled_ + table_size_;
  File out(std::tmpfile());
  if (!out) Fail("cannot create a temporary file");
  const bool remake = filter_bytes_ == 0 || bloom_.empty() ||
                      static_cast<double>(total) * kFixedBitsPerKeyAtLeast >
                          static_cast<double>(bloom_.bytes()) * 8;
  if (remake) {
    bloom_ = BloomFilter();  // freed before the larger one is made
    bloom_ = BloomFilter(std::max(filter_bytes_ / (BloomFilter::kBlockBits / 8),
                                  BloomFilter::BlocksFor(total, kBloomBitsPerKey)));
  }
  const bool filter_old = remake;  // a kept filter has the file's keys already
  std::vector<std::uint64_t> firsts;
  firsts.reserve(total / kKeysPerBlock + 1);
  KeyWriter writer(out.get());
  KeyReader old(file_.get());
  std::size_t written = 0;
  const auto put = [&](std::uint64_t key, bool add_to_filter) {
    if (written % kKeysPerBlock == 0) firsts.push_back(key);
    if (add_to_filter) bloom_.Insert(key);
    writer.Put(key);
    ++written;
  };
  for (Shard& shard : shards_) {
    auto end = std::remove(shard.slots.begin(), shard.slots.end(), std::uint64_t{0});
    std::sort(shard.slots.begin(), end);
    for (auto it = shard.slots.begin(); it != end; ++it) {
      while (!old.Done() && old.Peek() < *it) put(old.Peek(), filter_old), old.Next();
      put(*it, true);
    }
    std::fill(shard.slots.begin(), shard.slots.end(), 0);
    shard.size = 0;
  }
  while (!old.Done()) put(old.Peek(), filter_old), old.Next();
  writer.Flush();
  file_ = std::move(out);
  block_firsts_ = std::move(firsts);
  spilled_ = written;  // = total
  table_size_ = 0;
}

}  // namespace carehub
