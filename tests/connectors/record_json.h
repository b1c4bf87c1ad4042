// Test helper: CanonicalRecord / Rejection -> deterministic, readable JSON text for the golden
// files under tests/data/connectors (fields in schema order, tokens as hex, absent optionals as
// null). Header-only so the glob of *_test.cc stays the only build input.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "schemas/record.h"

namespace carehub::testing {

class JsonOut {
 public:
  std::string& str() { return out_; }
  void Str(std::string_view s) {
    out_.push_back('"');
    for (char c : s) {
      unsigned char u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(c);
      } else if (c == '\n') {
        out_ += "\\n";
      } else if (c == '\r') {
        out_ += "\\r";
      } else if (c == '\t') {
        out_ += "\\t";
      } else if (u < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out_ += buf;
      } else {
        out_.push_back(c);
      }
    }
    out_.push_back('"');
  }
  void Key(std::string_view k) {
    Sep();
    Str(k);
    out_ += ": ";
    first_ = true;  // the value follows without a separator
    pending_value_ = true;
  }
  void Open(char c) {
    Sep();
    out_.push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_.push_back(c);
    first_ = false;
  }
  void Value(std::string_view raw) {
    Sep();
    out_ += raw;
  }
  void S(std::string_view k, std::string_view v) {
    Key(k);
    Sep();
    Str(v);
  }
  void I(std::string_view k, long long v) {
    Key(k);
    Value(std::to_string(v));
  }
  void B(std::string_view k, bool v) {
    Key(k);
    Value(v ? "true" : "false");
  }
  void Null(std::string_view k) {
    Key(k);
    Value("null");
  }
  template <typename T>
  void OptI(std::string_view k, const std::optional<T>& v) {
    if (v) {
      I(k, *v);
    } else {
      Null(k);
    }
  }
  void OptS(std::string_view k, const std::optional<std::string>& v) {
    if (v) {
      S(k, *v);
    } else {
      Null(k);
    }
  }

 private:
  void Sep() {
    if (pending_value_) {
      pending_value_ = false;
      first_ = false;
      return;
    }
    if (!first_) out_ += ", ";
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
  bool pending_value_ = false;
};

inline std::string Hex(const Hmac256& h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : h) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

inline void WriteOrg(JsonOut& j, std::string_view key, const std::optional<OrgRef>& org) {
  if (!org) {
    j.Null(key);
    return;
  }
  j.Key(key);
  j.Open('{');
  j.OptS("uscc", org->uscc);
  j.OptS("local_id", org->local_id);
  j.S("name", org->name);
  j.S("region", org->region);
  j.Close('}');
}

inline void WritePerson(JsonOut& j, std::string_view key, const std::optional<PersonRef>& p) {
  if (!p) {
    j.Null(key);
    return;
  }
  j.Key(key);
  j.Open('{');
  j.Key("tokens");
  j.Open('[');
  for (const PersonToken& t : p->tokens) {
    j.Open('{');
    j.S("scheme", IdSchemeName(t.scheme));
    j.S("token", Hex(t.token).substr(0, 16));
    j.Close('}');
  }
  j.Close(']');
  j.OptI("birth_year", p->birth_year);
  j.S("sex", SexName(p->sex));
  j.OptS("residence_region", p->residence_region);
  j.Close('}');
}

inline void WriteLevel(JsonOut& j, const NativeLevel& n, const std::optional<PivotLevel>& pivot) {
  j.Key("native");
  j.Open('{');
  j.S("scale", n.scale);
  j.S("code", n.code);
  j.S("label", n.label);
  j.Close('}');
  if (!pivot) {
    j.Null("pivot");
    return;
  }
  j.Key("pivot");
  j.Open('{');
  j.I("level", pivot->level);
  j.OptI("range_upper", pivot->range_upper);
  j.OptS("flag", pivot->flag);
  j.B("documented", pivot->documented);
  j.Close('}');
}

inline void WriteDate(JsonOut& j, std::string_view key, const std::optional<Date>& d) {
  if (d) {
    j.S(key, FormatIsoDate(*d));
  } else {
    j.Null(key);
  }
}

inline std::string RecordJson(const CanonicalRecord& r) {
  JsonOut j;
  j.Open('{');
  j.S("record_id", r.record_id);
  j.I("version", r.version);
  j.S("status", StatusName(r.status));
  j.S("kind", KindName(r.kind()));
  std::visit(
      [&j](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          WritePerson(j, "person", b.person);
          WriteLevel(j, b.native, b.pivot);
          j.OptI("total_score", b.total_score);
          WriteDate(j, "assessed_on", b.assessed_on);
          WriteDate(j, "valid_until", b.valid_until);
          WriteOrg(j, "assessor", b.assessor);
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          WritePerson(j, "person", b.person);
          WriteLevel(j, b.native, b.pivot);
          if (b.certificate_token) {
            j.S("certificate_token", Hex(*b.certificate_token).substr(0, 16));
          } else {
            j.Null("certificate_token");
          }
          WriteDate(j, "issued_on", b.issued_on);
          WriteDate(j, "valid_until", b.valid_until);
          WriteOrg(j, "issuer", b.issuer);
          WriteOrg(j, "employer", b.employer);
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          WriteOrg(j, "facility", b.facility);
          WriteLevel(j, b.native, b.pivot);
          j.B("comparable", b.comparable);
          j.OptI("beds", b.beds);
          WriteDate(j, "rated_on", b.rated_on);
          WriteDate(j, "valid_until", b.valid_until);
        } else {
          j.S("subject_kind", SubjectKindName(b.subject_kind));
          WriteOrg(j, "subject_org", b.subject_org);
          WritePerson(j, "subject_person", b.subject_person);
          j.S("sanction_type", SanctionTypeName(b.sanction_type));
          WriteLevel(j, b.native, std::nullopt);
          j.S("legal_basis", b.legal_basis);
          WriteDate(j, "decided_on", b.decided_on);
          WriteDate(j, "ends_on", b.ends_on);
          j.S("issuing_region", b.issuing_region);
        }
      },
      r.body);
  j.Key("provenance");
  j.Open('{');
  j.S("origin_region", r.provenance.origin_region);
  j.S("profile", r.provenance.profile);
  j.I("profile_version", r.provenance.profile_version);
  j.S("source_file", r.provenance.source_file);
  j.I("source_row", r.provenance.source_row);
  j.S("source_record_id", r.provenance.source_record_id);
  j.I("ingested_at_ms", r.provenance.ingested_at_ms);
  j.Close('}');
  j.Close('}');
  return j.str();
}

inline std::string RejectionJson(const Rejection& r) {
  JsonOut j;
  j.Open('{');
  j.I("row", r.row);
  j.S("field", r.field);
  std::string_view reason = r.reason;
  j.S("code", reason.substr(0, reason.find(':')));
  j.S("reason", r.reason);
  j.Close('}');
  return j.str();
}

}  // namespace carehub::testing
