#include "hub/publish/publish.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "hub/publish/budget.h"
#include "hub/publish/dcat.h"
#include "hub/publish/publish_internal.h"
#include "hub/store/keys.h"
#include "schemas/codec.h"
#include "schemas/error.h"

namespace carehub {
namespace {

namespace fs = std::filesystem;
using namespace publish_internal;

// `made` remembers the folders created already.
void WriteFile(const fs::path& path, const std::string& bytes, std::set<fs::path>& made) {
  if (made.insert(path.parent_path()).second) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error::IoError("cannot write " + path.string());
}

std::optional<std::string> ReadIfExists(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// True when `dir` holds exactly `files` (relative path -> bytes), nothing more or less.
bool SameRelease(const fs::path& dir, const ReleaseFileMap& files) {
  std::size_t seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    ++seen;
    const std::string rel = fs::relative(entry.path(), dir).generic_string();
    const auto it = files.find(rel);
    if (it == files.end() || ReadIfExists(entry.path()) != it->second.bytes) return false;
  }
  return seen == files.size();
}

std::string PartialName(const std::string& release) {
  unsigned char nonce[6];
  randombytes_buf(nonce, sizeof nonce);
  char nonce_hex[2 * sizeof nonce + 1];
  sodium_bin2hex(nonce_hex, sizeof nonce_hex, nonce, sizeof nonce);
  return "." + release + ".partial-" + nonce_hex;
}

std::vector<TrueCounts> BoundAll(std::vector<TableInput>& tables, PublishSummary& summary) {
  std::vector<TrueCounts> truths;
  for (TableInput& table : tables) {
    truths.push_back(BoundContributions(table));
    summary.contributions_dropped += truths.back().contributions_dropped;
  }
  return truths;
}

ReleaseSlot Spend(Store& store, const std::string& series, const std::string& fingerprint,
                  const PublishOptions& options, std::int64_t now_ms) {
  std::optional<std::int64_t> budget = options.budget_micro;
  if (!budget && !ReadBudget(store, series)) budget = kDefaultSeriesBudgetMicro;
  return SpendBudget(store, series, fingerprint, options.rho_micro, budget, now_ms);
}

ReleaseInfo Describe(const Store& store, const PublishOptions& options, const std::string& series,
                     const ReleaseSlot& slot) {
  ReleaseInfo info;
  info.hub_region = store.region();
  info.origin = options.origin;
  info.series = series;
  info.slot = slot;
  info.rho_micro = options.rho_micro;
  info.base_url = options.base_url;
  while (!info.base_url.empty() && info.base_url.back() == '/') info.base_url.pop_back();
  info.licence = options.licence;
  info.contact = options.contact.empty() ? info.base_url + "/v1/datasets" : options.contact;
  return info;
}

ReleaseFileMap RenderFiles(const std::vector<PublishedTable>& tables, const ReleaseInfo& info) {
  ReleaseFileMap files;
  AddTableFiles(tables, files);
  AddCodebook(tables, info, files);
  AddReadme(tables, info, files);
  return files;
}

std::map<std::string, std::string_view> FileBytes(const ReleaseFileMap& files) {
  std::map<std::string, std::string_view> bytes;
  for (const auto& [path, file] : files) bytes[path] = file.bytes;
  return bytes;
}

}  // namespace

namespace publish_internal {

void CheckOptions(const PublishOptions& options) {
  if (options.release && !IsValidReleaseName(*options.release)) {
    throw Error::InvalidInput("release: use 1-64 characters of A-Z a-z 0-9 . _ - (no leading .)");
  }
  if (options.series && !IsValidReleaseName(*options.series)) {
    throw Error::InvalidInput("series: use 1-64 characters of A-Z a-z 0-9 . _ - (no leading .)");
  }
  if (options.rho_micro <= 0 || options.rho_micro > 100 * kRhoScale) {
    throw Error::InvalidInput("rho: expected a value in (0, 100]");
  }
  if (options.budget_micro &&
      (*options.budget_micro <= 0 || *options.budget_micro > 1000 * kRhoScale)) {
    throw Error::InvalidInput("budget: expected a value in (0, 1000]");
  }
  if (!options.base_url.starts_with("http://") && !options.base_url.starts_with("https://")) {
    throw Error::InvalidInput("base-url: expected an absolute http:// or https:// URL");
  }
  SplitRho(options);
}

std::string SeriesName(const Store& store, const PublishOptions& options) {
  if (options.series) return *options.series;
  return "hub-" + store.region() + (options.origin ? "-origin-" + *options.origin : "");
}

// Only origin and body are read, the body in place and only the fields the tables use
// (record_facts.h): decoding whole records dominated the cost.
std::vector<TableInput> CollectTables(Store& store, const std::optional<std::string>& origin,
                                      std::int64_t& records) {
  TableCollector collector;
  sqlite::Statement scan(store.db(), "SELECT r.origin, " + std::string(kChangeBody) + " FROM " +
                                         std::string(kRecordsWithBody) +
                                         " WHERE r.status != ?1 AND (?2 IS NULL OR r.origin = ?2) "
                                         "ORDER BY r.rowid");
  scan.Bind(1, StatusName(RecordStatus::kRetracted)).Bind(2, origin);
  while (scan.Step()) {
    collector.AddEncoded(scan.ColumnBlob(1), scan.ColumnText(0));
    ++records;
  }
  return collector.Finish();
}

std::string DataFingerprint(const std::vector<TableInput>& tables,
                            const std::vector<TrueCounts>& truths, const PublishOptions& options) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  auto add = [&state](const std::string& text) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                              text.size() + 1);  // with the terminating NUL as separator
  };
  add("carehub-open-v2");
  add(std::to_string(options.rho_micro));
  // A split other than the default is part of the data's identity (other noise scales); the
  // default adds nothing, so releases made before the split existed keep their fingerprint.
  if (!options.rho_shares_micro.empty()) {
    for (const std::int64_t table_rho : SplitRho(options)) add("rho:" + std::to_string(table_rho));
  }
  add(options.origin.value_or(""));
  for (std::size_t t = 0; t < tables.size(); ++t) {
    add(tables[t].spec->name);
    for (std::size_t g = 0; g < tables[t].groups.size(); ++g) {
      const TableGroup& group = tables[t].groups[g];
      std::string key = group.geo + "|" + group.period;
      for (const std::string& extra : group.extras) key += "|" + extra;
      key += "=" + std::to_string(truths[t].totals[g]);
      for (std::int64_t cell : truths[t].cells[g]) key += "," + std::to_string(cell);
      add(key);
    }
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return ToHex(digest, sizeof digest);
}

