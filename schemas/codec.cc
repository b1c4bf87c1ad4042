// Avro C encoding of canonical records. Field positions follow schemas/*.avsc exactly (checked
// against the parsed schemas once per thread), so the hot path addresses fields by index.
// Per-thread state (value interfaces, values, buffers) avoids locks and per-record allocation.
#include "schemas/codec.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "schemas/avro_handle.h"
#include "schemas/embedded.h"
#include "schemas/error.h"

namespace carehub::embedded_schemas {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_schemas

namespace carehub {
namespace {

constexpr unsigned char kMagic0 = 0xC3;
constexpr unsigned char kMagic1 = 0x01;
constexpr std::size_t kHeaderSize = 10;
constexpr const char* kSchemaFiles[] = {"assessment.avsc", "caregiver.avsc", "facility.avsc",
                                        "sanction.avsc"};

// ---- schema registry (process-wide, immutable builtins + registered writer schemas) ----------

std::vector<SchemaInfo> LoadBuiltins() {
  std::vector<SchemaInfo> infos;
  for (RecordKind kind : kAllKinds) {
    const std::string_view file = kSchemaFiles[static_cast<int>(kind)];
    std::string json;
    for (std::size_t i = 0; i < embedded_schemas::kFileCount; ++i) {
      if (embedded_schemas::kFiles[i].path == file) json = embedded_schemas::kFiles[i].content;
    }
    if (json.empty()) throw Error::NotFound(std::string("builtin schema ") + std::string(file));
    avro::Schema parsed = avro::Schema::FromJson(json);
    SchemaInfo info;
    info.name = std::string("carehub.v1.") + avro_schema_name(parsed.get());
    info.kind = kind;
    info.json = json;
    info.canonical = ParsingCanonicalForm(json);
    info.fingerprint = Crc64Avro(info.canonical);
    info.field_count = static_cast<int>(avro_schema_record_size(parsed.get()));
    infos.push_back(std::move(info));
  }
  return infos;
}

struct WriterSchema {
  std::string json;
  RecordKind kind;
};

std::mutex g_registry_mutex;
std::map<std::uint64_t, WriterSchema>& Registered() {
  static std::map<std::uint64_t, WriterSchema> registered;
  return registered;
}

// ---- field setters --------------------------------------------------------------------------

avro_value_t Child(avro_value_t* parent, std::size_t index) {
  avro_value_t child;
  avro::Check(avro_value_get_by_index(parent, index, &child, nullptr), "avro field");
  return child;
}

void SetString(avro_value_t* value, const std::string& text) {
  avro::Check(avro_value_set_string_len(value, text.c_str(), text.size() + 1), "avro string");
}

// Sets a ["null", T] union: returns the T branch to fill, or nullptr after setting null.
avro_value_t* SetOptional(avro_value_t* value, bool present, avro_value_t* branch) {
  avro::Check(avro_value_set_branch(value, present ? 1 : 0, branch), "avro union");
  if (!present) {
    avro::Check(avro_value_set_null(branch), "avro null");
    return nullptr;
  }
  return branch;
}

void SetOptionalInt(avro_value_t* value, const std::optional<int>& number) {
  avro_value_t branch;
  if (SetOptional(value, number.has_value(), &branch)) avro_value_set_int(&branch, *number);
}

void SetOptionalString(avro_value_t* value, const std::optional<std::string>& text) {
  avro_value_t branch;
  if (SetOptional(value, text.has_value(), &branch)) SetString(&branch, *text);
}

void SetDate(avro_value_t* value, Date date) {
  avro_value_set_int(value, static_cast<int32_t>(date.time_since_epoch().count()));
}

void SetOptionalDate(avro_value_t* value, const std::optional<Date>& date) {
  avro_value_t branch;
  if (SetOptional(value, date.has_value(), &branch)) SetDate(&branch, *date);
}

void SetFixed(avro_value_t* value, const Hmac256& bytes) {
  avro::Check(avro_value_set_fixed(value, const_cast<std::uint8_t*>(bytes.data()), bytes.size()),
              "avro fixed");
}

void SetPerson(avro_value_t* value, const PersonRef& person) {
  avro_value_t tokens = Child(value, 0);
  avro_value_reset(&tokens);
  for (const PersonToken& token : person.tokens) {
    avro_value_t element;
    avro::Check(avro_value_append(&tokens, &element, nullptr), "avro array");
    avro_value_t scheme = Child(&element, 0);
    avro_value_set_enum(&scheme, static_cast<int>(token.scheme));
    avro_value_t bytes = Child(&element, 1);
    SetFixed(&bytes, token.token);
  }
  avro_value_t birth_year = Child(value, 1);
  SetOptionalInt(&birth_year, person.birth_year);
  avro_value_t sex = Child(value, 2);
  avro_value_set_enum(&sex, static_cast<int>(person.sex));
  avro_value_t residence = Child(value, 3);
  SetOptionalString(&residence, person.residence_region);
}

void SetOrg(avro_value_t* value, const OrgRef& org) {
  avro_value_t field = Child(value, 0);
  SetOptionalString(&field, org.uscc);
  field = Child(value, 1);
  SetOptionalString(&field, org.local_id);
  field = Child(value, 2);
  SetString(&field, org.name);
  field = Child(value, 3);
  SetString(&field, org.region);
}

void SetOptionalOrg(avro_value_t* value, const std::optional<OrgRef>& org) {
  avro_value_t branch;
  if (SetOptional(value, org.has_value(), &branch)) SetOrg(&branch, *org);
}

void SetNative(avro_value_t* value, const NativeLevel& native) {
  avro_value_t field = Child(value, 0);
  SetString(&field, native.scale);
  field = Child(value, 1);
  SetString(&field, native.code);
  field = Child(value, 2);
  SetString(&field, native.label);
}

void SetOptionalPivot(avro_value_t* value, const std::optional<PivotLevel>& pivot) {
  avro_value_t branch;
  if (!SetOptional(value, pivot.has_value(), &branch)) return;
  avro_value_t field = Child(&branch, 0);
  avro_value_set_int(&field, pivot->level);
  field = Child(&branch, 1);
  SetOptionalInt(&field, pivot->range_upper);
  field = Child(&branch, 2);
  SetOptionalString(&field, pivot->flag);
  field = Child(&branch, 3);
  avro_value_set_boolean(&field, pivot->documented ? 1 : 0);
}

void SetProvenance(avro_value_t* value, const Provenance& p) {
  avro_value_t field = Child(value, 0);
  SetString(&field, p.origin_region);
  field = Child(value, 1);
  SetString(&field, p.profile);
  field = Child(value, 2);
  avro_value_set_int(&field, p.profile_version);
  field = Child(value, 3);
  SetString(&field, p.source_file);
  field = Child(value, 4);
  avro_value_set_long(&field, p.source_row);
  field = Child(value, 5);
  SetString(&field, p.source_record_id);
  field = Child(value, 6);
  avro_value_set_long(&field, p.ingested_at_ms);
}

// Fills the kind-specific fields starting at index 3; returns the provenance index.
std::size_t SetBody(avro_value_t* rec, const RecordBody& body) {
  avro_value_t f;
  if (const auto* a = std::get_if<Assessment>(&body)) {
    f = Child(rec, 3), SetPerson(&f, a->person);
    f = Child(rec, 4), SetNative(&f, a->native);
    f = Child(rec, 5), SetOptionalPivot(&f, a->pivot);
    f = Child(rec, 6), SetOptionalInt(&f, a->total_score);
    f = Child(rec, 7), SetDate(&f, a->assessed_on);
    f = Child(rec, 8), SetOptionalDate(&f, a->valid_until);
    f = Child(rec, 9), SetOptionalOrg(&f, a->assessor);
    return 10;
  }
  if (const auto* c = std::get_if<CaregiverQualification>(&body)) {
    f = Child(rec, 3), SetPerson(&f, c->person);
    f = Child(rec, 4), SetNative(&f, c->native);
    f = Child(rec, 5), SetOptionalPivot(&f, c->pivot);
    f = Child(rec, 6);
    avro_value_t branch;
    if (SetOptional(&f, c->certificate_token.has_value(), &branch)) {
      SetFixed(&branch, *c->certificate_token);
    }
    f = Child(rec, 7), SetDate(&f, c->issued_on);
    f = Child(rec, 8), SetOptionalDate(&f, c->valid_until);
    f = Child(rec, 9), SetOptionalOrg(&f, c->issuer);
    f = Child(rec, 10), SetOptionalOrg(&f, c->employer);
    return 11;
  }
  if (const auto* r = std::get_if<FacilityRating>(&body)) {
    f = Child(rec, 3), SetOrg(&f, r->facility);
    f = Child(rec, 4), SetNative(&f, r->native);
    f = Child(rec, 5), SetOptionalPivot(&f, r->pivot);
    f = Child(rec, 6), avro_value_set_boolean(&f, r->comparable ? 1 : 0);
    f = Child(rec, 7), SetOptionalInt(&f, r->beds);
    f = Child(rec, 8), SetDate(&f, r->rated_on);
    f = Child(rec, 9), SetOptionalDate(&f, r->valid_until);
    return 10;
  }
  const auto& s = std::get<SanctionNotice>(body);
  f = Child(rec, 3), avro_value_set_enum(&f, static_cast<int>(s.subject_kind));
  f = Child(rec, 4), SetOptionalOrg(&f, s.subject_org);
  f = Child(rec, 5);
  avro_value_t branch;
  if (SetOptional(&f, s.subject_person.has_value(), &branch)) SetPerson(&branch, *s.subject_person);
  f = Child(rec, 6), avro_value_set_enum(&f, static_cast<int>(s.sanction_type));
  f = Child(rec, 7), SetNative(&f, s.native);
  f = Child(rec, 8), SetString(&f, s.legal_basis);
  f = Child(rec, 9), SetDate(&f, s.decided_on);
  f = Child(rec, 10), SetOptionalDate(&f, s.ends_on);
  f = Child(rec, 11), SetString(&f, s.issuing_region);
  return 12;
}

// ---- field getters --------------------------------------------------------------------------

std::string GetString(avro_value_t* value) {
  const char* text = nullptr;
  size_t size = 0;
  avro::Check(avro_value_get_string(value, &text, &size), "avro string");
  return std::string(text, size > 0 ? size - 1 : 0);
}

int GetInt(avro_value_t* value) {
  int32_t number = 0;
  avro::Check(avro_value_get_int(value, &number), "avro int");
  return number;
}

std::int64_t GetLong(avro_value_t* value) {
  int64_t number = 0;
  avro::Check(avro_value_get_long(value, &number), "avro long");
  return number;
}

int GetEnum(avro_value_t* value) {
  int symbol = 0;
  avro::Check(avro_value_get_enum(value, &symbol), "avro enum");
  return symbol;
}

bool GetBool(avro_value_t* value) {
  int flag = 0;
  avro::Check(avro_value_get_boolean(value, &flag), "avro boolean");
  return flag != 0;
}

Date GetDate(avro_value_t* value) { return Date(std::chrono::days(GetInt(value))); }

// Returns true and the T branch when a ["null", T] union holds T.
bool GetOptional(avro_value_t* value, avro_value_t* branch) {
  int discriminant = 0;
  avro::Check(avro_value_get_discriminant(value, &discriminant), "avro union");
  avro::Check(avro_value_get_current_branch(value, branch), "avro union");
  return discriminant == 1;
}

template <typename T, typename Getter>
std::optional<T> GetOptionalWith(avro_value_t* value, Getter getter) {
  avro_value_t branch;
  if (!GetOptional(value, &branch)) return std::nullopt;
  return getter(&branch);
}

Hmac256 GetFixed(avro_value_t* value) {
  const void* bytes = nullptr;
  size_t size = 0;
  avro::Check(avro_value_get_fixed(value, &bytes, &size), "avro fixed");
  if (size != 32) throw Error::Corruption("avro fixed of unexpected size");
  Hmac256 out;
  std::memcpy(out.data(), bytes, out.size());
  return out;
}

PersonRef GetPerson(avro_value_t* value) {
  PersonRef person;
  avro_value_t tokens = Child(value, 0);
  size_t count = 0;
  avro::Check(avro_value_get_size(&tokens, &count), "avro array");
  for (size_t i = 0; i < count; ++i) {
    avro_value_t element = Child(&tokens, i);
    avro_value_t scheme = Child(&element, 0);
    avro_value_t bytes = Child(&element, 1);
    person.tokens.push_back({static_cast<IdScheme>(GetEnum(&scheme)), GetFixed(&bytes)});
  }
  avro_value_t field = Child(value, 1);
  person.birth_year = GetOptionalWith<int>(&field, GetInt);
  field = Child(value, 2);
  person.sex = static_cast<Sex>(GetEnum(&field));
  field = Child(value, 3);
  person.residence_region = GetOptionalWith<std::string>(&field, GetString);
  return person;
}

OrgRef GetOrg(avro_value_t* value) {
  OrgRef org;
  avro_value_t field = Child(value, 0);
  org.uscc = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 1);
  org.local_id = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 2);
  org.name = GetString(&field);
  field = Child(value, 3);
  org.region = GetString(&field);
  return org;
}

NativeLevel GetNative(avro_value_t* value) {
  NativeLevel native;
  avro_value_t field = Child(value, 0);
  native.scale = GetString(&field);
  field = Child(value, 1);
  native.code = GetString(&field);
  field = Child(value, 2);
  native.label = GetString(&field);
  return native;
}

PivotLevel GetPivot(avro_value_t* value) {
  PivotLevel pivot;
  avro_value_t field = Child(value, 0);
  pivot.level = GetInt(&field);
  field = Child(value, 1);
  pivot.range_upper = GetOptionalWith<int>(&field, GetInt);
  field = Child(value, 2);
  pivot.flag = GetOptionalWith<std::string>(&field, GetString);
  field = Child(value, 3);
  pivot.documented = GetBool(&field);
  return pivot;
}

Provenance GetProvenance(avro_value_t* value) {
  Provenance p;
  avro_value_t field = Child(value, 0);
  p.origin_region = GetString(&field);
  field = Child(value, 1);
  p.profile = GetString(&field);
  field = Child(value, 2);
  p.profile_version = GetInt(&field);
  field = Child(value, 3);
  p.source_file = GetString(&field);
  field = Child(value, 4);
  p.source_row = GetLong(&field);
  field = Child(value, 5);
  p.source_record_id = GetString(&field);
  field = Child(value, 6);
  p.ingested_at_ms = GetLong(&field);
  return p;
}

CanonicalRecord GetRecord(avro_value_t* rec, RecordKind kind) {
  CanonicalRecord record;
  avro_value_t f = Child(rec, 0);
  record.record_id = GetString(&f);
  f = Child(rec, 1);
  record.version = GetInt(&f);
  f = Child(rec, 2);
  record.status = static_cast<RecordStatus>(GetEnum(&f));
  std::size_t provenance_index = 0;
  switch (kind) {
    case RecordKind::kAssessment: {
      Assessment a;
      f = Child(rec, 3), a.person = GetPerson(&f);
      f = Child(rec, 4), a.native = GetNative(&f);
      f = Child(rec, 5), a.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), a.total_score = GetOptionalWith<int>(&f, GetInt);
      f = Child(rec, 7), a.assessed_on = GetDate(&f);
      f = Child(rec, 8), a.valid_until = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 9), a.assessor = GetOptionalWith<OrgRef>(&f, GetOrg);
      record.body = std::move(a);
      provenance_index = 10;
      break;
    }
    case RecordKind::kCaregiver: {
      CaregiverQualification c;
      f = Child(rec, 3), c.person = GetPerson(&f);
      f = Child(rec, 4), c.native = GetNative(&f);
      f = Child(rec, 5), c.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), c.certificate_token = GetOptionalWith<Hmac256>(&f, GetFixed);
      f = Child(rec, 7), c.issued_on = GetDate(&f);
      f = Child(rec, 8), c.valid_until = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 9), c.issuer = GetOptionalWith<OrgRef>(&f, GetOrg);
      f = Child(rec, 10), c.employer = GetOptionalWith<OrgRef>(&f, GetOrg);
      record.body = std::move(c);
      provenance_index = 11;
      break;
    }
    case RecordKind::kFacility: {
      FacilityRating r;
      f = Child(rec, 3), r.facility = GetOrg(&f);
      f = Child(rec, 4), r.native = GetNative(&f);
      f = Child(rec, 5), r.pivot = GetOptionalWith<PivotLevel>(&f, GetPivot);
      f = Child(rec, 6), r.comparable = GetBool(&f);
      f = Child(rec, 7), r.beds = GetOptionalWith<int>(&f, GetInt);
      f = Child(rec, 8), r.rated_on = GetDate(&f);
      f = Child(rec, 9), r.valid_until = GetOptionalWith<Date>(&f, GetDate);
      record.body = std::move(r);
      provenance_index = 10;
      break;
    }
    case RecordKind::kSanction: {
      SanctionNotice s;
      f = Child(rec, 3), s.subject_kind = static_cast<SubjectKind>(GetEnum(&f));
      f = Child(rec, 4), s.subject_org = GetOptionalWith<OrgRef>(&f, GetOrg);
      f = Child(rec, 5), s.subject_person = GetOptionalWith<PersonRef>(&f, GetPerson);
      f = Child(rec, 6), s.sanction_type = static_cast<SanctionType>(GetEnum(&f));
      f = Child(rec, 7), s.native = GetNative(&f);
      f = Child(rec, 8), s.legal_basis = GetString(&f);
      f = Child(rec, 9), s.decided_on = GetDate(&f);
      f = Child(rec, 10), s.ends_on = GetOptionalWith<Date>(&f, GetDate);
      f = Child(rec, 11), s.issuing_region = GetString(&f);
      record.body = std::move(s);
      provenance_index = 12;
      break;
    }
  }
  f = Child(rec, provenance_index);
  record.provenance = GetProvenance(&f);
  return record;
}

