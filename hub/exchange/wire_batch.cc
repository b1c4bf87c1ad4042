// BATCH frames 1 (header) and 2 (entries) in every spoken version (docs/PROTOCOL.md "BATCH").
// Versions 2 and 3 send every entry field; version 4 sends per entry only op, version,
// record_id and body, zstd-compressed, and the receiver derives seq, record_hash, prev_hash and
// entry_hash from the header's after_seq and prev_hash (the chain is checked against the signed
// head as before, so verification is as strong as in version 3).
#include "hub/exchange/wire_io.h"
#include "hub/store/zstd_codec.h"
#include "schemas/error.h"

namespace carehub::wire::internal {
namespace {

// v2/v3 entry: u64 seq, u8 op, u32 version, str16 record_id, 3 x 32-byte hashes, body.
constexpr std::size_t kFullEntryMin = 8 + 1 + 4 + 2 + 96;
// v4 entry: u8 op, u32 version, str16 record_id, body.
constexpr std::size_t kLeanEntryMin = 1 + 4 + 2;

ChangeOp ReadOp(Reader& r) {
  const std::uint8_t op = r.U8();
  if (op != 1 && op != 2) r.Fail("op must be 1 or 2");
  return static_cast<ChangeOp>(op);
}

std::int32_t ReadVersion(Reader& r) {
  const std::uint32_t version = r.U32();
  if (version > static_cast<std::uint32_t>(INT32_MAX)) r.Fail("version out of range");
  return static_cast<std::int32_t>(version);
}

void WriteHeader(Writer& w, const Batch& b, std::uint32_t count) {
  w.Short(b.head.origin);
  w.U64(static_cast<std::uint64_t>(b.after_seq));
  w.U64(static_cast<std::uint64_t>(b.head.seq));
  w.Fixed(b.head.head_hash);
  w.Fixed(b.head.signature);
  w.U32(count);
}

void ReadHeader(Reader& r, Batch& b) {
  b.head.origin = r.Short();
  b.after_seq = r.Seq();
  b.head.seq = r.Seq();
  r.Fixed(b.head.head_hash);
  r.Fixed(b.head.signature);
}

// Versions 2 and 3: every entry as `u32 length || entry` in one uncompressed frame.
std::string FullEntries(const std::vector<ChangeEntry>& entries) {
  Writer w;
  std::size_t size = 0;
  for (const ChangeEntry& e : entries)
    size += 4 + kFullEntryMin + e.record_id.size() + e.body.size();
  w.Reserve(size);
  for (const ChangeEntry& e : entries) {
    w.U32(static_cast<std::uint32_t>(kFullEntryMin + e.record_id.size() + e.body.size()));
    w.U64(static_cast<std::uint64_t>(e.seq));
    w.U8(static_cast<std::uint8_t>(e.op));
    w.U32(static_cast<std::uint32_t>(e.version));
    w.Short(e.record_id);
    w.Fixed(e.record_hash);
    w.Fixed(e.prev_hash);
    w.Fixed(e.entry_hash);
    w.Raw(e.body);
  }
  return w.Take();
}

Batch DecodeFull(const Frames& frames) {
  Reader r(frames[1], "BATCH");
  Batch b;
  ReadHeader(r, b);
  const std::uint32_t count = r.U32();
  r.End();
  Reader packed(frames[2], "BATCH entries");
  // A count the frame cannot hold is refused before any allocation.
  if (count > frames[2].size() / (4 + kFullEntryMin))
    packed.Fail("count larger than the entries frame");
  b.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Reader entry(packed.Bytes(packed.U32()), "BATCH entry");
    ChangeEntry& e = b.entries.emplace_back();
    e.origin = b.head.origin;
    e.seq = entry.Seq();
    e.op = ReadOp(entry);
    e.version = ReadVersion(entry);
    e.record_id = entry.Short();
    entry.Fixed(e.record_hash);
    entry.Fixed(e.prev_hash);
    entry.Fixed(e.entry_hash);
    e.body = std::string(entry.Rest());
  }
  packed.End();
  return b;
}

// Version 4: the lean entries, packed (`size` bytes), then compressed as one zstd frame.
std::string LeanEntries(const Batch& b, std::size_t size) {
  Writer w;
  if (size > kMaxBatchEntriesBytes) {
    throw Error::InvalidInput("wire: a version-4 BATCH of " + std::to_string(size) +
                              " bytes exceeds the entries bound");
  }
  w.Reserve(size);
  std::int64_t seq = b.after_seq;
  for (const ChangeEntry& e : b.entries) {
    if (e.seq != ++seq) {
      throw Error::InvalidInput("wire: version-4 BATCH entries must be after_seq+1..head seq");
    }
    w.U32(static_cast<std::uint32_t>(kLeanEntryMin + e.record_id.size() + e.body.size()));
    w.U8(static_cast<std::uint8_t>(e.op));
    w.U32(static_cast<std::uint32_t>(e.version));
    w.Short(e.record_id);
    w.Raw(e.body);
  }
  return zstd::CompressFrame(w.Take(), kBatchZstdLevel);
}

void EncodeLean(const Batch& b, Frames& frames) {
  if (!b.entries.empty() && b.entries.back().seq != b.head.seq) {
    throw Error::InvalidInput("wire: a version-4 BATCH must end at its head");
  }
  std::size_t packed = 0;
  for (const ChangeEntry& e : b.entries) {
    packed += 4 + kLeanEntryMin + e.record_id.size() + e.body.size();
  }
  std::string entries = b.entries.empty() ? std::string() : LeanEntries(b, packed);
  Writer w;
  WriteHeader(w, b, static_cast<std::uint32_t>(b.entries.size()));
  w.Fixed(b.entries.empty() ? kZeroHash : b.entries.front().prev_hash);
  w.U32(static_cast<std::uint32_t>(packed));
  frames.push_back(w.Take());
  frames.push_back(std::move(entries));
}

// Decompresses frame 2 into exactly `size` bytes: one zstd frame declaring that content size,
// nothing after it. `size` is bounded by kMaxBatchEntriesBytes before anything is allocated.
std::string Decompress(const std::string& frame, std::uint32_t size, const Reader& r) {
  try {
    return zstd::DecompressFrame(frame, size);
  } catch (const Error& e) {
    r.Fail(std::string("entries: ") + e.what());
  }
}

// The lean entries of `packed` with every derived field: seq from after_seq, record_hash =
// SHA-256(body), prev_hash = the previous entry_hash (the header's prev_hash for the first).
void ReadLean(std::string_view packed, std::uint32_t count, Hash256 prev, Batch& b) {
  Reader r(packed, "BATCH entries");
  b.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Reader entry(r.Bytes(r.U32()), "BATCH entry");
    ChangeEntry& e = b.entries.emplace_back();
    e.origin = b.head.origin;
    e.seq = b.after_seq + 1 + i;
    e.op = ReadOp(entry);
    e.version = ReadVersion(entry);
    e.record_id = entry.Short();
    e.body = std::string(entry.Rest());
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
  }
  r.End();
}

