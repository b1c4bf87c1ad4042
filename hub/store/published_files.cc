#include "hub/store/published_files.h"

#include <sodium.h>

namespace carehub {

std::string Sha256HexOf(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

void RecordPublishedFiles(sqlite::Database& db, const std::string& release,
                          const std::map<std::string, std::string_view>& files) {
  sqlite::Statement clear(db, "DELETE FROM published_files WHERE release = ?");
  clear.Bind(1, release).Run();
  sqlite::Statement insert(
      db, "INSERT INTO published_files(release, name, sha256, bytes) VALUES(?, ?, ?, ?)");
  for (const auto& [path, bytes] : files) {
    insert.Bind(1, release)
        .Bind(2, path)
        .Bind(3, Sha256HexOf(bytes))
        .Bind(4, static_cast<std::int64_t>(bytes.size()));
    insert.Run();
  }
}

std::optional<PublishedFile> FindPublishedFile(sqlite::Database& db, const std::string& release,
                                               const std::string& name) {
  sqlite::Statement find(
      db, "SELECT name, sha256, bytes FROM published_files WHERE release = ? AND name = ?");
  find.Bind(1, release).Bind(2, name);
  if (!find.Step()) return std::nullopt;
  return PublishedFile{find.ColumnText(0), find.ColumnText(1), find.ColumnInt64(2)};
}

}  // namespace carehub
