// Record bodies at rest (issue 16, docs/STORE.md): a change row's body is stored compressed with
// a zstd dictionary trained per writer schema (the Avro single-object fingerprint) from the
// first bodies of that schema the hub stores, or raw (`changes.dict` NULL: rows written before
// step 12 and before their schema had a dictionary). Dictionaries live in `body_dictionaries`;
// a dictionary's id is its zstd dictionary ID, derived from its content, so a cached dictionary
// can never stand for another one.
//   BodyEncoder — compresses bodies and trains dictionaries; one per writing thread (the ingest
//                 writer thread has its own and compresses each chunk before writing it).
//   BodyCodec   — per connection (the Store's): decompresses for every read, also as the SQL
//                 function carehub_body(dict, body, origin, seq, record_id) (kChangeBody in
//                 store.h), and encodes for the writers on that connection (relayed batches,
//                 retract), keeping the dictionaries it trains in `body_dictionaries`.
// Bodies handed out are always the uncompressed single-object bytes (hashes are over them).
// Thread-safety: a BodyDictionary is immutable and shared; encoders and codecs belong to one
// thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/sqlite_db.h"
#include "hub/store/zstd_codec.h"

namespace carehub {

// Bodies of one schema a dictionary is trained from (the first ones stored of that schema).
inline constexpr std::size_t kTrainingSamples = 4096;

// A row of body_dictionaries.
struct BodyDictionary {
  BodyDictionary(std::uint64_t fingerprint_, std::int64_t samples_, std::int64_t created_at_ms_,
                 std::string bytes)
      : fingerprint(fingerprint_),
        samples(samples_),
        created_at_ms(created_at_ms_),
        dict(std::move(bytes)) {}
  std::int64_t id() const { return dict.id(); }
  std::uint64_t fingerprint;  // writer schema of the bodies it compresses
  std::int64_t samples;       // bodies it was trained from
  std::int64_t created_at_ms;
  zstd::Dictionary dict;
};
using DictionaryPtr = std::shared_ptr<const BodyDictionary>;

// A body as a change row stores it, owned: the zstd frame compressed with `dict`, or nothing
// (`dict` null) for a body stored raw, whose bytes are the body itself. Version-6 BATCH entries
// travel so (docs/PROTOCOL.md "BATCH"); the receiver stores such a frame unchanged.
struct CompressedBody {
  DictionaryPtr dict;
  std::string frame;
};

// Every stored dictionary, oldest first.
std::vector<DictionaryPtr> LoadBodyDictionaries(sqlite3* db);
// Inserts `d` in the caller's transaction unless it is stored. Throws Error::Corruption when
// another dictionary holds its id (a zstd dictionary ID collision, ~2^-31 per pair).
void StoreBodyDictionary(sqlite3* db, const BodyDictionary& d);

class BodyEncoder {
 public:
  // `known`: dictionaries to compress with (the latest per schema wins); schemas without one
  // collect `training_samples` bodies, then train one.
  BodyEncoder(const std::vector<DictionaryPtr>& known, std::size_t training_samples,
              std::function<std::int64_t()> now_ms = nullptr);
  // Compresses `body` into `out` and returns the dictionary used; returns null (store `body`
  // raw, `out` untouched) while its schema has no dictionary or when it is not a single object.
  DictionaryPtr Encode(std::string_view body, std::string& out);
  // Compresses `body` with `dict` (e.g. a body stored raw before `dict` was trained).
  void Compress(const BodyDictionary& dict, std::string_view body, std::string& out) {
    compressor_.Compress(dict.dict, body, out);
  }
  // Dictionaries trained so far by this encoder, oldest first.
  const std::vector<DictionaryPtr>& trained() const { return trained_; }
  // The dictionary Encode compresses bodies of `fingerprint` with (null: none yet). Once a
  // schema has one it keeps it for the encoder's life.
  DictionaryPtr DictionaryFor(std::uint64_t fingerprint) const {
    const auto it = by_fingerprint_.find(fingerprint);
    return it == by_fingerprint_.end() ? nullptr : it->second;
  }

 private:
  struct Samples {
    std::string bytes;
    std::vector<std::size_t> sizes;
    bool failed = false;  // zstd could not train from them: the schema stays raw
  };
  DictionaryPtr Train(std::uint64_t fingerprint, Samples& samples);

  std::size_t training_samples_;
  std::function<std::int64_t()> now_ms_;
  std::map<std::uint64_t, DictionaryPtr> by_fingerprint_;
  std::map<std::uint64_t, Samples> samples_;
  std::vector<DictionaryPtr> trained_;
  zstd::Compressor compressor_;
};

class BodyCodec {
 public:
  // `db` is the connection's handle (stable when the owning Store moves).
  explicit BodyCodec(sqlite3* db);
  BodyCodec(const BodyCodec&) = delete;
  BodyCodec& operator=(const BodyCodec&) = delete;

  // The body of a change row: `stored` when `dict` is null, else `stored` decompressed into
  // `out`. Throws Error::Corruption (dictionary unknown, blob damaged); callers name the row.
  std::string_view Read(std::optional<std::int64_t> dict, std::string_view stored,
                        std::string& out);
  // For a writer on this connection, inside its transaction: `body` compressed into `out` with
  // its schema's dictionary (returns its id), or nullopt to store `body` raw. A dictionary
  // trained now is stored in body_dictionaries in the same transaction.
  std::optional<std::int64_t> Encode(std::string_view body, std::string& out);
  // The stored dictionary `id` (null when this store holds none under that id).
  DictionaryPtr Find(std::int64_t id);
  // Stores again the dictionaries this codec trained (a rolled-back transaction takes their
  // rows with it); writers call it at the start of their transaction.
  void StoreTrained();
  // The dictionary Encode uses for bodies of `fingerprint` (null: stored raw or training). A
  // body compressed with it by another thread (zstd::Compressor, same parameters) is the same
  // bytes Encode would store.
  DictionaryPtr EncodingDictionary(std::uint64_t fingerprint) {
    return Encoder().DictionaryFor(fingerprint);
  }

  // Bodies per schema the dictionaries of this connection are trained from (tests use few).
  std::size_t training_samples() const { return training_samples_; }
  void set_training_samples(std::size_t n);

 private:
  const BodyDictionary& Dictionary(std::int64_t id);
  BodyEncoder& Encoder();

  sqlite3* db_;
  std::map<std::int64_t, DictionaryPtr> by_id_;
  std::optional<BodyEncoder> encoder_;  // made on first use, from the stored dictionaries
  std::size_t stored_trained_ = 0;      // encoder_->trained() already in body_dictionaries
  std::size_t training_samples_ = kTrainingSamples;
  zstd::Decompressor decompressor_;
};

// Defines carehub_body(dict, body, origin, seq, record_id) on `db`, backed by `codec` (which
// must outlive the connection's statements): the body decompressed; an error naming origin, seq
// and record id when it does not decompress.
void DefineBodyFunction(sqlite::Database& db, BodyCodec& codec);

}  // namespace carehub
