#include "hub/store/store.h"

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "hub/store/body_codec.h"
#include "hub/store/lookup_keys.h"
#include "hub/store/migrations.h"
#include "schemas/error.h"

namespace carehub {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDbFile = "carehub.db";
constexpr const char* kFederationKeyFile = "federation.key";
constexpr std::size_t kFederationKeySize = 32;

struct RegionAlias {
  std::string_view alias;
  std::string_view code;
};
constexpr RegionAlias kAliases[] = {{"sh", "310000"}, {"js", "320000"}, {"zj", "330000"},
                                    {"ah", "340000"}, {"gd", "440000"}, {"hk", "810000"},
                                    {"mo", "820000"}};
// GB/T 2260 province-level prefixes (plus 71 Taiwan, 81 Hong Kong, 82 Macau).
constexpr std::string_view kProvincePrefixes[] = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
    "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
    "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"};

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::uint8_t> ReadFederationKey(const fs::path& path) {
  const std::string bytes = ReadSmallFile(path);
  if (bytes.size() != kFederationKeySize) {
    throw Error::InvalidInput("federation key " + path.string() +
                              " must be exactly 32 bytes, not " + std::to_string(bytes.size()));
  }
  return {bytes.begin(), bytes.end()};
}

std::optional<std::string> MetaValue(sqlite::Database& db, std::string_view key) {
  sqlite::Statement stmt(db, "SELECT value FROM meta WHERE key = ?");
  stmt.Bind(1, key);
  if (!stmt.Step()) return std::nullopt;
  return stmt.ColumnText(0);
}

void AddTokens(const PersonRef& person, std::vector<Hmac256>& out) {
  for (const PersonToken& t : person.tokens) out.push_back(t.token);
}

std::optional<std::string> OrgKey(const std::optional<OrgRef>& org) {
  if (!org) return std::nullopt;
  if (org->uscc) return org->uscc;
  return org->local_id;
}

std::optional<std::int64_t> Days(const std::optional<Date>& date) {
  if (!date) return std::nullopt;
  return date->time_since_epoch().count();
}

// At rest (issue 12): the hub directory is 0700 and the database with its WAL and SHM files
// 0600, whatever the umask. chmod works on the path: the database files are never opened through
// a descriptor of our own (docs/STORE.md, "One descriptor per database file"). SQLite creates
// the WAL and SHM files with the database file's mode, so later ones are 0600 too.
void ProtectHubFiles(const fs::path& dir) {
  ::chmod(dir.c_str(), 0700);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path file = dir / (std::string(kDbFile) + suffix);
    ::chmod(file.c_str(), 0600);  // ENOENT for a WAL/SHM not there yet is fine
  }
}

}  // namespace

std::optional<std::string> ResolveRegion(std::string_view code_or_alias) {
  for (const auto& a : kAliases) {
    if (a.alias == code_or_alias) return std::string(a.code);
  }
  if (code_or_alias.size() != 6) return std::nullopt;
  for (char c : code_or_alias) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  for (std::string_view prefix : kProvincePrefixes) {
    if (code_or_alias.substr(0, 2) == prefix) return std::string(code_or_alias);
  }
  return std::nullopt;
}

RecordColumns ColumnsOf(const CanonicalRecord& record) {
  RecordColumns c;
  auto pivot = [&c](const std::optional<PivotLevel>& p) {
    if (p) c.pivot_level = p->level;
  };
  switch (record.kind()) {
    case RecordKind::kAssessment: {
      const auto& a = std::get<Assessment>(record.body);
      pivot(a.pivot);
      c.effective_on = a.assessed_on.time_since_epoch().count();
      c.valid_until = Days(a.valid_until);
      AddTokens(a.person, c.tokens);
      break;
    }
    case RecordKind::kCaregiver: {
      const auto& q = std::get<CaregiverQualification>(record.body);
      pivot(q.pivot);
      c.effective_on = q.issued_on.time_since_epoch().count();
      c.valid_until = Days(q.valid_until);
      AddTokens(q.person, c.tokens);
      break;
    }
    case RecordKind::kFacility: {
      const auto& f = std::get<FacilityRating>(record.body);
      pivot(f.pivot);
      c.subject_org = OrgKey(f.facility);
      c.effective_on = f.rated_on.time_since_epoch().count();
      c.valid_until = Days(f.valid_until);
      break;
    }
    case RecordKind::kSanction: {
      const auto& s = std::get<SanctionNotice>(record.body);
      c.subject_org = OrgKey(s.subject_org);
      c.effective_on = s.decided_on.time_since_epoch().count();
      c.valid_until = Days(s.ends_on);
      if (s.subject_person) AddTokens(*s.subject_person, c.tokens);
      break;
    }
  }
  return c;
}

