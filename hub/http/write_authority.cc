#include "hub/http/write_authority.h"

#include "hub/http/router.h"
#include "schemas/codec.h"

namespace carehub::http {
namespace {

std::string Describe(const Principal& principal) {
  return "a department token of region " + principal.region.value_or("?");
}

// Checks each accepted record's area (and the area of the stored record it would replace);
// remembers the first row that is out of bounds. Rejected rows go to quarantine anyway.
class AreaCheckSink : public RecordSink {
 public:
  AreaCheckSink(Store& store, std::string area) : store_(store), area_(std::move(area)) {}
  void Accept(CanonicalRecord&& record) override {
    if (violation_) return;
    const auto area = RecordArea(record);
    if (!area || !RegionWithin(*area, area_)) {
      violation_ = "row " + std::to_string(record.provenance.source_row) + ": its area " +
                   area.value_or("(none)") + " is outside " + area_;
      return;
    }
    if (const auto stored = store_.RecordById(record.record_id)) {
      const auto stored_area = RecordArea(DecodeSingleObject(stored->body));
      if (!stored_area || !RegionWithin(*stored_area, area_)) {
        violation_ = "row " + std::to_string(record.provenance.source_row) +
                     ": it would replace a record of area " + stored_area.value_or("(none)");
      }
    }
  }
  void Reject(Rejection&&) override {}
  const std::optional<std::string>& violation() const { return violation_; }

 private:
  Store& store_;
  std::string area_;
  std::optional<std::string> violation_;
};

}  // namespace

const Profile& AuthorizedProfile(const Principal& principal, const ConnectorEngine& engine,
                                 const std::optional<std::string>& name, const std::string& file) {
  const Profile* profile = nullptr;
  try {
    profile = name ? &engine.FindProfile(*name) : &engine.DetectProfile(file);
  } catch (const Error& e) {
    if (name)
      throw HttpError::BadParameter("profile", "unknown profile (e.g. shanghai/assessment)");
    throw HttpError(400, "invalid_upload", e.what(), "body");
  }
  if (!principal.region || !RegionWithin(*principal.region, profile->region)) {
    throw HttpError(403, "forbidden",
                    "profile " + profile->name + " belongs to region " + profile->region + "; " +
                        Describe(principal) + " may upload only its own region's files",
                    "profile");
  }
  return *profile;
}

std::optional<std::string> RecordArea(const CanonicalRecord& record) {
  const auto org_region = [](const std::optional<OrgRef>& org) -> std::optional<std::string> {
    if (org && !org->region.empty()) return org->region;
    return std::nullopt;
  };
  return std::visit(
      [&](const auto& body) -> std::optional<std::string> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Assessment>) {
          return body.person.residence_region ? body.person.residence_region
                                              : org_region(body.assessor);
        } else if constexpr (std::is_same_v<T, CaregiverQualification>) {
          if (const auto issuer = org_region(body.issuer)) return issuer;
          return body.person.residence_region;
        } else if constexpr (std::is_same_v<T, FacilityRating>) {
          return org_region(body.facility);
        } else {
          return body.issuing_region.empty() ? std::nullopt
                                             : std::optional<std::string>(body.issuing_region);
        }
      },
      record.body);
}

void CheckRecordsWithinArea(const Principal& principal, Store& store, const ConnectorEngine& engine,
                            const Profile& profile, const std::string& file) {
  if (!principal.region || *principal.region == store.region()) return;
  AreaCheckSink sink(store, *principal.region);
  try {
    engine.Read(file, profile, sink);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kInvalidInput) {
      throw HttpError(400, "invalid_upload", e.what(), "body");
    }
    throw;
  }
  if (sink.violation()) {
    throw HttpError(
        403, "forbidden",
        Describe(principal) + " writes only records of its own area; " + *sink.violation(), "body");
  }
}

}  // namespace carehub::http