// ---- per-thread codec state ------------------------------------------------------------------

struct KindState {
  avro::Schema schema;
  avro::ValueIface iface;
  avro::Value value;
};

struct ForeignState {  // a registered writer schema resolved onto the builtin reader schema
  avro::Schema writer_schema;
  avro::ValueIface resolver;
  avro_value_t resolved{};
  bool has_resolved = false;
  RecordKind kind;
  ~ForeignState() {
    if (has_resolved) avro_value_decref(&resolved);
  }
};

class ThreadCodec {
 public:
  ThreadCodec() : writer_(buffer_.data(), buffer_.size()), reader_(nullptr, 0) {
    for (const SchemaInfo& info : BuiltinSchemas()) {
      KindState state;
      state.schema = avro::Schema::FromJson(info.json);
      state.iface = avro::ValueIface::Generic(state.schema);
      state.value = avro::Value(state.iface);
      kinds_.push_back(std::move(state));
    }
  }

  void Encode(const CanonicalRecord& record, std::string& out) {
    avro_value_t* rec = kinds_[static_cast<int>(record.kind())].value.get();
    avro_value_reset(rec);
    avro_value_t f = Child(rec, 0);
    SetString(&f, record.record_id);
    f = Child(rec, 1), avro_value_set_int(&f, record.version);
    f = Child(rec, 2), avro_value_set_enum(&f, static_cast<int>(record.status));
    const std::size_t provenance_index = SetBody(rec, record.body);
    f = Child(rec, provenance_index), SetProvenance(&f, record.provenance);
    for (;;) {
      writer_.Reset(buffer_.data(), buffer_.size());
      if (avro_value_write(writer_.get(), rec) == 0) break;
      if (buffer_.size() > (64u << 20)) throw Error::InvalidInput("record too large to encode");
      buffer_.resize(buffer_.size() * 2);
    }
    out.append(buffer_.data(), writer_.written());
  }