StoredRecord ReadStoredRecord(const sqlite::Statement& stmt) {
  StoredRecord r;
  r.record_id = stmt.ColumnText(0);
  const std::string kind = stmt.ColumnText(1);
  const auto parsed_kind = ParseKind(kind);
  if (!parsed_kind) throw Error::Corruption("record of unknown kind '" + kind + "'");
  r.kind = *parsed_kind;
  r.origin = stmt.ColumnText(2);
  r.version = stmt.ColumnInt(3);
  const std::string status = stmt.ColumnText(4);
  const auto parsed_status = ParseStatus(status);
  if (!parsed_status) throw Error::Corruption("record of unknown status '" + status + "'");
  r.status = *parsed_status;
  r.subject_org = stmt.ColumnOptionalText(5);
  if (!stmt.IsNull(6)) r.pivot_level = stmt.ColumnInt(6);
  r.effective_on = stmt.ColumnOptionalInt64(7);
  r.valid_until = stmt.ColumnOptionalInt64(8);
  r.seq = stmt.ColumnInt64(9);
  r.fingerprint = static_cast<std::uint64_t>(stmt.ColumnInt64(10));
  r.body = std::string(stmt.ColumnBlob(11));
  return r;
}

Store::Store(fs::path dir, sqlite::Database db, HubKeys keys)
    : dir_(std::move(dir)),
      db_(std::move(db)),
      bodies_(std::make_unique<BodyCodec>(db_.handle())),
      keys_(std::move(keys)) {
  DefineBodyFunction(db_, *bodies_);
}

Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;