Batch DecodeLean(const Frames& frames) {
  Reader r(frames[1], "BATCH");
  Batch b;
  ReadHeader(r, b);
  const std::uint32_t count = r.U32();
  Hash256 prev{};
  r.Fixed(prev);
  const std::uint32_t size = r.U32();
  r.End();
  if (count == 0) {
    if (size != 0 || !frames[2].empty() || prev != kZeroHash)
      r.Fail("an empty batch carries entries");
    return b;
  }
  if (b.head.seq < b.after_seq || static_cast<std::uint64_t>(b.head.seq - b.after_seq) != count) {
    r.Fail("count is not head seq - after_seq");
  }
  if (count > kMaxBatchEntries) r.Fail("more entries than a batch may hold");
  if (size > kMaxBatchEntriesBytes) r.Fail("entries larger than a batch may be");
  if (count > size / (4 + kLeanEntryMin)) r.Fail("count larger than the entries");
  ReadLean(Decompress(frames[2], size, r), count, prev, b);
  b.hashes_derived = true;
  return b;
}

}  // namespace

void EncodeBatchFrames(const Batch& batch, std::uint8_t version, Frames& frames) {
  if (version >= 4) return EncodeLean(batch, frames);
  Writer w;
  WriteHeader(w, batch, static_cast<std::uint32_t>(batch.entries.size()));
  frames.push_back(w.Take());
  frames.push_back(FullEntries(batch.entries));
}

Batch DecodeBatchFrames(const Frames& frames, std::uint8_t version) {
  if (frames.size() != 3) {
    throw WireError(ErrorCode::kMalformed,
                    "malformed BATCH: expected 3 frames, got " + std::to_string(frames.size()));
  }
  return version >= 4 ? DecodeLean(frames) : DecodeFull(frames);
}

}  // namespace carehub::wire::internal
