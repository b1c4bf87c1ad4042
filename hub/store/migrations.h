// Schema migrations of carehub.db by PRAGMA user_version: an ordered list of steps, step i
// brings the database from version i-1 to i. Each step runs in its own BEGIN IMMEDIATE
// transaction together with the user_version bump, so a crash never leaves half a step.
// Other units may APPEND steps at the end of kSteps in migrations.cc; never edit or reorder a
// step that has shipped. Thread-safety: call from the thread that owns the Database.
#pragma once

#include <string_view>
#include <vector>

#include "hub/store/sqlite_db.h"

namespace carehub {

struct Migration {
  int version;                   // user_version after this step (1, 2, ...)
  std::string_view description;  // one line, for `carehub init` / errors
  std::string_view sql;          // one or more statements
  // Work SQL alone cannot express (e.g. a rebuild only when an old layout is there), run after
  // `sql` in the same transaction; must be repeatable (upgrade tests rewind user_version).
  void (*run)(sqlite::Database& db) = nullptr;
};

const std::vector<Migration>& Migrations();
int LatestSchemaVersion();
int SchemaVersion(sqlite::Database& db);

// Applies every step above the database's user_version. Throws Error::Corruption when the
// database is newer than this binary (user_version above the last step).
void Migrate(sqlite::Database& db);

}  // namespace carehub
