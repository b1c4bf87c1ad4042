#include "hub/store/body_codec.h"

#include <algorithm>
#include <chrono>

#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// The largest dictionary trained; smaller when the samples are few (zstd wants ~10x the
// dictionary in samples). docs/STORE.md has the measurements behind it.
constexpr std::size_t kMaxDictionaryBytes = 32 * 1024;
constexpr std::size_t kMinDictionaryBytes = 1024;

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<DictionaryPtr> LoadBodyDictionaries(sqlite3* db) {
  sqlite::Statement stmt(db,
                         "SELECT fingerprint, samples, created_at, dictionary FROM "
                         "body_dictionaries ORDER BY created_at, id");
  std::vector<DictionaryPtr> out;
  while (stmt.Step()) {
    out.push_back(std::make_shared<const BodyDictionary>(
        static_cast<std::uint64_t>(stmt.ColumnInt64(0)), stmt.ColumnInt64(1), stmt.ColumnInt64(2),
        std::string(stmt.ColumnBlob(3))));
  }
  return out;
}

void StoreBodyDictionary(sqlite3* db, const BodyDictionary& d) {
  sqlite::Statement insert(db,
                           "INSERT OR IGNORE INTO body_dictionaries(id, fingerprint, dictionary, "
                           "samples, created_at) VALUES(?, ?, ?, ?, ?)");
  insert.Bind(1, d.id())
      .Bind(2, static_cast<std::int64_t>(d.fingerprint))
      .BindBlob(3, d.dict.bytes())
      .Bind(4, d.samples)
      .Bind(5, d.created_at_ms)
      .Run();
  sqlite::Statement check(db, "SELECT dictionary FROM body_dictionaries WHERE id = ?");
  check.Bind(1, d.id());
  if (!check.Step() || check.ColumnBlob(0) != d.dict.bytes()) {
    throw Error::Corruption("zstd dictionary id " + std::to_string(d.id()) +
                            " is held by another stored dictionary");
  }
}

BodyEncoder::BodyEncoder(const std::vector<DictionaryPtr>& known, std::size_t training_samples,
                         std::function<std::int64_t()> now_ms)
    : training_samples_(std::max<std::size_t>(training_samples, 1)),
      now_ms_(now_ms ? std::move(now_ms) : SystemNowMs) {
  for (const DictionaryPtr& d : known) by_fingerprint_[d->fingerprint] = d;
}

DictionaryPtr BodyEncoder::Encode(std::string_view body, std::string& out) {
  const auto fingerprint = SingleObjectFingerprint(body);
  if (!fingerprint) return nullptr;
  auto it = by_fingerprint_.find(*fingerprint);
  if (it == by_fingerprint_.end()) {
    Samples& samples = samples_[*fingerprint];
    if (samples.failed) return nullptr;
    samples.bytes.append(body);
    samples.sizes.push_back(body.size());
    if (samples.sizes.size() < training_samples_) return nullptr;
    DictionaryPtr trained = Train(*fingerprint, samples);
    samples_.erase(*fingerprint);
    if (!trained) {
      samples_[*fingerprint].failed = true;
      return nullptr;
    }
    it = by_fingerprint_.emplace(*fingerprint, std::move(trained)).first;
  }
  compressor_.Compress(it->second->dict, body, out);
  return it->second;
}

DictionaryPtr BodyEncoder::Train(std::uint64_t fingerprint, Samples& samples) {
  const std::size_t capacity =
      std::clamp(samples.bytes.size() / 10, kMinDictionaryBytes, kMaxDictionaryBytes);
  auto bytes = zstd::TrainDictionary(samples.bytes, samples.sizes, capacity);
  if (!bytes) return nullptr;
  auto trained = std::make_shared<const BodyDictionary>(
      fingerprint, static_cast<std::int64_t>(samples.sizes.size()), now_ms_(), std::move(*bytes));
  trained_.push_back(trained);
  return trained;
}

BodyCodec::BodyCodec(sqlite3* db) : db_(db) {}

void BodyCodec::set_training_samples(std::size_t n) {
  training_samples_ = n;
  encoder_.reset();
  stored_trained_ = 0;
}

