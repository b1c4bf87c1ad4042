// TempDir: a fresh directory under $TMPDIR that removes itself (seastar tests/unit/tmpdir.hh).
// Plus paths the tests need: the source tree, test data and the built `carehub` binary.
#pragma once

#include <filesystem>
#include <string>

namespace carehub::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::filesystem::path SourceDir() { return CAREHUB_SOURCE_DIR; }
inline std::filesystem::path TestData() { return CAREHUB_TEST_DATA; }
inline std::string CarehubBinary() { return CAREHUB_BINARY; }

// Runs a shell command, returns its exit status and captures stdout into `out` (if given).
int RunCommand(const std::string& command, std::string* out = nullptr);

}  // namespace carehub::testing
