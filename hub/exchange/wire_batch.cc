// BATCH frames 1 (header) and 2 (entries) in every spoken version (docs/PROTOCOL.md "BATCH").
// Versions 2 and 3 send every entry field; version 4 sends per entry only op, version,
// record_id and body, zstd-compressed, and the receiver derives seq, record_hash, prev_hash and
// entry_hash from the header's after_seq and prev_hash (the chain is checked against the signed
// head as before, so verification is as strong as in version 3). Version 6 sends the same fields
// plus each body's dictionary id, the body as the sender stores it (at-rest zstd frame or raw),
// the entries frame uncompressed, and a frame 3 with the dictionaries the receiver lacks.
// Version 7 lays a BATCH out as version 6; a body that does not decompress makes it damaged
// (Batch::damaged, refused by the receiver) instead of malformed, and the sender may leave the
// bodies it sends as stored undecompressed (their frames' declared sizes bound the batch).
#include <algorithm>
#include <chrono>

#include "hub/exchange/wire_io.h"
#include "hub/store/zstd_codec.h"
#include "schemas/error.h"

namespace carehub::wire::internal {
namespace {

// v2/v3 entry: u64 seq, u8 op, u32 version, str16 record_id, 3 x 32-byte hashes, body.
constexpr std::size_t kFullEntryMin = 8 + 1 + 4 + 2 + 96;
// v4 entry: u8 op, u32 version, str16 record_id, body.
constexpr std::size_t kLeanEntryMin = 1 + 4 + 2;
// v6 entry: u8 op, u32 version, str16 record_id, u32 dict, body as stored.
constexpr std::size_t kStoredEntryMin = 1 + 4 + 2 + 4;

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

// The bounds of a non-empty BATCH of versions 4 and 6, checked before anything is allocated:
// `count` entries continue after_seq up to the head, within the batch limits, each entry taking
// at least its length prefix and `entry_min` bytes of the `size` announced.
void CheckBatchBounds(const Batch& b, std::uint32_t count, std::uint32_t size,
                      std::size_t entry_min, const Reader& r) {
  if (b.head.seq < b.after_seq || static_cast<std::uint64_t>(b.head.seq - b.after_seq) != count) {
    r.Fail("count is not head seq - after_seq");
  }
  if (count > kMaxBatchEntries) r.Fail("more entries than a batch may hold");
  if (size > kMaxBatchEntriesBytes) r.Fail("entries larger than a batch may be");
  if (count > size / (4 + entry_min)) r.Fail("count larger than the entries");
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

// `to` = `bytes`, in place when it fits; else allocated at its size (growing a reused string
// doubles its capacity in libstdc++: every reused body would end up ~1.5x its size).
void AssignReused(std::string& to, std::string_view bytes) {
  if (bytes.size() > to.capacity()) {
    to = std::string(bytes);
  } else {
    to.assign(bytes);
  }
}

// Entry i of a batch being decoded into `entries`: the one left there by an earlier batch
// (its strings keep their capacity: nothing allocated per entry once warmed up), else a new one.
ChangeEntry& ReuseEntry(std::vector<ChangeEntry>& entries, std::size_t i) {
  return i < entries.size() ? entries[i] : entries.emplace_back();
}

// The lean entries of `packed` with every derived field: seq from after_seq, record_hash =
// SHA-256(body), prev_hash = the previous entry_hash (the header's prev_hash for the first).
// Entries already in b.entries are overwritten in place (ReuseEntry).
void ReadLean(std::string_view packed, std::uint32_t count, Hash256 prev, Batch& b) {
  Reader r(packed, "BATCH entries");
  b.entries.reserve(count);
  b.stored.clear();
  for (std::uint32_t i = 0; i < count; ++i) {
    Reader entry(r.Bytes(r.U32()), "BATCH entry");
    ChangeEntry& e = ReuseEntry(b.entries, i);
    e.origin.assign(b.head.origin);
    e.seq = b.after_seq + 1 + i;
    e.op = ReadOp(entry);
    e.version = ReadVersion(entry);
    AssignReused(e.record_id, entry.Short());
    AssignReused(e.body, entry.Rest());
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
  }
  r.End();
  b.entries.resize(count);
}

void DecodeLean(const Frames& frames, Batch& b) {
  Reader r(frames[1], "BATCH");
  ReadHeader(r, b);
  const std::uint32_t count = r.U32();
  Hash256 prev{};
  r.Fixed(prev);
  const std::uint32_t size = r.U32();
  r.End();
  if (count == 0) {
    if (size != 0 || !frames[2].empty() || prev != kZeroHash)
      r.Fail("an empty batch carries entries");
    b.entries.clear();
    b.stored.clear();
    return;
  }
  CheckBatchBounds(b, count, size, kLeanEntryMin, r);
  ReadLean(Decompress(frames[2], size, r), count, prev, b);
  b.hashes_derived = true;
}

// --- version 6 ------------------------------------------------------------------------------

// The size of a body uncompressed, as the version-4 entries frame would carry it: a version-6
// batch is bounded by the total too, so that what a receiver decompresses stays within
// kMaxBatchEntriesBytes. A body sent as stored without having been decompressed (a version-7
// server decompresses nothing it serves) counts the size its frame declares (read while the
// frame is copied: reading each frame's header beforehand cost a cache miss per body).
std::size_t LeanBodySize(const ChangeEntry& e, const CompressedBody* c) {
  if (c == nullptr || !e.body.empty()) return e.body.size();
  return zstd::BodyContentSize(c->frame).value_or(c->frame.size());
}

std::string StoredEntries(const Batch& b) {
  const bool as_stored = b.stored.size() == b.entries.size();
  auto frame_of = [&](std::size_t i) -> const CompressedBody* {
    return as_stored && b.stored[i].dict ? &b.stored[i] : nullptr;
  };
  std::size_t size = 0;
  for (std::size_t i = 0; i < b.entries.size(); ++i) {
    const CompressedBody* c = frame_of(i);
    size += 4 + kStoredEntryMin + b.entries[i].record_id.size() +
            (c ? c->frame.size() : b.entries[i].body.size());
  }
  const auto too_large = [&] {
    return Error::InvalidInput("wire: a version-6 BATCH of " + std::to_string(size) +
                               " bytes exceeds the entries bound");
  };
  if (size > kMaxBatchEntriesBytes) throw too_large();
  Writer w;
  w.Reserve(size);
  std::int64_t seq = b.after_seq;
  std::size_t lean = 0;  // the entries' size in version 4
  for (std::size_t i = 0; i < b.entries.size(); ++i) {
    const ChangeEntry& e = b.entries[i];
    if (e.seq != ++seq) {
      throw Error::InvalidInput("wire: version-6 BATCH entries must be after_seq+1..head seq");
    }
    const CompressedBody* c = frame_of(i);
    const std::string_view body = c ? std::string_view(c->frame) : std::string_view(e.body);
    w.U32(static_cast<std::uint32_t>(kStoredEntryMin + e.record_id.size() + body.size()));
    w.U8(static_cast<std::uint8_t>(e.op));
    w.U32(static_cast<std::uint32_t>(e.version));
    w.Short(e.record_id);
    w.U32(c ? static_cast<std::uint32_t>(c->dict->id()) : 0);
    w.Raw(body);
    lean += 4 + kLeanEntryMin + e.record_id.size() + LeanBodySize(e, c);
  }
  if (lean > kMaxBatchEntriesBytes) throw too_large();
  return w.Take();
}

std::string DictionariesFrame(const std::vector<DictionaryPtr>& dictionaries) {
  if (dictionaries.size() > kMaxBatchDictionaries) {
    throw Error::InvalidInput("wire: a BATCH carries more dictionaries than allowed");
  }
  Writer w;
  w.U8(static_cast<std::uint8_t>(dictionaries.size()));
  for (const DictionaryPtr& d : dictionaries) {
    if (d->dict.bytes().size() > kMaxDictionaryBytes) {
      throw Error::InvalidInput("wire: a dictionary larger than a BATCH may carry");
    }
    w.U32(static_cast<std::uint32_t>(d->id()));
    w.U64(d->fingerprint);
    w.U32(static_cast<std::uint32_t>(d->dict.bytes().size()));
    w.Raw(d->dict.bytes());
  }
  return w.Take();
}

void EncodeStored(const Batch& b, Frames& frames) {
  if (!b.entries.empty() && b.entries.back().seq != b.head.seq) {
    throw Error::InvalidInput("wire: a version-6 BATCH must end at its head");
  }
  std::string entries = StoredEntries(b);
  Writer w;
  WriteHeader(w, b, static_cast<std::uint32_t>(b.entries.size()));
  w.Fixed(b.entries.empty() ? kZeroHash : b.entries.front().prev_hash);
  w.U32(static_cast<std::uint32_t>(entries.size()));
  frames.push_back(w.Take());
  frames.push_back(std::move(entries));
  frames.push_back(DictionariesFrame(b.dictionaries));
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Frame 3: each dictionary built (its id must be the one in its bytes), none twice, none that
// `held` holds under its id with other bytes.
std::vector<DictionaryPtr> ReadDictionaries(const std::string& frame,
                                            const HeldDictionaries* held) {
  Reader r(frame, "BATCH dictionaries");
  const std::uint8_t count = r.U8();
  if (count > kMaxBatchDictionaries) r.Fail("more dictionaries than a batch may carry");
  std::vector<DictionaryPtr> out;
  for (std::uint8_t i = 0; i < count; ++i) {
    const std::uint32_t id = r.U32();
    const std::uint64_t fingerprint = r.U64();
    const std::uint32_t size = r.U32();
    if (size > kMaxDictionaryBytes) r.Fail("a dictionary larger than a batch may carry");
    std::string bytes(r.Bytes(size));
    DictionaryPtr d;
    try {
      d = std::make_shared<const BodyDictionary>(fingerprint, 0, NowMs(), std::move(bytes));
    } catch (const Error& e) {
      r.Fail(std::string("dictionary ") + std::to_string(id) + ": " + e.what());
    }
    if (id == 0 || d->id() != id) r.Fail("dictionary id " + std::to_string(id) + " is not its own");
    if (std::any_of(out.begin(), out.end(), [&](const DictionaryPtr& o) { return o->id() == id; }))
      r.Fail("dictionary " + std::to_string(id) + " sent twice");
    if (held != nullptr) {
      const auto it = held->find(id);
      if (it != held->end() && it->second->dict.bytes() != d->dict.bytes())
        r.Fail("dictionary " + std::to_string(id) + " differs from the one held under its id");
    }
    out.push_back(std::move(d));
  }
  r.End();
  return out;
}

// Entry i's dictionary: one of the batch's, else one held; else the batch is malformed.
const DictionaryPtr& FindDictionary(std::uint32_t id, const std::vector<DictionaryPtr>& sent,
                                    const HeldDictionaries* held, const Reader& r) {
  for (const DictionaryPtr& d : sent) {
    if (d->id() == id) return d;
  }
  if (held != nullptr) {
    if (const auto it = held->find(id); it != held->end() && it->second) return it->second;
  }
  r.Fail("unknown dictionary id " + std::to_string(id));
}

// The entries of a version-6 frame: each body decompressed (at most kMaxBatchEntriesBytes in
// all) and its frame kept in b.stored, then every hash derived as in version 4. A body that does
// not decompress makes the batch malformed, or with `refuse` (version 7) damaged: the rest is
// still parsed (framing errors stay malformed), nothing more decompressed, and b.damaged says
// which seq.
void ReadStored(std::string_view packed, std::uint32_t count, Hash256 prev,
                const HeldDictionaries* held, bool refuse, Batch& b) {
  thread_local zstd::Decompressor decompressor;
  Reader r(packed, "BATCH entries");
  b.entries.reserve(count);
  b.stored.reserve(count);
  std::size_t budget = kMaxBatchEntriesBytes;
  for (std::uint32_t i = 0; i < count; ++i) {
    Reader entry(r.Bytes(r.U32()), "BATCH entry");
    ChangeEntry& e = ReuseEntry(b.entries, i);
    CompressedBody& c = i < b.stored.size() ? b.stored[i] : b.stored.emplace_back();
    e.origin.assign(b.head.origin);
    e.seq = b.after_seq + 1 + i;
    e.op = ReadOp(entry);
    e.version = ReadVersion(entry);
    AssignReused(e.record_id, entry.Short());
    const std::uint32_t dict = entry.U32();
    const std::string_view body = entry.Rest();
    if (dict == 0) {
      c.dict.reset();
      c.frame.clear();
      if (!b.damaged) AssignReused(e.body, body);
    } else {
      c.dict = FindDictionary(dict, b.dictionaries, held, entry);
      if (b.damaged) continue;
      try {
        decompressor.Decompress(c.dict->dict, body, e.body, true, budget);
      } catch (const Error& error) {
        const std::string why = "body of seq " + std::to_string(e.seq) + ": " + error.what();
        if (!refuse) entry.Fail(why);
        b.damaged = why;
        continue;
      }
      AssignReused(c.frame, body);
    }
    if (b.damaged) continue;
    if (e.body.size() > budget) r.Fail("bodies larger than a batch may be");
    budget -= e.body.size();
    e.record_hash = RecordHash(e.body);
    e.prev_hash = prev;
    e.entry_hash = EntryHash(e);
    prev = e.entry_hash;
  }
  r.End();
  if (b.damaged) {
    b.entries.clear();
    b.stored.clear();
    return;
  }
  b.entries.resize(count);
  b.stored.resize(count);
}

void DecodeStored(const Frames& frames, std::uint8_t version, const HeldDictionaries* held,
                  Batch& b) {
  Reader r(frames[1], "BATCH");
  ReadHeader(r, b);
  const std::uint32_t count = r.U32();
  Hash256 prev{};
  r.Fixed(prev);
  const std::uint32_t size = r.U32();
  r.End();
  b.dictionaries = ReadDictionaries(frames[3], held);
  if (size != frames[2].size()) r.Fail("entries size is not the entries frame's");
  if (count == 0) {
    if (size != 0 || prev != kZeroHash || !b.dictionaries.empty())
      r.Fail("an empty batch carries entries");
    b.entries.clear();
    b.stored.clear();
    return;
  }
  CheckBatchBounds(b, count, size, kStoredEntryMin, r);
  ReadStored(frames[2], count, prev, held, version >= 7, b);
  b.hashes_derived = !b.damaged;
}

}  // namespace

void EncodeBatchFrames(const Batch& batch, std::uint8_t version, Frames& frames) {
  if (version >= 6) return EncodeStored(batch, frames);
  if (version >= 4) return EncodeLean(batch, frames);
  Writer w;
  WriteHeader(w, batch, static_cast<std::uint32_t>(batch.entries.size()));
  frames.push_back(w.Take());
  frames.push_back(FullEntries(batch.entries));
}

Batch DecodeBatchFrames(const Frames& frames, std::uint8_t version, const HeldDictionaries* held) {
  Batch b;
  DecodeBatchFrames(frames, version, held, b);
  return b;
}

void DecodeBatchFrames(const Frames& frames, std::uint8_t version, const HeldDictionaries* held,
                       Batch& into) {
  const std::size_t expected = version >= 6 ? 4 : 3;
  if (frames.size() != expected) {
    throw WireError(ErrorCode::kMalformed, "malformed BATCH: expected " + std::to_string(expected) +
                                               " frames, got " + std::to_string(frames.size()));
  }
  if (version < 4) {
    into = DecodeFull(frames);
    return;
  }
  // Everything but the entry vectors is set anew; those are overwritten in place and resized.
  into.head = {};
  into.after_seq = 0;
  into.hashes_derived = false;
  into.damaged.reset();
  into.dictionaries.clear();
  if (version >= 6) {
    DecodeStored(frames, version, held, into);
  } else {
    DecodeLean(frames, into);
  }
}

}  // namespace carehub::wire::internal