  CanonicalRecord Decode(std::uint64_t fingerprint, const char* body, std::size_t size) {
    for (std::size_t i = 0; i < kinds_.size(); ++i) {
      if (BuiltinSchemas()[i].fingerprint == fingerprint) {
        avro_value_t* rec = kinds_[i].value.get();
        avro_value_reset(rec);
        reader_.Reset(body, size);
        if (avro_value_read(reader_.get(), rec) != 0) {
          throw Error::Corruption(std::string("avro body does not decode: ") + avro_strerror());
        }
        return GetRecord(rec, static_cast<RecordKind>(i));
      }
    }
    ForeignState& foreign = Foreign(fingerprint);
    avro_value_t* rec = kinds_[static_cast<int>(foreign.kind)].value.get();
    avro_value_reset(rec);
    avro_resolved_writer_set_dest(&foreign.resolved, rec);
    reader_.Reset(body, size);
    if (avro_value_read(reader_.get(), &foreign.resolved) != 0) {
      throw Error::Corruption(std::string("avro body does not decode: ") + avro_strerror());
    }
    return GetRecord(rec, foreign.kind);
  }

 private:
  ForeignState& Foreign(std::uint64_t fingerprint) {
    auto it = foreign_.find(fingerprint);
    if (it != foreign_.end()) return *it->second;
    WriterSchema writer;
    {
      std::lock_guard<std::mutex> lock(g_registry_mutex);
      auto found = Registered().find(fingerprint);
      if (found == Registered().end()) {
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fingerprint));
        throw Error::Corruption(std::string("unknown writer schema fingerprint ") + hex);
      }
      writer = found->second;
    }
    auto state = std::make_unique<ForeignState>();
    state->kind = writer.kind;
    state->writer_schema = avro::Schema::FromJson(writer.json);
    state->resolver = avro::ValueIface::ResolvedWriter(
        state->writer_schema, kinds_[static_cast<int>(writer.kind)].schema);
    avro::Check(avro_resolved_writer_new_value(state->resolver.get(), &state->resolved),
                "avro resolver");
    state->has_resolved = true;
    return *foreign_.emplace(fingerprint, std::move(state)).first->second;
  }

  std::vector<KindState> kinds_;
  std::vector<char> buffer_ = std::vector<char>(1 << 16);
  avro::MemoryWriter writer_;
  avro::MemoryReader reader_;
  std::map<std::uint64_t, std::unique_ptr<ForeignState>> foreign_;
};

