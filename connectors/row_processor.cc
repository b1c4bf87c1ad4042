#include "connectors/row_processor.h"

#include <array>
#include <charconv>
#include <cstring>

#include "connectors/id_set.h"
#include "connectors/identifiers.h"
#include "connectors/unicode_nfc.h"
#include "schemas/error.h"

namespace carehub {
namespace {

using CF = CanonicalField;

constexpr std::size_t kKeptRawBytes = 4096;  // of a row with a value beyond the field limit

bool IsDateField(CF f) {
  return f == CF::kBirthDate || f == CF::kEventDate || f == CF::kValidUntil;
}

std::string Quote(std::string_view v) {
  std::string out = "\"";
  out.append(v.substr(0, 64));
  out += "\"";
  return out;
}

std::uint64_t HexPrefix(std::string_view hex) {
  std::uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    char c = hex[i];
    v = (v << 4) | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v;
}

void UpperInPlace(std::string& s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
}

}  // namespace

std::string_view TrimField(std::string_view t) {
  for (;;) {
    if (!t.empty() &&
        (t.front() == ' ' || t.front() == '\t' || t.front() == '\r' || t.front() == '\n')) {
      t.remove_prefix(1);
    } else if (t.size() >= 3 && t.substr(0, 3) == "\xE3\x80\x80") {
      t.remove_prefix(3);
    } else {
      break;
    }
  }
  for (;;) {
    if (!t.empty() &&
        (t.back() == ' ' || t.back() == '\t' || t.back() == '\r' || t.back() == '\n')) {
      t.remove_suffix(1);
    } else if (t.size() >= 3 && t.substr(t.size() - 3) == "\xE3\x80\x80") {
      t.remove_suffix(3);
    } else {
      break;
    }
  }
  return t;
}

RowProcessor::RowProcessor(const Profile& profile, ProcessorContext context)
    : profile_(profile), ctx_(std::move(context)), seen_ids_(std::make_unique<IdSet>()) {
  if (!ctx_.tokenizer) throw Error::InvalidInput("row processor without a person tokenizer");
  for (int& i : index_) i = -1;
  patterns_.resize(profile.fields.size());
  for (std::size_t i = 0; i < profile.fields.size(); ++i) {
    const FieldSpec& f = profile.fields[i];
    index_[static_cast<int>(f.field)] = static_cast<int>(i);
    if (IsDateField(f.field)) {
      patterns_[i].emplace(f.date_format.empty() ? profile.date_format : f.date_format);
    }
  }
}

RowProcessor::~RowProcessor() = default;

std::string_view RowProcessor::Value(std::span<const std::string_view> values, CF f) const {
  int i = Index(f);
  if (i < 0 || static_cast<std::size_t>(i) >= values.size()) return {};
  return TrimField(values[i]);
}

const std::string& RowProcessor::Name(CF f) const {
  static const std::string kNone;
  int i = Index(f);
  return i < 0 ? kNone : profile_.fields[i].name;
}

std::optional<RowProcessor::Failure> RowProcessor::Validate(
    std::span<const std::string_view> values) {
  record_id_.clear();  // set by check 3; a rejection carries it from there on
  auto fail = [this](CF f, std::string_view code, const std::string& text) {
    return Failure{Index(f), std::string(code) + ": " + Name(f) + " " + text};
  };
  // 2. missing_field
  for (std::size_t i = 0; i < profile_.fields.size(); ++i) {
    if (profile_.fields[i].required && TrimField(values[i]).empty()) {
      return Failure{static_cast<int>(i),
                     "missing_field: " + profile_.fields[i].name + " is empty or absent"};
    }
  }
  std::string_view person = Value(values, CF::kPersonId);
  std::string_view alt = Value(values, CF::kPersonAltId);
  subject_kind_ = SubjectKind::kOrganisation;
  bool needs_person =
      profile_.kind == RecordKind::kAssessment || profile_.kind == RecordKind::kCaregiver;
  bool needs_org = profile_.kind == RecordKind::kFacility;
  if (profile_.kind == RecordKind::kSanction) {
    std::string_view kind_text = Value(values, CF::kSubjectKind);
    bool known = false;
    for (const auto& e : profile_.subject_kinds) {
      if (e.native == kind_text) {
        subject_kind_ = e.value;
        known = true;
      }
    }
    if (!known) {
      subject_kind_ = person.empty() ? SubjectKind::kOrganisation : SubjectKind::kPerson;
    }
    needs_person = subject_kind_ == SubjectKind::kPerson;
    needs_org = !needs_person;
  }
  for (CF f : {CF::kSourceId, CF::kLevel, CF::kEventDate}) {
    if (Value(values, f).empty()) return fail(f, "missing_field", "is empty or absent");
  }
  if (needs_person && person.empty()) {
    return Index(CF::kPersonId) >= 0
               ? fail(CF::kPersonId, "missing_field", "is empty or absent")
               : Failure{-1, "missing_field: the profile has no person identifier field"};
  }
  if (needs_org && Value(values, CF::kOrgUscc).empty() && Value(values, CF::kOrgLocalId).empty()) {
    CF named = Index(CF::kOrgUscc) >= 0 ? CF::kOrgUscc : CF::kOrgLocalId;
    if (Index(named) < 0) return Failure{-1, "missing_field: the profile has no organisation id"};
    return fail(named, "missing_field", "is empty or absent (no organisation identifier)");
  }

  // 3. duplicate_row
  source_id_.assign(Value(values, CF::kSourceId));
  record_id_ = MakeRecordId(ctx_.origin_region, profile_.kind, source_id_);
  if (!seen_ids_->Insert(HexPrefix(record_id_))) {
    return fail(CF::kSourceId, "duplicate_row", "repeats a record id seen earlier in this file");
  }

  // 4./5. identifiers: all format checks before any check-digit check.
  NormaliseIdentifierInto(person, person_id_);
  NormaliseIdentifierInto(alt, alt_id_);
  IdCheck person_check =
      person.empty() ? IdCheck::kOk : CheckIdentifier(profile_.id_scheme, person_id_);
  IdCheck alt_check =
      alt.empty() ? IdCheck::kOk : CheckIdentifier(*profile_.alt_id_scheme, alt_id_);
  auto scheme_text = [](IdScheme s) -> std::string {
    switch (s) {
      case IdScheme::kPrcResidentId:
        return "is not an 18-character GB 11643 number with a real birth date";
      case IdScheme::kHkId:
        return "is not an HKID (1-2 letters, 6 digits, check character)";
      case IdScheme::kMoId:
        return "is not a Macau id (7 digits starting 1, 5 or 7, check digit)";
    }
    return "has a bad format";
  };
  if (person_check == IdCheck::kBadFormat) {
    return fail(CF::kPersonId, "bad_id_format", scheme_text(profile_.id_scheme));
  }
  if (alt_check == IdCheck::kBadFormat) {
    return fail(CF::kPersonAltId, "bad_id_format", scheme_text(*profile_.alt_id_scheme));
  }
  auto check_text = [](IdScheme s) -> std::string {
    return s == IdScheme::kHkId ? "fails the HKID check character"
                                : "fails the GB 11643 MOD 11-2 check";
  };
  if (person_check == IdCheck::kBadCheckDigit) {
    return fail(CF::kPersonId, "bad_check_digit", check_text(profile_.id_scheme));
  }
  if (alt_check == IdCheck::kBadCheckDigit) {
    return fail(CF::kPersonAltId, "bad_check_digit", check_text(*profile_.alt_id_scheme));
  }

  // 6. bad_uscc
  for (CF f : {CF::kOrgUscc, CF::kEmployerUscc}) {
    std::string_view v = Value(values, f);
    if (v.empty()) continue;
    char upper[18];
    bool fits = v.size() == sizeof upper;
    for (std::size_t i = 0; fits && i < v.size(); ++i) {
      upper[i] = (v[i] >= 'a' && v[i] <= 'z') ? static_cast<char>(v[i] - 'a' + 'A') : v[i];
    }
    if (!fits || !IsValidUscc(std::string_view(upper, sizeof upper))) {
      return fail(f, "bad_uscc", Quote(v) + " fails GB 32100 (format or check character)");
    }
  }

  // 7. bad_region_code
  for (CF f : {CF::kResidenceRegion, CF::kOrgRegion, CF::kEmployerRegion, CF::kIssuingRegion}) {
    std::string_view v = Value(values, f);
    if (!v.empty() && !IsValidRegionCode(v)) {
      return fail(f, "bad_region_code", Quote(v) + " is not a GB/T 2260 region code");
    }
  }

  // 8. bad_date (birth dates are personal: never quoted)
  birth_.reset();
  valid_until_.reset();
  for (CF f : {CF::kBirthDate, CF::kEventDate, CF::kValidUntil}) {
    std::string_view v = Value(values, f);
    if (v.empty()) continue;
    const DatePattern& pattern = *patterns_[Index(f)];
    std::optional<Date> d = pattern.Parse(v);
    if (!d) {
      return fail(f, "bad_date",
                  (f == CF::kBirthDate ? std::string("value") : Quote(v)) +
                      " is not a real date in the form " + pattern.pattern());
    }
    if (f == CF::kBirthDate) birth_ = d;
    if (f == CF::kEventDate) event_date_ = *d;
    if (f == CF::kValidUntil) valid_until_ = d;
  }
  if (!birth_) {
    std::optional<PrcIdFacts> facts;
    if (profile_.id_scheme == IdScheme::kPrcResidentId && !person_id_.empty()) {
      facts = PrcIdDetails(person_id_);
    } else if (profile_.alt_id_scheme == IdScheme::kPrcResidentId && !alt_id_.empty()) {
      facts = PrcIdDetails(alt_id_);
    }
    if (facts) {
      birth_ = std::chrono::sys_days{std::chrono::year_month_day{std::chrono::year{facts->year},
                                                                 std::chrono::month{facts->month},
                                                                 std::chrono::day{facts->day}}};
      sex_ = facts->sex;
    } else {
      sex_ = Sex::kUnknown;
    }
  } else {
    sex_ = Sex::kUnknown;
  }

  // 9. future_date
  if (event_date_ > ctx_.today) {
    return fail(
        CF::kEventDate, "future_date",
        FormatIsoDate(event_date_) + " is after the ingest date " + FormatIsoDate(ctx_.today));
  }
  if (birth_ && *birth_ > ctx_.today) {
    CF f = Index(CF::kBirthDate) >= 0 ? CF::kBirthDate : CF::kPersonId;
    return fail(f, "future_date", "gives a birth date after the ingest date");
  }

  // 10. before_birth
  if (birth_ && event_date_ < *birth_) {
    return fail(CF::kEventDate, "before_birth", "is before the person's birth date");
  }

  // 11. unknown_level (and the other code tables)
  std::string_view level_text = Value(values, CF::kLevel);
  level_ = nullptr;
  for (const LevelEntry& e : profile_.scale.levels) {
    if (e.native == level_text) {
      level_ = &e;
      break;
    }
  }
  if (!level_) {
    return fail(CF::kLevel, "unknown_level",
                Quote(level_text) + " is not in scale " + profile_.scale.code);
  }
  status_ = RecordStatus::kActive;
  if (std::string_view v = Value(values, CF::kStatus); !v.empty()) {
    bool found = false;
    for (const auto& e : profile_.statuses) {
      if (e.native == v) {
        status_ = e.value;
        found = true;
        break;
      }
    }
    if (!found) return fail(CF::kStatus, "unknown_level", Quote(v) + " is not a known status");
  }
  if (std::string_view v = Value(values, CF::kSex); !v.empty()) {
    bool found = false;
    for (const auto& e : profile_.sexes) {
      if (e.native == v) {
        sex_ = e.value;
        found = true;
        break;
      }
    }
    if (!found) return fail(CF::kSex, "unknown_level", "is not a known sex code");
  }
  if (std::string_view v = Value(values, CF::kSubjectKind); !v.empty()) {
    bool found = false;
    for (const auto& e : profile_.subject_kinds) found = found || e.native == v;
    if (!found) return fail(CF::kSubjectKind, "unknown_level", Quote(v) + " is not a subject kind");
  }

  // 12. bad_number
  score_.reset();
  beds_.reset();
  for (CF f : {CF::kTotalScore, CF::kBeds}) {
    std::string_view v = Value(values, f);
    if (v.empty()) continue;
    const FieldSpec& spec = profile_.fields[Index(f)];
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    std::int64_t lo = spec.min.value_or(0);
    std::int64_t hi = spec.max.value_or(1000000);
    if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi) {
      return fail(
          f, "bad_number",
          Quote(v) + " is not a whole number in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    (f == CF::kTotalScore ? score_ : beds_) = static_cast<int>(n);
  }
  return std::nullopt;
}

std::optional<OrgRef> RowProcessor::Org(std::span<const std::string_view> values,
                                        bool employer) const {
  CF uscc_f = employer ? CF::kEmployerUscc : CF::kOrgUscc;
  CF local_f = employer ? CF::kEmployerLocalId : CF::kOrgLocalId;
  CF name_f = employer ? CF::kEmployerName : CF::kOrgName;
  CF region_f = employer ? CF::kEmployerRegion : CF::kOrgRegion;
  std::string_view uscc = Value(values, uscc_f);
  std::string_view local = Value(values, local_f);
  std::string_view name = Value(values, name_f);
  if (uscc.empty() && local.empty() && name.empty()) return std::nullopt;
  OrgRef org;
  if (!uscc.empty()) {
    org.uscc.emplace(uscc);
    UpperInPlace(*org.uscc);
  }
  if (!local.empty()) org.local_id.emplace(local);
  org.name.assign(name);
  std::string_view region = Value(values, region_f);
  org.region.assign(region.empty() ? std::string_view(profile_.region) : region);
  return org;
}

PersonRef RowProcessor::Person(std::span<const std::string_view> values) {
  PersonRef p;
  if (!person_id_.empty())
    p.tokens.push_back(ctx_.tokenizer->Token(profile_.id_scheme, person_id_));
  if (!alt_id_.empty()) p.tokens.push_back(ctx_.tokenizer->Token(*profile_.alt_id_scheme, alt_id_));
  if (birth_) p.birth_year = static_cast<int>(std::chrono::year_month_day{*birth_}.year());
  p.sex = sex_;
  std::string_view residence = Value(values, CF::kResidenceRegion);
  if (!residence.empty()) p.residence_region.emplace(residence);
  return p;
}

CanonicalRecord RowProcessor::Build(std::int64_t row, std::span<const std::string_view> values) {
  CanonicalRecord rec;
  rec.record_id = std::move(record_id_);
  rec.status = status_;
  NativeLevel native{level_->scale.empty() ? profile_.scale.code : level_->scale, level_->code,
                     level_->native};
  std::optional<PivotLevel> pivot;
  if (level_->pivot) {
    pivot = PivotLevel{*level_->pivot, level_->range_upper, level_->flag, level_->documented};
  }
  switch (profile_.kind) {
    case RecordKind::kAssessment: {
      Assessment a;
      a.person = Person(values);
      a.native = std::move(native);
      a.pivot = std::move(pivot);
      a.total_score = score_;
      a.assessed_on = event_date_;
      a.valid_until = valid_until_;
      a.assessor = Org(values, false);
      rec.body = std::move(a);
      break;
    }
    case RecordKind::kCaregiver: {
      CaregiverQualification c;
      c.person = Person(values);
      c.native = std::move(native);
      c.pivot = std::move(pivot);
      if (std::string_view cert = Value(values, CF::kCertificateNo); !cert.empty()) {
        c.certificate_token = ctx_.tokenizer->Mac("CERT:" + profile_.region, cert);
      }
      c.issued_on = event_date_;
      c.valid_until = valid_until_;
      c.issuer = Org(values, false);
      c.employer = Org(values, true);
      rec.body = std::move(c);
      break;
    }
    case RecordKind::kFacility: {
      FacilityRating f;
      f.facility = Org(values, false).value_or(OrgRef{});
      if (f.facility.region.empty()) f.facility.region = profile_.region;
      f.native = std::move(native);
      f.comparable = level_->comparable;
      f.pivot = std::move(pivot);
      f.beds = beds_;
      f.rated_on = event_date_;
      f.valid_until = valid_until_;
      rec.body = std::move(f);
      break;
    }
    case RecordKind::kSanction: {
      SanctionNotice s;
      s.subject_kind = subject_kind_;
      if (subject_kind_ == SubjectKind::kPerson) {
        s.subject_person = Person(values);
      } else {
        s.subject_org = Org(values, false);
      }
      s.sanction_type = level_->sanction_type;
      s.native = std::move(native);
      s.legal_basis.assign(Value(values, CF::kLegalBasis));
      s.decided_on = event_date_;
      s.ends_on = valid_until_;
      std::string_view issuing = Value(values, CF::kIssuingRegion);
      s.issuing_region.assign(issuing.empty() ? std::string_view(profile_.region) : issuing);
      rec.body = std::move(s);
      break;
    }
  }
  rec.provenance.origin_region = ctx_.origin_region;
  rec.provenance.profile = profile_.name;
  rec.provenance.profile_version = profile_.version;
  rec.provenance.source_file = ctx_.file_name;
  rec.provenance.source_row = row;
  rec.provenance.source_record_id = std::move(source_id_);
  rec.provenance.ingested_at_ms = ctx_.ingested_at_ms;
  return rec;
}

std::span<const std::string_view> RowProcessor::Normalise(
    std::span<const std::string_view> values) {
  nfc_values_.assign(values.begin(), values.end());
  nfc_texts_.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (IsNfcStable(values[i])) continue;  // already NFC: kept as it is, not copied
    nfc_texts_[i].clear();
    if (AppendNfc(values[i], nfc_texts_[i])) nfc_values_[i] = nfc_texts_[i];
  }
  return nfc_values_;
}

void RowProcessor::Process(std::int64_t row, std::span<const std::string_view> native_values,
                           const RawRow& raw, RecordSink& sink, ReadStats& stats) {
  for (std::size_t i = 0; i < native_values.size(); ++i) {
    if (native_values[i].size() <= ctx_.max_field_bytes) continue;
    Malformed(row, profile_.fields[i].name,
              "the value is longer than the field limit of " +
                  std::to_string(ctx_.max_field_bytes) + " bytes",
              raw.Text().substr(0, kKeptRawBytes), sink, stats);
    return;
  }
  ++stats.read;
  std::span<const std::string_view> values = Normalise(native_values);
  std::optional<Failure> failure = Validate(values);
  if (failure) {
    ++stats.quarantined;
    Rejection r;
    r.file = ctx_.file_name;
    r.row = row;
    if (failure->field >= 0) r.field = profile_.fields[failure->field].name;
    r.reason = std::move(failure->reason);
    r.raw = raw.Text();
    r.record_id = std::move(record_id_);
    sink.Reject(std::move(r));
    return;
  }
  ++stats.accepted;
  sink.Accept(Build(row, values));
}

void RowProcessor::Malformed(std::int64_t row, std::string_view field, std::string_view explanation,
                             std::string raw, RecordSink& sink, ReadStats& stats) {
  ++stats.read;
  ++stats.quarantined;
  Rejection r;
  r.file = ctx_.file_name;
  r.row = row;
  r.field.assign(field);
  r.reason = "malformed_row: ";
  r.reason.append(explanation);
  r.raw = std::move(raw);
  sink.Reject(std::move(r));
}

}  // namespace carehub
