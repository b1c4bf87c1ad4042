// Issue 12, data at rest: with the usual umask 022 a new hub's directory is 0700 and its
// database, WAL and SHM files 0600 (before, all were world-readable); opening an older hub
// tightens it. Uploads (hub/http) are checked in tests/hub/http/security_test.cc.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;

unsigned ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Sets the umask for the scope of a test.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t old_;
};

void ExpectPrivate(const fs::path& hub) {
  EXPECT_EQ(ModeOf(hub), 0700u);
  for (const char* name : {"carehub.db", "carehub.db-wal", "carehub.db-shm", "federation.key"}) {
    ASSERT_TRUE(fs::exists(hub / name)) << name;
    EXPECT_EQ(ModeOf(hub / name), 0600u) << name;
  }
  EXPECT_EQ(ModeOf(hub / "keys"), 0700u);
}

TEST(AtRestTest, HubFilesArePrivateWhateverTheUmask) {
  Umask umask(022);
  testing::TempDir tmp;
  const fs::path hub = tmp / "hub";
  Store store = Store::Init(hub, InitOptions{"sh", std::nullopt, {}});
  ExpectPrivate(hub);
}

TEST(AtRestTest, OpeningAnOlderHubTightensIt) {
  Umask umask(022);
  testing::TempDir tmp;
  const fs::path hub = tmp / "hub";
  { Store::Init(hub, InitOptions{"sh", std::nullopt, {}}); }
  fs::permissions(hub, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(hub / "carehub.db", fs::perms::owner_read | fs::perms::owner_write |
                                          fs::perms::group_read | fs::perms::others_read);
  Store store = Store::Open(hub);
  ExpectPrivate(hub);
}

}  // namespace
}  // namespace carehub