std::vector<PublishedTable> PrivatizeTables(std::vector<TableInput> tables,
                                            std::vector<TrueCounts> truths,
                                            const std::vector<std::int64_t>& table_rho_micro,
                                            const NoiseKey& key, const std::string& release_label) {
  std::vector<PublishedTable> out;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const TableNoise noise = NoiseFor(*tables[t].spec, table_rho_micro.at(t));
    NoisyTable noisy = Privatize(tables[t], truths[t], noise, key, release_label);
    out.push_back({std::move(tables[t]), std::move(truths[t]), noise, std::move(noisy)});
  }
  return out;
}

std::string ReleaseName(const ReleaseFileMap& files, const PublishOptions& options) {
  if (options.release) return *options.release;
  std::string content;
  for (const auto& [path, file] : files) content += path + '\0' + Sha256Hex(file.bytes) + '\n';
  return "r" + Sha256Hex(content).substr(0, 12);
}

bool WriteRelease(const fs::path& path, const ReleaseFileMap& files) {
  fs::create_directories(path.parent_path());
  if (fs::exists(path)) {
    if (SameRelease(path, files)) return true;
    throw Error::InvalidInput("release '" + path.filename().string() + "' exists in " +
                              path.parent_path().string() +
                              " with other content; releases are immutable: choose another "
                              "--release");
  }
  const fs::path tmp = path.parent_path() / PartialName(path.filename().string());
  try {
    std::set<fs::path> made;
    for (const auto& [rel, file] : files) WriteFile(tmp / rel, file.bytes, made);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (!ec) return false;
  std::error_code ignored;
  fs::remove_all(tmp, ignored);
  // A concurrent publish of the same data may have renamed its copy first: that is fine.
  if (!fs::exists(path) || !SameRelease(path, files)) {
    throw Error::IoError("cannot move release into " + path.string() + ": " + ec.message());
  }
  return true;
}

}  // namespace publish_internal

namespace {

// The shares of options.rho_shares_micro in table order (1 each when empty), checked.
std::vector<std::int64_t> Shares(const PublishOptions& options) {
  const auto& specs = ResearchTableSpecs();
  if (options.rho_shares_micro.empty()) return std::vector<std::int64_t>(specs.size(), 1);
  std::string names;
  for (const TableSpec& spec : specs) names += (names.empty() ? "" : ", ") + spec.name;
  for (const auto& [table, share] : options.rho_shares_micro) {
    if (std::none_of(specs.begin(), specs.end(),
                     [&](const TableSpec& s) { return s.name == table; })) {
      throw Error::InvalidInput("rho-split: unknown table '" + table + "' (tables: " + names + ")");
    }
    if (share <= 0 || share > 1000 * kRhoScale) {
      throw Error::InvalidInput("rho-split: the share of '" + table + "' must be in (0, 1000]");
    }
  }
  std::vector<std::int64_t> shares;
  for (const TableSpec& spec : specs) {
    const auto it = options.rho_shares_micro.find(spec.name);
    if (it == options.rho_shares_micro.end()) {
      throw Error::InvalidInput("rho-split: no share for table '" + spec.name +
                                "': give one for each of the " + std::to_string(specs.size()) +
                                " tables (" + names + ")");
    }
    shares.push_back(it->second);
  }
  return shares;
}

}  // namespace

