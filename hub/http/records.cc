// Handlers of the record routes: list and get (JSON or Avro OCF), ingest upload, recognitions.
#include <Poco/JSON/Array.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "connectors/identifiers.h"
#include "connectors/person_token.h"
#include "connectors/profile.h"
#include "hub/http/json.h"
#include "hub/http/router.h"
#include "hub/http/write_authority.h"
#include "hub/publish/ocf.h"
#include "hub/store/access_log.h"
#include "hub/store/ingest.h"
#include "hub/store/report_json.h"
#include "mapping/engine.h"
#include "schemas/codec.h"

namespace carehub::http {
namespace {

namespace fs = std::filesystem;
using Poco::Dynamic::Var;

constexpr std::string_view kAvroType = "application/avro";

bool IsRecordId(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The Avro body of a stored record in its kind's builtin schema (the stored single object
// minus its 10-byte header when it was written with that schema, else re-encoded).
std::string AvroBody(const StoredRecord& stored) {
  if (stored.fingerprint == SchemaFor(stored.kind).fingerprint && stored.body.size() >= 10) {
    return stored.body.substr(10);
  }
  std::string out;
  EncodeBody(DecodeSingleObject(stored.body), out);
  return out;
}

std::optional<std::int64_t> ParseDateParam(const std::optional<std::string>& text,
                                           const std::string& field) {
  if (!text) return std::nullopt;
  const auto date = ParseIsoDate(*text);
  if (!date) throw HttpError::BadParameter(field, "expected a date YYYY-MM-DD");
  return date->time_since_epoch().count();
}

Hmac256 ParseTokenParam(const std::string& text) {
  const auto token = ParseTokenHex(text);
  if (!token) throw HttpError::BadParameter("token", "expected 64 hex digits");
  return *token;
}

// Tokens of a raw identifier under every scheme whose format it has. The identifier and its
// normalised copy are wiped here; neither appears in any message.
std::vector<Hmac256> TokensForIdentifier(std::string& raw, Store& store) {
  std::vector<Hmac256> tokens =
      PersonTokensOfIdentifier(raw, PersonTokenizer(store.federation_key()));
  if (tokens.empty()) {
    throw HttpError::BadParameter(
        "identifier", "not a valid PRC resident id, HKID or Macau id (check digit or format)");
  }
  return tokens;
}

Recognizer& RecognizerFor(ApiCall& call) {
  HubContext& hub = call.hub;
  const std::int64_t version = hub.store.db().QueryInt("PRAGMA data_version").value_or(0);
  if (!hub.recognizer || version != hub.recognizer_version) {
    hub.recognizer.reset();
    hub.recognizer = std::make_unique<Recognizer>(hub.store, *call.shared.book);
    hub.recognizer_version = version;
  }
  return *hub.recognizer;
}

// Writes the records an answer shows to the access log (nothing for an empty answer).
void LogRecords(ApiCall& call, const std::vector<StoredRecord>& page,
                const std::vector<CanonicalRecord>& decoded) {
  if (page.empty()) return;
  std::vector<std::string> ids;
  std::vector<Hmac256> tokens;
  for (std::size_t i = 0; i < page.size(); ++i) {
    ids.push_back(page[i].record_id);
    for (const Hmac256& t : PersonTokensOf(decoded[i])) tokens.push_back(t);
  }
  call.LogAccess(static_cast<std::int64_t>(page.size()), std::move(ids), std::move(tokens));
}

}  // namespace

void HandleRecordList(ApiCall& call) {
  call.AllowQuery({"kind", "origin", "since", "limit", "cursor"});
  const MediaType media = call.Negotiate({MediaType::kJson, MediaType::kAvro});
  const auto kind_text = call.Query("kind");
  std::optional<RecordKind> kind;
  if (kind_text) {
    kind = ParseKind(*kind_text);
    if (!kind) {
      throw HttpError::BadParameter("kind", "expected assessment, caregiver, facility or sanction");
    }
  }
  if (media == MediaType::kAvro && !kind) {
    throw HttpError::BadParameter("kind", "an Avro response holds one record kind: give kind");
  }
  std::optional<std::string> origin;
  if (const auto text = call.Query("origin")) {
    origin = ResolveRegion(*text);
    if (!origin) throw HttpError::BadParameter("origin", "expected a 6-digit region code or alias");
  }
  const auto since = ParseDateParam(call.Query("since"), "since");
  const int limit = call.Limit();
  const std::string digest = QueryDigest({"records", kind_text.value_or(""), origin.value_or(""),
                                          since ? std::to_string(*since) : ""});
  std::int64_t after = 0;
  if (const auto position = DecodeCursor(call.Query("cursor"), digest)) {
    try {
      after = std::stoll(*position);
    } catch (const std::exception&) {
      throw HttpError::BadParameter("cursor", "not a cursor of this API");
    }
  }

  // Rowid order is stable and lets the scan stop after one page.
  sqlite::Statement stmt(call.hub.store.db(),
                         "SELECT " + std::string(kRecordColumns) + ", r.rowid FROM " +
                             std::string(kRecordsWithBody) +
                             " WHERE r.rowid > ?1 AND (?2 IS NULL OR r.kind = ?2) AND (?3 IS "
                             "NULL OR r.origin = ?3) AND (?4 IS NULL OR r.effective_on >= ?4) "
                             "ORDER BY r.rowid LIMIT ?5");
  stmt.Bind(1, after);
  if (kind) stmt.Bind(2, KindName(*kind));
  stmt.Bind(3, origin);
  stmt.Bind(4, since);
  stmt.Bind(5, limit + 1);
  std::vector<StoredRecord> page;
  std::int64_t last = 0;
  bool more = false;
  while (stmt.Step()) {
    if (static_cast<int>(page.size()) == limit) {
      more = true;
      break;
    }
    page.push_back(ReadStoredRecord(stmt));
    last = stmt.ColumnInt64(12);
  }
  stmt.Reset();  // no read transaction may stay open: the access log below writes
  const std::optional<std::string> next =
      more ? std::optional<std::string>(EncodeCursor(std::to_string(last), digest)) : std::nullopt;
  std::vector<CanonicalRecord> decoded;
  for (const StoredRecord& stored : page) decoded.push_back(DecodeSingleObject(stored.body));
  LogRecords(call, page, decoded);

  if (media == MediaType::kAvro) {
    OcfBuilder ocf(SchemaFor(*kind).json);
    for (const StoredRecord& stored : page) ocf.Add(AvroBody(stored));
    if (next) call.response.set("X-Next-Cursor", *next);
    call.SendBytes(200, std::string(kAvroType), ocf.Finish());
    return;
  }
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (std::size_t i = 0; i < page.size(); ++i) items->add(RecordJson(page[i], decoded[i]));
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("items", items);
  json.set("next_cursor", next ? Var(*next) : Var());
  call.SendJson(200, json);
}

void HandleRecordGet(ApiCall& call) {
  call.AllowQuery({});
  const MediaType media = call.Negotiate({MediaType::kJson, MediaType::kAvro});
  const std::string& id = call.Param("record_id");
  if (!IsRecordId(id))
    throw HttpError::BadParameter("record_id", "expected 32 lowercase hex digits");
  const auto stored = call.hub.store.RecordById(id);
  if (!stored) throw HttpError::NotFound("no record " + id);
  const CanonicalRecord decoded = DecodeSingleObject(stored->body);
  LogRecords(call, {*stored}, {decoded});
  if (media == MediaType::kAvro) {
    OcfBuilder ocf(SchemaFor(stored->kind).json);
    ocf.Add(AvroBody(*stored));
    call.SendBytes(200, std::string(kAvroType), ocf.Finish());
    return;
  }
  call.SendJson(200, RecordJson(*stored, decoded));
}

namespace {

// The extension the upload is stored under: the profile's format, or the one of `filename`.
std::string UploadExtension(ApiCall& call, const Profile* profile) {
  std::string extension = profile ? std::string(FileFormatName(profile->format)) : "";
  if (const auto filename = call.Query("filename")) {
    const auto dot = filename->rfind('.');
    const std::string ext = dot == std::string::npos ? "" : filename->substr(dot + 1);
    if (ext.empty() || ext.size() > 8 ||
        ext.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos) {
      throw HttpError::BadParameter("filename", "expected a name ending in .csv, .json, .xml, ...");
    }
    extension = ext;
  }
  return extension.empty() ? "dat" : extension;
}

struct Upload {
  fs::path file;       // <dir>/uploads/<sha256>.<extension>
  std::string sha256;  // hex
  std::uint64_t bytes = 0;
};

// Removes a file when the scope ends, unless released.
class RemoveOnExit {
 public:
  explicit RemoveOnExit(fs::path path) : path_(std::move(path)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
  }
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  void Release() { path_.clear(); }