const BodyDictionary& BodyCodec::Dictionary(std::int64_t id) {
  if (const auto it = by_id_.find(id); it != by_id_.end()) return *it->second;
  sqlite::Statement stmt(db_,
                         "SELECT fingerprint, samples, created_at, dictionary FROM "
                         "body_dictionaries WHERE id = ?");
  stmt.Bind(1, id);
  if (!stmt.Step()) {
    throw Error::Corruption("its dictionary " + std::to_string(id) + " is not stored");
  }
  auto d = std::make_shared<const BodyDictionary>(static_cast<std::uint64_t>(stmt.ColumnInt64(0)),
                                                  stmt.ColumnInt64(1), stmt.ColumnInt64(2),
                                                  std::string(stmt.ColumnBlob(3)));
  if (d->id() != id) {
    throw Error::Corruption("stored dictionary " + std::to_string(id) + " has another id");
  }
  return *by_id_.emplace(id, std::move(d)).first->second;
}

DictionaryPtr BodyCodec::Find(std::int64_t id) {
  try {
    Dictionary(id);
  } catch (const Error&) {
    return nullptr;
  }
  return by_id_.at(id);
}

std::string_view BodyCodec::Read(std::optional<std::int64_t> dict, std::string_view stored,
                                 std::string& out) {
  if (!dict) return stored;
  decompressor_.Decompress(Dictionary(*dict).dict, stored, out);
  return out;
}

BodyEncoder& BodyCodec::Encoder() {
  if (!encoder_) {
    const std::vector<DictionaryPtr> known = LoadBodyDictionaries(db_);
    for (const DictionaryPtr& d : known) by_id_.emplace(d->id(), d);
    encoder_.emplace(known, training_samples_);
    stored_trained_ = 0;
  }
  return *encoder_;
}

std::optional<std::int64_t> BodyCodec::Encode(std::string_view body, std::string& out) {
  BodyEncoder& encoder = Encoder();
  const DictionaryPtr used = encoder.Encode(body, out);
  if (encoder.trained().size() > stored_trained_) StoreTrained();
  if (!used) return std::nullopt;
  return used->id();
}

void BodyCodec::StoreTrained() {
  if (!encoder_) return;
  for (const DictionaryPtr& d : encoder_->trained()) {
    StoreBodyDictionary(db_, *d);
    by_id_.emplace(d->id(), d);
  }
  stored_trained_ = encoder_->trained().size();
}

void DefineBodyFunction(sqlite::Database& db, BodyCodec& codec) {
  const auto body = [](sqlite3_context* context, int, sqlite3_value** args) {
    if (sqlite3_value_type(args[0]) == SQLITE_NULL) {  // stored raw (or no change: NULL)
      sqlite3_result_value(context, args[1]);
      return;
    }
    auto* self = static_cast<BodyCodec*>(sqlite3_user_data(context));
    const auto* blob = static_cast<const char*>(sqlite3_value_blob(args[1]));
    const std::string_view stored(blob ? blob : "", sqlite3_value_bytes(args[1]));
    thread_local std::string out;
    try {
      const std::string_view plain = self->Read(sqlite3_value_int64(args[0]), stored, out);
      sqlite3_result_blob64(context, plain.data(), plain.size(), SQLITE_TRANSIENT);
    } catch (const std::exception& e) {
      const auto* origin = reinterpret_cast<const char*>(sqlite3_value_text(args[2]));
      const auto* record = reinterpret_cast<const char*>(sqlite3_value_text(args[4]));
      const std::string message = "change origin=" + std::string(origin ? origin : "") +
                                  " seq=" + std::to_string(sqlite3_value_int64(args[3])) +
                                  " record=" + std::string(record ? record : "") +
                                  ": body: " + e.what();
      sqlite3_result_error(context, message.c_str(), -1);
    }
  };
  const int rc = sqlite3_create_function_v2(db.handle(), "carehub_body", 5, SQLITE_UTF8, &codec,
                                            +body, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) sqlite::ThrowSqlite(db.handle(), rc, "carehub_body");
}

}  // namespace carehub
