// kill -9 during a large ingest, SQLite-style: the real `carehub ingest` is killed at random
// moments of a generated file; after each kill the store must pass PRAGMA integrity_check, hold
// whole batches only and a verifiable change log; a re-run then finishes the job and the store
// equals that of a clean ingest (nothing lost, nothing doubled).
// Rows: CAREHUB_CRASH_ROWS (default 200000); seed of the kill moments: CAREHUB_CRASH_SEED.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "hub/change_log.h"
#include "hub/sqlite_db.h"
#include "hub/store.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace carehub {
namespace {

namespace fs = std::filesystem;
using testing::CarehubBinary;
using testing::RunCommand;
using testing::TempDir;

constexpr std::int64_t kBatch = 10000;

std::int64_t EnvInt(const char* name, std::int64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoll(value) : fallback;
}

Poco::JSON::Object::Ptr ParseJson(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// Starts `carehub ingest` with stdout/stderr to /dev/null; returns its pid.
pid_t StartIngest(const fs::path& hub, const fs::path& file) {
  const std::string binary = CarehubBinary();
  const std::string batch = std::to_string(kBatch);
  std::vector<std::string> args = {binary,   "ingest",       "--dir", hub.string(),
                                   "--json", "--batch-size", batch,   file.string()};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0);
  return pid;
}

struct StoreState {
  std::int64_t records = 0;
  std::int64_t changes = 0;
  std::int64_t quarantine = 0;
  std::string content;  // hash over (record_id, version, content_hash) in record_id order
};

StoreState Inspect(const fs::path& hub) {
  sqlite::Database db((hub / "carehub.db").string(), {.mode = sqlite::OpenMode::kReadWrite});
  sqlite::Statement check(db, "PRAGMA integrity_check");
  EXPECT_TRUE(check.Step());
  EXPECT_EQ(check.ColumnText(0), "ok");
  StoreState state;
  state.records = db.QueryInt("SELECT count(*) FROM records").value_or(-1);
  state.changes = db.QueryInt("SELECT count(*) FROM changes").value_or(-1);
  state.quarantine = db.QueryInt("SELECT count(*) FROM quarantine").value_or(-1);
  sqlite::Statement all(db,
                        "SELECT record_id, version, content_hash FROM records ORDER BY record_id");
  std::string text;
  while (all.Step()) {
    text += all.ColumnText(0) + ":" + std::to_string(all.ColumnInt64(1)) + ":" +
            std::string(all.ColumnBlob(2)) + ";";
  }
  state.content = ToHex(Sha256(text));
  return state;
}

TEST(CrashTest, KillNineDuringIngestLeavesWholeBatchesAndRerunFinishes) {
  const std::int64_t rows = EnvInt("CAREHUB_CRASH_ROWS", 200000);
  std::mt19937_64 random(static_cast<std::uint64_t>(EnvInt("CAREHUB_CRASH_SEED", 20240601)));
  TempDir tmp;
  const fs::path file = tmp / "sh_assessment.csv";
  const std::string carehub = CarehubBinary();
  ASSERT_EQ(
      RunCommand(carehub + " gen --region sh --kind assessment --rows " + std::to_string(rows) +
                 " --seed 7 --defect-rate 0.02 --out " + file.string() + " > /dev/null 2>&1"),
      0);

  // The reference: an uninterrupted ingest, also timing it to aim the kills.
  const fs::path clean = tmp / "clean";
  ASSERT_EQ(RunCommand(carehub + " init --dir " + clean.string() + " --region sh > /dev/null"), 0);
  const fs::path crash = tmp / "crash";
  ASSERT_EQ(
      RunCommand(carehub + " init --dir " + crash.string() + " --region sh --federation-key " +
                 (clean / "federation.key").string() + " > /dev/null"),
      0);
  std::string out;
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(RunCommand(carehub + " ingest --json --batch-size " + std::to_string(kBatch) +
                           " --dir " + clean.string() + " " + file.string(),
                       &out),
            0)
      << out;
  const auto clean_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  const auto expected = ParseJson(out);
  const auto accepted = expected->getValue<std::int64_t>("accepted");
  ASSERT_EQ(expected->getValue<std::int64_t>("read"), rows);
  ASSERT_GT(accepted, 2 * kBatch) << "the file must span several batches";
  const StoreState reference = Inspect(clean);
  ASSERT_EQ(reference.records, accepted);

  // Kill at random moments; each attempt continues where the previous one stopped.
  std::uniform_int_distribution<std::int64_t> moment(clean_ms / 10, clean_ms * 6 / 10);
  std::int64_t previous = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t pid = StartIngest(crash, file);
    std::this_thread::sleep_for(std::chrono::milliseconds(moment(random)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);

    const StoreState state = Inspect(crash);
    SCOPED_TRACE("attempt " + std::to_string(attempt) + ": changes " +
                 std::to_string(state.changes));
    EXPECT_TRUE(state.changes % kBatch == 0 || state.changes == accepted);
    EXPECT_EQ(state.records, state.changes);  // a fresh ingest: one change per record
    EXPECT_GE(state.changes, previous);       // committed batches are never lost
    EXPECT_LE(state.quarantine, reference.quarantine);
    previous = state.changes;
    Store store = Store::Open(crash);
    EXPECT_EQ(VerifyStoredLog(store.db(), "310000", store.keys().sign_public()), std::nullopt);
  }

  // Re-run to completion: the same summary and the same store as the clean ingest.
  out.clear();
  ASSERT_EQ(RunCommand(carehub + " ingest --json --batch-size " + std::to_string(kBatch) +
                           " --dir " + crash.string() + " " + file.string(),
                       &out),
            0)
      << out;
  const auto final_summary = ParseJson(out);
  for (const char* key : {"read", "accepted", "quarantined"}) {
    EXPECT_EQ(final_summary->getValue<std::int64_t>(key), expected->getValue<std::int64_t>(key))
        << key;
  }
  // Unless a killed attempt happened to finish, the re-run resumes the interrupted run and
  // reports it whole, exactly like the clean run.
  if (previous < accepted) {
    EXPECT_EQ(final_summary->getValue<std::int64_t>("inserted"), accepted);
  }
  const StoreState done = Inspect(crash);
  EXPECT_EQ(done.records, reference.records);
  EXPECT_EQ(done.changes, reference.changes);
  EXPECT_EQ(done.quarantine, reference.quarantine);
  EXPECT_EQ(done.content, reference.content);
  Store store = Store::Open(crash);
  EXPECT_EQ(VerifyStoredLog(store.db(), "310000", store.keys().sign_public()), std::nullopt);
}

}  // namespace
}  // namespace carehub