 private:
  fs::path path_;
};

// Streams the request body to <dir>/uploads (mode 0600: it is a native file with personal
// data), named by its SHA-256 so that a repeated upload is recognised by ingest's resume logic.
// A body that is too large, empty or shorter/longer than its Content-Length leaves no file.
Upload ReceiveUpload(ApiCall& call, const std::string& extension) {
  const std::uint64_t max = call.shared.options.max_upload_bytes;
  const auto too_large = [max] {
    return HttpError(413, "payload_too_large",
                     "upload larger than " + std::to_string(max) + " bytes");
  };
  if (call.request.hasContentLength() &&
      static_cast<std::uint64_t>(call.request.getContentLength64()) > max) {
    throw too_large();
  }
  const fs::path uploads = call.hub.store.dir() / "uploads";
  fs::create_directories(uploads);
  fs::permissions(uploads, fs::perms::owner_all, fs::perm_options::replace);
  unsigned char nonce[8];
  randombytes_buf(nonce, sizeof nonce);
  char nonce_hex[2 * sizeof nonce + 1];
  sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
  const fs::path partial = uploads / (".upload-" + std::string(nonce_hex));
  RemoveOnExit remove_partial(partial);
  Upload upload;
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  {
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw Error::IoError("cannot create an upload in " + uploads.string());
    ::close(fd);
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    std::istream& in = call.request.stream();
    char buffer[64 * 1024];
    while (in) {
      in.read(buffer, sizeof buffer);
      const auto n = static_cast<std::size_t>(in.gcount());
      upload.bytes += n;
      if (upload.bytes > max) throw too_large();
      crypto_hash_sha256_update(&sha, reinterpret_cast<unsigned char*>(buffer), n);
      out.write(buffer, static_cast<std::streamsize>(n));
    }
    if (!out.flush()) throw Error::IoError("cannot write the upload to " + uploads.string());
  }
  call.CheckBodyLength(upload.bytes);
  if (upload.bytes == 0) {
    throw HttpError::BadParameter("body", "empty upload: send the native file as the body");
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&sha, digest);
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  upload.sha256 = hex;
  upload.file = uploads / (upload.sha256 + "." + extension);
  fs::rename(partial, upload.file);
  remove_partial.Release();
  return upload;
}

// Ingests the upload, one at a time.
IngestSummary IngestUpload(ApiCall& call, ConnectorEngine& engine, const Upload& upload,
                           const Profile& profile) {
  std::lock_guard lock(call.shared.ingest_mutex);
  IngestOptions options;
  options.profile = profile.name;
  try {
    const IngestSummary summary =
        Ingester(call.hub.store, engine).IngestFile(upload.file.string(), options);
    RemoveSettledUploads(call);  // this upload too when none of its rows stayed open
    return summary;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInvalidInput) {
      throw HttpError(400, "invalid_upload", e.what(), "body");
    }
    throw;
  }
}

Poco::JSON::Object::Ptr IngestJson(const Upload& upload, const IngestSummary& summary) {
  Poco::JSON::Object::Ptr json = IngestSummaryJson(summary);
  json->set("upload", upload.file.filename().string());
  json->set("sha256", upload.sha256);
  json->set("bytes", upload.bytes);
  return json;
}

}  // namespace

void HandleIngest(ApiCall& call) {
  call.AllowQuery({"profile", "filename"});
  call.Negotiate({MediaType::kJson});
  ConnectorEngine engine(HubEngineOptions(call));
  const auto named = call.Query("profile");
  // A named profile is checked before the body is read; a detected one right after.
  const Profile* profile = named ? &AuthorizedProfile(call.principal, engine, named, "") : nullptr;
  const Upload upload = ReceiveUpload(call, UploadExtension(call, profile));
  // The native file does not stay once its rows are settled: accepted rows are in the store,
  // and the file is kept (0600, in <dir>/uploads) only while rows of it are open in quarantine,
  // for POST /v1/quarantine/replay. A failed ingest leaves no file.
  RemoveOnExit remove_upload(upload.file);
  if (!profile) {
    profile = &AuthorizedProfile(call.principal, engine, std::nullopt, upload.file.string());
  }
  CheckRecordsWithinArea(call.principal, call.hub.store, engine, *profile, upload.file.string());
  const IngestSummary summary = IngestUpload(call, engine, upload, *profile);
  remove_upload.Release();      // IngestUpload removed it unless rows of it are open in quarantine
  call.hub.recognizer.reset();  // our own commit does not move our data_version
  call.SendJson(200, IngestJson(upload, summary));
}

namespace {

// A recognitions request: exactly one subject (a raw identifier, a person token or a facility),
// the target region and date, and for an identifier the stated purpose.
struct RecognitionQuery {
  std::optional<std::string> identifier;  // wiped by the destructor
  std::optional<std::string> token;
  std::optional<std::string> facility;
  mapping::RegionCode target;
  Date on{};
  std::optional<std::string> purpose;
  ~RecognitionQuery() {
    if (identifier) sodium_memzero(identifier->data(), identifier->size());
  }
};

std::optional<std::string> TextField(const Poco::JSON::Object::Ptr& body, const std::string& name) {
  if (!body->has(name)) return std::nullopt;
  const Var value = body->get(name);
  if (!value.isString()) throw HttpError::BadParameter(name, "expected a string");
  return value.extract<std::string>();
}

void ReadRecognitionQuery(ApiCall& call, RecognitionQuery& query) {
  Poco::JSON::Object::Ptr body = call.ReadJsonObject();
  for (const auto& [key, value] : *body) {
    if (key != "identifier" && key != "token" && key != "facility" && key != "target" &&
        key != "on" && key != "purpose") {
      throw HttpError::BadParameter(key, "unknown field");
    }
  }
  query.identifier = TextField(body, "identifier");
  body->remove("identifier");
  query.token = TextField(body, "token");
  query.facility = TextField(body, "facility");
  query.purpose = TextField(body, "purpose");
  const int subjects =
      (query.identifier ? 1 : 0) + (query.token ? 1 : 0) + (query.facility ? 1 : 0);
  if (subjects != 1) {
    throw HttpError::BadParameter("identifier", "give exactly one of identifier, token, facility");
  }
  const auto target_text = TextField(body, "target");
  if (!target_text) throw HttpError::BadParameter("target", "required (region code or alias)");
  const auto target = mapping::ParseRegion(*target_text);
  if (!target) throw HttpError::BadParameter("target", "not a region code or alias");
  query.target = *target;
  query.on = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  if (const auto on_text = TextField(body, "on")) {
    const auto parsed = ParseIsoDate(*on_text);
    if (!parsed) throw HttpError::BadParameter("on", "expected a date YYYY-MM-DD");
    query.on = *parsed;
  }
}

// A lookup by raw identifier finds a person's records from an ID number: only departments may
// ask, with a stated purpose (written to the access log the resident can read), and at most
// identifier_lookups_per_hour per token.
void AdmitIdentifierLookup(ApiCall& call, const RecognitionQuery& query) {
  if (!query.identifier) return;
  if (call.principal.role != Role::kDepartment) {
    throw HttpError(403, "forbidden",
                    "only department tokens may look up by identifier; auditors use a token",
                    "identifier");
  }
  constexpr std::size_t kMinPurpose = 8;
  constexpr std::size_t kMaxPurpose = 200;
  if (!query.purpose || query.purpose->size() < kMinPurpose ||
      query.purpose->size() > kMaxPurpose) {
    throw HttpError::BadParameter(
        "purpose",
        "a lookup by identifier states its purpose (8 to 200 characters), e.g. "
        "\"relocation of a resident to this region\"");
  }
  call.TakeRate(call.shared.identifier_lookups, "lookups by identifier");
}

struct Recognized {
  std::vector<RecognizedRecord> items;
  std::vector<Hmac256> tokens;  // of the person asked about
  std::string subject;
  std::string subject_key;  // binds the cursor to the subject, never to the identifier
};

Recognized Recognize(ApiCall& call, RecognitionQuery& query) {
  Recognizer& recognizer = RecognizerFor(call);
  Recognized out;
  if (query.facility) {
    out.items = recognizer.ForOrganisation(*query.facility, query.target, query.on);
    out.subject = "organisation " + *query.facility;
    out.subject_key = "o" + *query.facility;
    return out;
  }
  if (query.token) {
    out.tokens.push_back(ParseTokenParam(*query.token));
  } else {
    out.tokens = TokensForIdentifier(*query.identifier, call.hub.store);
  }
  out.items = recognizer.ForPerson(out.tokens, query.target, query.on);
  out.subject = "person (" + std::to_string(out.tokens.size()) + " token" +
                (out.tokens.size() == 1 ? "" : "s") + ")";
  for (const Hmac256& t : out.tokens) out.subject_key += HexOf(t);
  return out;
}

}  // namespace

void HandleRecognitions(ApiCall& call) {
  call.AllowQuery({"limit", "cursor"});
  call.Negotiate({MediaType::kJson});
  const int limit = call.Limit();
  RecognitionQuery query;
  ReadRecognitionQuery(call, query);
  AdmitIdentifierLookup(call, query);
  const Recognized found = Recognize(call, query);
  const std::string digest = QueryDigest(
      {"recognitions", found.subject_key, query.target.ToString(), FormatIsoDate(query.on)});
  std::size_t offset = 0;
  if (const auto position = DecodeCursor(call.Query("cursor"), digest)) {
    try {
      offset = std::stoul(*position);
    } catch (const std::exception&) {
      throw HttpError::BadParameter("cursor", "not a cursor of this API");
    }
  }
  Poco::JSON::Array::Ptr records = new Poco::JSON::Array;
  std::vector<std::string> shown;
  const std::size_t end = std::min(found.items.size(), offset + static_cast<std::size_t>(limit));
  for (std::size_t i = offset; i < end; ++i) {
    records->add(RecognizedRecordJson(found.items[i], *call.shared.book));
    shown.push_back(found.items[i].stored.record_id);
  }
  // An identifier lookup is logged even when it found nothing: the question itself is personal.
  if (!shown.empty() || query.identifier) {
    call.LogAccess(static_cast<std::int64_t>(shown.size()), std::move(shown), found.tokens,
                   query.purpose);
  }
  Poco::JSON::Object json(Poco::JSON_PRESERVE_KEY_ORDER);
  json.set("subject", found.subject);
  json.set("target", query.target.ToString());
  json.set("on", FormatIsoDate(query.on));
  json.set("records", records);
  json.set("next_cursor",
           end < found.items.size() ? Var(EncodeCursor(std::to_string(end), digest)) : Var());
  call.SendJson(200, json);
}

}  // namespace carehub::http
