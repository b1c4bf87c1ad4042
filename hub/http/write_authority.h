// Who may write what through the HTTP API (issue 12). A department token writes only into its
// own region's hub, only with its region's profiles (a foreign profile is 403: its records would
// otherwise be stored under this hub's origin), and a token narrower than the hub (a district or
// city department, e.g. 310115 on the Shanghai hub) only records of its own area, neither new
// ones elsewhere nor overwriting another area's. Checked before anything is committed.
// Thread-safety: pure functions over the caller's Store and engine.
#pragma once

#include <optional>
#include <string>

#include "connectors/connector.h"
#include "connectors/profile.h"
#include "hub/http/api_tokens.h"
#include "hub/store/store.h"
#include "schemas/record.h"

namespace carehub::http {

// The profile an upload is read with (named, else detected from the file); throws HttpError 403
// when it is not the token's region's, 400 when the name is unknown or nothing matches.
const Profile& AuthorizedProfile(const Principal& principal, const ConnectorEngine& engine,
                                 const std::optional<std::string>& name, const std::string& file);

// The area a record belongs to, for area-limited tokens: the resident's district (assessments),
// the issuer's (qualifications), the facility's, or the issuing region (sanctions). nullopt
// when the record names none.
std::optional<std::string> RecordArea(const CanonicalRecord& record);

// For a token narrower than `hub_region`: reads the file and throws HttpError 403 naming the
// first row whose record lies outside the token's area or would replace a record of another
// area. Does nothing for a token of the hub's whole region.
void CheckRecordsWithinArea(const Principal& principal, Store& store, const ConnectorEngine& engine,
                            const Profile& profile, const std::string& file);

}  // namespace carehub::http
