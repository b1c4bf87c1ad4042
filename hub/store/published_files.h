// The files of each open-data release as `carehub publish` recorded them (table
// published_files): relative name, SHA-256 and size. The HTTP API serves a release's file only
// when it is recorded here and its bytes still have this hash (issue 12).
// Thread-safety: as the Database passed in (one connection per thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hub/store/sqlite_db.h"

namespace carehub {

struct PublishedFile {
  std::string name;    // relative to the release folder, '/'-separated, e.g. "kind=x/part-0.csv"
  std::string sha256;  // lowercase hex
  std::int64_t bytes = 0;
};

// Replaces the recorded files of `release` with `files` (relative path -> content), inside the
// caller's transaction.
void RecordPublishedFiles(sqlite::Database& db, const std::string& release,
                          const std::map<std::string, std::string_view>& files);

std::optional<PublishedFile> FindPublishedFile(sqlite::Database& db, const std::string& release,
                                               const std::string& name);

// Lowercase hex SHA-256 of `bytes` (libsodium).
std::string Sha256HexOf(std::string_view bytes);

}  // namespace carehub