std::vector<std::int64_t> SplitRho(const PublishOptions& options) {
  const std::vector<std::int64_t> shares = Shares(options);
  std::int64_t total_share = 0;
  for (std::int64_t share : shares) total_share += share;
  // rho_micro <= 1e8 and share <= 1e9: the products fit in 64 bits.
  std::vector<std::int64_t> rho(shares.size());
  std::vector<std::pair<std::int64_t, std::size_t>> remainders;  // (remainder, table)
  std::int64_t given = 0;
  for (std::size_t t = 0; t < shares.size(); ++t) {
    rho[t] = options.rho_micro * shares[t] / total_share;
    given += rho[t];
    remainders.push_back({options.rho_micro * shares[t] % total_share, t});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < options.rho_micro; ++i, ++given) ++rho[remainders[i].second];
  for (std::size_t t = 0; t < rho.size(); ++t) {
    if (rho[t] == 0) {
      throw Error::InvalidInput("rho-split: table '" + ResearchTableSpecs()[t].name +
                                "' would get rho 0: raise its share or --rho");
    }
  }
  return rho;
}

bool IsValidReleaseName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

NoiseKey LoadOrCreateNoiseKey(const fs::path& hub_dir) {
  const fs::path file = hub_dir / "keys" / "dataset_noise.secret";
  if (!fs::exists(file)) {
    NoiseKey fresh;
    randombytes_buf(fresh.data(), fresh.size());
    fs::create_directories(file.parent_path());
    try {
      WriteSecretFile(file, ToHex(fresh), 0600);
    } catch (const Error&) {
      if (!fs::exists(file)) throw;  // another publish created it first: read that one
    }
  }
  const std::string hex = ReadSmallFile(file);
  NoiseKey key;
  std::size_t length = 0;
  if (sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), "\n", &length, nullptr) != 0 ||
      length != key.size()) {
    throw Error::Corruption(file.string() + ": expected 64 hex digits");
  }
  return key;
}

PublishSummary Publish(Store& store, const PublishOptions& options, std::int64_t now_ms) {
  const auto start = std::chrono::steady_clock::now();
  CheckOptions(options);
  PublishSummary summary;
  summary.series = SeriesName(store, options);
  const NoiseKey key = options.noise_key ? *options.noise_key : LoadOrCreateNoiseKey(store.dir());

  std::vector<TableInput> tables = CollectTables(store, options.origin, summary.records);
  std::vector<TrueCounts> truths = BoundAll(tables, summary);
  const std::string fingerprint = DataFingerprint(tables, truths, options);
  const ReleaseSlot slot = Spend(store, summary.series, fingerprint, options, now_ms);
  MarkIncompletePeriods(tables, slot.issued);
  const std::vector<PublishedTable> published =
      PrivatizeTables(std::move(tables), std::move(truths), SplitRho(options), key,
                      summary.series + "|" + fingerprint);

  ReleaseInfo info = Describe(store, options, summary.series, slot);
  ReleaseFileMap files = RenderFiles(published, info);
  info.release = ReleaseName(files, options);
  files["catalog.json"] = {RenderDcatCatalog(info, published, files), "DCAT-AP 3.0 catalog",
                           "application/ld+json", "JSONLD"};
  summary.release = info.release;
  summary.path = fs::absolute(options.out_dir) / summary.release;
  summary.unchanged = WriteRelease(summary.path, files);
  RecordRelease(store, summary.series, slot.seq, summary.release, summary.path,
                Sha256Hex(files.at("catalog.json").bytes), FileBytes(files), now_ms);

  summary.reused_spend = slot.reused;
  summary.seq = slot.seq;
  summary.rho_spent_micro = slot.budget.spent_micro;
  summary.rho_remaining_micro = slot.budget.remaining_micro();
  for (const PublishedTable& table : published) {
    for (const TableGroup& group : table.input.groups) summary.rows += group.classes->size();
  }
  summary.files = static_cast<int>(files.size());
  for (const auto& [path, file] : files) summary.bytes += file.bytes.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace carehub