ThreadCodec& Codec() {
  thread_local ThreadCodec codec;
  return codec;
}

void AppendLittleEndian64(std::string& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

const std::vector<SchemaInfo>& BuiltinSchemas() {
  static const std::vector<SchemaInfo> kBuiltins = LoadBuiltins();
  return kBuiltins;
}

const SchemaInfo& SchemaFor(RecordKind kind) { return BuiltinSchemas()[static_cast<int>(kind)]; }

std::string EncodeSingleObject(const CanonicalRecord& record) {
  std::string out;
  out.reserve(256);
  out.push_back(static_cast<char>(kMagic0));
  out.push_back(static_cast<char>(kMagic1));
  AppendLittleEndian64(out, SchemaFor(record.kind()).fingerprint);
  Codec().Encode(record, out);
  return out;
}

void EncodeBody(const CanonicalRecord& record, std::string& out) { Codec().Encode(record, out); }

std::optional<std::uint64_t> SingleObjectFingerprint(std::string_view bytes) {
  if (bytes.size() < kHeaderSize || static_cast<unsigned char>(bytes[0]) != kMagic0 ||
      static_cast<unsigned char>(bytes[1]) != kMagic1) {
    return std::nullopt;
  }
  std::uint64_t fingerprint = 0;
  for (int i = 7; i >= 0; --i) {
    fingerprint = (fingerprint << 8) | static_cast<unsigned char>(bytes[2 + i]);
  }
  return fingerprint;
}

CanonicalRecord DecodeSingleObject(std::string_view bytes) {
  auto fingerprint = SingleObjectFingerprint(bytes);
  if (!fingerprint) throw Error::Corruption("not an Avro single object (bad magic or too short)");
  return Codec().Decode(*fingerprint, bytes.data() + kHeaderSize, bytes.size() - kHeaderSize);
}

std::uint64_t RegisterWriterSchema(std::string_view schema_json) {
  const std::uint64_t fingerprint = Crc64Avro(ParsingCanonicalForm(schema_json));
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.fingerprint == fingerprint) return fingerprint;
  }
  avro::Schema parsed = avro::Schema::FromJson(schema_json);
  const std::string name = avro_schema_name(parsed.get());
  std::optional<RecordKind> kind;
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.name == "carehub.v1." + name || info.name == name) kind = info.kind;
  }
  if (!kind) throw Error::InvalidInput("writer schema " + name + " is not a carehub record");
  // Fail now, not at first decode, when the schemas cannot resolve.
  avro::Schema reader = avro::Schema::FromJson(SchemaFor(*kind).json);
  avro::ValueIface::ResolvedWriter(parsed, reader);
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  Registered()[fingerprint] = WriterSchema{std::string(schema_json), *kind};
  return fingerprint;
}

std::optional<std::string> SchemaJsonByFingerprint(std::uint64_t fingerprint) {
  for (const SchemaInfo& info : BuiltinSchemas()) {
    if (info.fingerprint == fingerprint) return info.json;
  }
  std::lock_guard<std::mutex> lock(g_registry_mutex);
  auto it = Registered().find(fingerprint);
  if (it == Registered().end()) return std::nullopt;
  return it->second.json;
}

}  // namespace carehub