Store Store::Init(const fs::path& dir, const InitOptions& options) {
  const auto region = ResolveRegion(options.region);
  if (!region) {
    throw Error::InvalidInput("unknown region '" + options.region +
                              "': give a 6-digit GB/T 2260 code or one of sh js zj ah gd hk mo");
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error::IoError("cannot create " + dir.string() + ": " + ec.message());
  ProtectHubFiles(dir);

  // An existing hub keeps its region: a hub's region is the origin of everything it wrote.
  const fs::path db_path = dir / kDbFile;
  if (fs::exists(db_path)) {
    sqlite::Database existing(db_path.string(), {.mode = sqlite::OpenMode::kReadWrite});
    Migrate(existing);
    const auto old_region = MetaValue(existing, "region");
    if (old_region && *old_region != *region) {
      throw Error::InvalidInput("hub " + dir.string() + " is already initialised for region " +
                                *old_region + ", not " + *region);
    }
  }

  const fs::path key_path = dir / kFederationKeyFile;
  if (options.federation_key_file) {
    const auto given = ReadFederationKey(*options.federation_key_file);
    if (fs::exists(key_path)) {
      if (ReadFederationKey(key_path) != given) {
        throw Error::InvalidInput("hub " + dir.string() +
                                  " already has a different federation key");
      }
    } else {
      WriteSecretFile(key_path,
                      std::string_view(reinterpret_cast<const char*>(given.data()), given.size()),
                      0600);
    }
  } else if (!fs::exists(key_path)) {
    std::string fresh(kFederationKeySize, '\0');
    randombytes_buf(fresh.data(), fresh.size());
    WriteSecretFile(key_path, fresh, 0600);
    sodium_memzero(fresh.data(), fresh.size());
  }
  if (!HubKeys::Exist(dir)) HubKeys::Create(dir);

  {
    sqlite::Database db(db_path.string());
    Migrate(db);
    sqlite::Transaction tx(db);
    sqlite::Statement put(db, "INSERT OR IGNORE INTO meta(key, value) VALUES(?, ?)");
    put.Bind(1, "region").Bind(2, *region).Run();
    const std::int64_t now = options.now_ms ? options.now_ms() : SystemNowMs();
    put.Bind(1, "created_at").Bind(2, std::to_string(now)).Run();
    tx.Commit();
  }
  return Open(dir);
}

Store Store::Open(const fs::path& dir) {
  const fs::path db_path = dir / kDbFile;
  if (!fs::exists(db_path)) {
    throw Error::NotFound(dir.string() + " is not a carehub hub (no carehub.db; run carehub init)");
  }
  sqlite::Database db(db_path.string(), {.mode = sqlite::OpenMode::kReadWrite});
  ProtectHubFiles(dir);
  Migrate(db);
  auto region = MetaValue(db, "region");
  if (!region) throw Error::Corruption(db_path.string() + " has no region (run carehub init)");
  Store store(dir, std::move(db), HubKeys::Load(dir));
  store.region_ = *region;
  store.federation_key_ = ReadFederationKey(dir / kFederationKeyFile);
  return store;
}

std::optional<StoredRecord> Store::RecordById(std::string_view record_id) {
  sqlite::Statement stmt(db_, "SELECT " + std::string(kRecordColumns) + " FROM " +
                                  std::string(kRecordsWithBody) +
                                  " WHERE r.record_key = ? AND r.record_id = ?");
  stmt.Bind(1, RecordKey(record_id)).Bind(2, record_id);
  if (!stmt.Step()) return std::nullopt;
  return ReadStoredRecord(stmt);
}

std::int64_t GrowingBatchSize(std::int64_t records_in_store, std::int64_t least,
                              std::int64_t most) {
  return std::clamp(records_in_store / 8, least, std::max(least, most));
}

std::int64_t Store::RecordCountEstimate() {
  return db_.QueryInt("SELECT max(rowid) FROM records").value_or(0);
}

std::vector<StoredRecord> Store::RecordsBySubjectOrg(std::string_view uscc_or_local_id) {
  sqlite::Statement stmt(db_, "SELECT " + std::string(kRecordColumns) + " FROM " +
                                  std::string(kRecordsWithBody) +
                                  " WHERE r.subject_org = ? ORDER BY r.record_id");
  stmt.Bind(1, uscc_or_local_id);
  std::vector<StoredRecord> out;
  while (stmt.Step()) out.push_back(ReadStoredRecord(stmt));
  return out;
}

void Store::ForEachRecord(const RecordFilter& filter,
                          const std::function<bool(const StoredRecord&)>& visit) {
  // Only the filters given are in the SQL: "?1 IS NULL OR kind = ?1" would keep SQLite from
  // using records_kind_origin, and a Recognizer (the sanctions, a few rows) would scan every
  // record of the store.
  std::string where = " WHERE 1";
  if (filter.kind) where += " AND r.kind = ?1";
  if (filter.origin) where += " AND r.origin = ?2";
  // With a kind, the order records_kind_origin gives for free (origin, then rowid): "ORDER BY
  // rowid" alone made SQLite sort every selected row, bodies included, in a temp B-tree (an
  // export of 1M records held 417 MB).
  const char* order = filter.kind ? " ORDER BY r.origin, r.rowid" : " ORDER BY r.rowid";
  sqlite::Statement stmt(db_, "SELECT " + std::string(kRecordColumns) + " FROM " +
                                  std::string(kRecordsWithBody) + where + order);
  if (filter.kind) stmt.Bind(1, KindName(*filter.kind));
  if (filter.origin) stmt.Bind(2, *filter.origin);
  while (stmt.Step()) {
    if (!visit(ReadStoredRecord(stmt))) break;
  }
}

std::vector<RecordCount> Store::CountRecords() {
  sqlite::Statement stmt(
      db_, "SELECT origin, kind, count(*) FROM records GROUP BY origin, kind ORDER BY 1, 2");
  std::vector<RecordCount> out;
  while (stmt.Step()) {
    const auto kind = ParseKind(stmt.ColumnText(1));
    if (!kind) throw Error::Corruption("record of unknown kind '" + stmt.ColumnText(1) + "'");
    out.push_back({stmt.ColumnText(0), *kind, stmt.ColumnInt64(2)});
  }
  return out;
}

std::int64_t Store::CountRecords(const RecordFilter& filter) {
  sqlite::Statement stmt(db_,
                         "SELECT count(*) FROM records WHERE (?1 IS NULL OR kind = ?1) AND "
                         "(?2 IS NULL OR origin = ?2)");
  if (filter.kind) stmt.Bind(1, KindName(*filter.kind));
  stmt.Bind(2, filter.origin);
  stmt.Step();
  return stmt.ColumnInt64(0);
}

std::vector<QuarantineRow> Store::ListQuarantine(std::int64_t limit, QuarantineState state) {
  sqlite::Statement stmt(db_,
                         "SELECT id, run_id, file, row, field, reason, raw, at, resolved_at, "
                         "resolved_run FROM quarantine WHERE ?2 OR resolved_at IS NULL "
                         "ORDER BY file, row LIMIT ?1");
  stmt.Bind(1, limit).Bind(2, state == QuarantineState::kAll ? 1 : 0);
  std::vector<QuarantineRow> out;
  while (stmt.Step()) {
    out.push_back({stmt.ColumnInt64(0), stmt.ColumnInt64(1), stmt.ColumnText(2),
                   stmt.ColumnInt64(3), stmt.ColumnText(4), stmt.ColumnText(5), stmt.ColumnText(6),
                   stmt.ColumnInt64(7), stmt.ColumnOptionalInt64(8),
                   stmt.ColumnOptionalInt64(9).value_or(0)});
  }
  return out;
}

std::int64_t Store::QuarantineCount(QuarantineState state) {
  return db_
      .QueryInt(state == QuarantineState::kAll
                    ? "SELECT count(*) FROM quarantine"
                    : "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL")
      .value_or(0);
}

// The body of a change row from its columns (dict, body) at `column`, decompressed. A blob that
// does not decompress is handed out as stored: its record_hash then does not match the entry,
// so the batch fails verification (the server's check, the receiver's) like any damaged entry,
// and the exchange's repair takes over; `carehub verify` names it.
std::string_view Store::BodyOrStored(const sqlite::Statement& stmt, int column,
                                     std::string& scratch) {
  try {
    return bodies_->Read(stmt.ColumnOptionalInt64(column), stmt.ColumnBlob(column + 1), scratch);
  } catch (const Error&) {
    return stmt.ColumnBlob(column + 1);
  }
}

std::vector<ChangeEntry> Store::ReadChanges(std::string_view origin, std::int64_t after_seq,
                                            std::int64_t max) {
  std::vector<ChangeEntry> out;
  out.reserve(static_cast<std::size_t>(std::clamp<std::int64_t>(max, 0, 1 << 16)));
  ReadChanges(origin, after_seq, max, out);
  return out;
}

// ReadChanges' body as stored at columns 5 (dict) and 6 (bytes), into stored[index] (reused):
// the frame and its dictionary when it decompressed, else {null, ""} (raw, or damaged: the
// entry carries the stored bytes).
void Store::StoredAsIs(const sqlite::Statement& stmt, bool decompressed, std::size_t index,
                       std::vector<CompressedBody>& stored, DictionaryPtr& last) {
  CompressedBody& out = index < stored.size() ? stored[index] : stored.emplace_back();
  if (!decompressed) {
    out.dict.reset();
    out.frame.clear();
    return;
  }
  const std::int64_t id = *stmt.ColumnOptionalInt64(5);
  if (!last || last->id() != id) last = bodies_->Find(id);
  out.dict = last;
  out.frame.assign(stmt.ColumnBlob(6));
}

// ReadChangesAsStored's body of a row (columns 5 dict, 6 bytes) into stored[index] and `e`: the
// frame and its dictionary, or the stored bytes as the entry's body (raw, or a dictionary this
// store does not hold).
void Store::StoredFrame(const sqlite::Statement& stmt, std::size_t index,
                        std::vector<CompressedBody>& stored, DictionaryPtr& last, ChangeEntry& e) {
  CompressedBody& out = index < stored.size() ? stored[index] : stored.emplace_back();
  const std::optional<std::int64_t> id = stmt.ColumnOptionalInt64(5);
  if (id && (!last || last->id() != *id)) last = bodies_->Find(*id);
  if (id && last) {
    out.dict = last;
    out.frame.assign(stmt.ColumnBlob(6));
    e.body.clear();
    return;
  }
  out.dict.reset();
  out.frame.clear();
  e.body.assign(stmt.ColumnBlob(6));
}

void Store::ReadChanges(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                        std::vector<ChangeEntry>& out, std::vector<CompressedBody>* stored) {
  ReadChangeRows(origin, after_seq, max, out, stored, false);
}

void Store::ReadChangesAsStored(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                                std::vector<ChangeEntry>& out,
                                std::vector<CompressedBody>& stored) {
  ReadChangeRows(origin, after_seq, max, out, &stored, true);
}

void Store::ReadChangeRows(std::string_view origin, std::int64_t after_seq, std::int64_t max,
                           std::vector<ChangeEntry>& out, std::vector<CompressedBody>* stored,
                           bool as_stored) {
  // record_hash and prev_hash are not stored (docs/STORE.md): SHA-256 of the body, and the
  // stored entry_hash of the entry before (of after_seq for the first one).
  sqlite::Statement stmt(db_,
                         "SELECT seq, record_id, op, version, entry_hash, dict, body FROM changes "
                         "WHERE origin = ? AND seq >= ? ORDER BY seq LIMIT ?");
  stmt.Bind(1, origin).Bind(2, std::max<std::int64_t>(after_seq, 1)).Bind(3, max + 1);
  std::size_t n = 0;        // entries read; out[n..] are left from an earlier read, reused
  DictionaryPtr last_dict;  // the previous entry's (a batch uses one dictionary or few)
  Hash256 prev = kZeroHash;
  while (stmt.Step()) {
    Hash256 entry_hash{};
    const std::string_view blob = stmt.ColumnBlob(4);
    if (blob.size() != entry_hash.size()) {
      out.resize(n);
      if (stored != nullptr) stored->resize(n);
      throw Error::Corruption("change " + std::string(origin) + "/" +
                              std::to_string(stmt.ColumnInt64(0)) + ": entry_hash is not 32 bytes");
    }
    std::memcpy(entry_hash.data(), blob.data(), blob.size());
    const std::int64_t seq = stmt.ColumnInt64(0);
    if (seq <= after_seq) {  // the entry before the range: only its hash is needed
      prev = entry_hash;
      continue;
    }
    if (static_cast<std::int64_t>(n) == max) break;
    ChangeEntry& e = n < out.size() ? out[n] : out.emplace_back();
    ++n;
    e.origin.assign(origin);
    e.seq = seq;
    e.record_id.assign(stmt.ColumnBlob(1));  // TEXT: its UTF-8 bytes, as ColumnText reads them
    e.op = static_cast<ChangeOp>(stmt.ColumnInt(2));
    e.version = static_cast<std::int32_t>(stmt.ColumnInt64(3));
    e.entry_hash = entry_hash;
    e.prev_hash = prev;
    prev = entry_hash;
    if (as_stored) {
      StoredFrame(stmt, n - 1, *stored, last_dict, e);
      e.record_hash = kZeroHash;
      continue;
    }
    // Decompressed straight into the entry's body (a raw or undecompressable blob is copied).
    const std::string_view body = BodyOrStored(stmt, 5, e.body);
    const bool decompressed = body.data() == e.body.data();
    if (!decompressed) e.body.assign(body);
    if (stored != nullptr) StoredAsIs(stmt, decompressed, n - 1, *stored, last_dict);
    e.record_hash = RecordHash(e.body);
  }
  out.resize(n);
  if (stored != nullptr) stored->resize(n);
}

std::optional<SignedHead> Store::Head(std::string_view origin) { return ReadHead(db_, origin); }

std::vector<SignedHead> Store::Heads() {
  sqlite::Statement stmt(db_, "SELECT origin FROM heads ORDER BY origin");
  std::vector<std::string> origins;
  while (stmt.Step()) origins.push_back(stmt.ColumnText(0));
  std::vector<SignedHead> out;
  for (const auto& origin : origins) {
    if (auto head = ReadHead(db_, origin)) out.push_back(std::move(*head));
  }
  return out;
}

ChainCursor Store::Tip(std::string_view origin) { return ReadTip(db_, origin); }

void Store::RememberSchema(std::uint64_t fingerprint, std::string_view name,
                           std::string_view json) {
  sqlite::Statement stmt(db_,
                         "INSERT OR IGNORE INTO schemas(fingerprint, name, json) VALUES(?, ?, ?)");
  stmt.Bind(1, static_cast<std::int64_t>(fingerprint)).Bind(2, name).Bind(3, json).Run();
}

}  // namespace carehub
