#include "mapping/rule_set.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "schemas/embedded.h"
#include "schemas/error.h"

namespace carehub::embedded_rules {
extern const carehub::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace carehub::embedded_rules

namespace carehub::mapping {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::string_view kEquivalenceNames[] = {"equivalent", "source-is-narrower-than-target",
                                                  "source-is-broader-than-target", "related-to",
                                                  "not-related-to"};
constexpr std::string_view kOutcomeNames[] = {"recognised", "recognised_with_conditions",
                                              "reassessment_required", "not_recognised"};

// Reads one JSON object, every error naming the file and where in it.
class Reader {
 public:
  Reader(std::string file, std::string where, Object::Ptr object)
      : file_(std::move(file)), where_(std::move(where)), object_(std::move(object)) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw Error::InvalidInput(file_ + ": " + where_ + ": " + what);
  }
  bool Has(const std::string& key) const { return object_->has(key) && !object_->isNull(key); }

  std::string String(const std::string& key) const {
    if (!Has(key)) Fail("missing \"" + key + "\"");
    try {
      return object_->getValue<std::string>(key);
    } catch (const Poco::Exception&) {
      Fail("\"" + key + "\" must be a string");
    }
  }
  std::string StringOr(const std::string& key, const std::string& fallback) const {
    return Has(key) ? String(key) : fallback;
  }
  int Int(const std::string& key) const {
    if (!Has(key)) Fail("missing \"" + key + "\"");
    try {
      return object_->getValue<int>(key);
    } catch (const Poco::Exception&) {
      Fail("\"" + key + "\" must be an integer");
    }
  }
  bool BoolOr(const std::string& key, bool fallback) const {
    if (!Has(key)) return fallback;
    try {
      return object_->getValue<bool>(key);
    } catch (const Poco::Exception&) {
      Fail("\"" + key + "\" must be true or false");
    }
  }
  Date DateAt(const std::string& key) const {
    auto date = ParseIsoDate(String(key));
    if (!date) Fail("\"" + key + "\" is not a YYYY-MM-DD date");
    return *date;
  }
  std::vector<std::string> Strings(const std::string& key) const {
    std::vector<std::string> out;
    if (!Has(key)) return out;
    auto array = object_->getArray(key);
    if (!array) Fail("\"" + key + "\" must be an array");
    for (std::size_t i = 0; i < array->size(); ++i)
      out.push_back(array->getElement<std::string>(i));
    return out;
  }
  // Nested object `key` (required), read with a path extended by the key.
  Reader Child(const std::string& key) const {
    if (!Has(key)) Fail("missing \"" + key + "\"");
    auto child = object_->getObject(key);
    if (!child) Fail("\"" + key + "\" must be an object");
    return Reader(file_, where_ + "." + key, child);
  }
  // Elements of array `key` (objects), each with its index in the path.
  std::vector<Reader> Children(const std::string& key) const {
    std::vector<Reader> out;
    if (!Has(key)) return out;
    auto array = object_->getArray(key);
    if (!array) Fail("\"" + key + "\" must be an array");
    for (std::size_t i = 0; i < array->size(); ++i) {
      auto child = array->getObject(static_cast<unsigned>(i));
      std::string where = where_ + "." + key + "[" + std::to_string(i) + "]";
      if (!child) Reader(file_, where, object_).Fail("must be an object");
      out.emplace_back(file_, where, child);
    }
    return out;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    object_->getNames(keys);
    return keys;
  }

 private:
  std::string file_;
  std::string where_;
  Object::Ptr object_;
};

LegalBasis ReadBasis(const Reader& reader) {
  LegalBasis basis;
  basis.document = reader.String("document");
  basis.title = reader.StringOr("title", "");
  basis.article = reader.StringOr("article", "");
  basis.cite = reader.StringOr("cite", "");
  basis.documented = reader.BoolOr("documented", true);
  return basis;
}

RecordKind ReadKind(const Reader& reader, const std::string& key) {
  auto kind = ParseKind(reader.String(key));
  if (!kind) reader.Fail("\"" + key + "\" must be assessment, caregiver, facility or sanction");
  return *kind;
}

std::vector<RegionCode> ReadRegions(const Reader& reader, const std::string& key) {
  std::vector<RegionCode> out;
  for (const auto& text : reader.Strings(key)) {
    auto region = ParseRegion(text);
    if (!region) reader.Fail("\"" + key + "\": '" + text + "' is not a region code");
    out.push_back(*region);
  }
  return out;
}

void ReadScales(const Reader& root, RuleSet& set) {
  for (const auto& s : root.Children("scales")) {
    Scale scale;
    scale.id = s.String("id");
    scale.kind = ReadKind(s, "kind");
    scale.name = s.String("name");
    scale.pivot = s.BoolOr("pivot", false);
    scale.ordered = s.BoolOr("ordered", true);
    scale.aliases = s.Strings("aliases");
    scale.documented = s.BoolOr("documented", false);
    scale.cite = s.StringOr("cite", "");
    scale.comment = s.StringOr("comment", "");
    if (scale.documented && scale.cite.empty()) s.Fail("a documented scale needs \"cite\"");
    for (const auto& l : s.Children("levels")) {
      ScaleLevel level;
      level.code = l.String("code");
      level.label = l.StringOr("label", level.code);
      level.aliases = l.Strings("aliases");
      if (scale.FindCode(level.code) >= 0) l.Fail("duplicate code '" + level.code + "'");
      scale.levels.push_back(std::move(level));
    }
    if (scale.levels.empty()) s.Fail("a scale needs at least one level");
    set.scales.push_back(std::move(scale));
  }
}

void ReadCrosswalk(const Reader& root, RuleSet& set) {
  set.kind = ReadKind(root, "kind");
  set.source_scale = root.String("source_scale");
  set.target_scale = root.String("target_scale");
  set.from_regions = ReadRegions(root, "from_regions");
  set.to_regions = ReadRegions(root, "to_regions");
  if (set.from_regions.empty() != set.to_regions.empty()) {
    root.Fail("a bilateral rule needs both \"from_regions\" and \"to_regions\"");
  }
  int index = 0;
  for (const auto& e : root.Children("entries")) {
    MapEntry entry;
    entry.index = index++;
    entry.from = e.String("from");
    entry.to = e.StringOr("to", "");
    entry.to_upper = e.StringOr("to_upper", "");
    auto equivalence = ParseEquivalence(e.String("equivalence"));
    if (!equivalence) e.Fail("unknown equivalence '" + e.String("equivalence") + "'");
    entry.equivalence = *equivalence;
    entry.documented = e.BoolOr("documented", set.documented);
    entry.cite = e.StringOr("cite", "");
    entry.comment = e.StringOr("comment", "");
    entry.flag = e.StringOr("flag", "");
    if (entry.documented && entry.cite.empty()) e.Fail("a documented entry needs \"cite\"");
    if (entry.equivalence == Equivalence::kNotRelatedTo && !entry.to.empty()) {
      e.Fail("not-related-to (unmatched) takes no \"to\"");
    }
    if (entry.equivalence != Equivalence::kNotRelatedTo &&
        entry.equivalence != Equivalence::kRelatedTo && entry.to.empty()) {
      e.Fail("equivalence " + std::string(EquivalenceName(entry.equivalence)) + " needs \"to\"");
    }
    if (entry.comment.empty()) e.Fail("every entry needs a \"comment\"");
    set.entries.push_back(std::move(entry));
  }
  if (set.entries.empty()) root.Fail("a crosswalk needs \"entries\"");
}

void ReadRegion(const Reader& root, RuleSet& set) {
  auto region = ParseRegion(root.String("region"));
  if (!region) root.Fail("\"region\" is not a region code");
  set.region = *region;
  set.name = root.String("name");
  auto kinds = root.Child("kinds");
  for (const auto& key : kinds.Keys()) {
    auto kind = ParseKind(key);
    if (!kind) kinds.Fail("unknown record kind '" + key + "'");
    auto k = kinds.Child(key);
    KindPolicy policy;
    policy.scale = k.StringOr("scale", "");
    if (policy.scale.empty() && *kind != RecordKind::kSanction) k.Fail("missing \"scale\"");
    policy.documented = k.BoolOr("documented", false);
    policy.cite = k.StringOr("cite", "");
    policy.comment = k.StringOr("comment", "");
    if (k.Has("validity_months")) {
      policy.validity_months = k.Int("validity_months");
      if (*policy.validity_months <= 0) k.Fail("\"validity_months\" must be positive");
    }
    policy.validity_cite = k.StringOr("validity_cite", "");
    for (const auto& symbol : k.Strings("recognised_statuses")) {
      auto status = ParseStatus(symbol);
      if (!status) k.Fail("unknown status '" + symbol + "'");
      policy.recognised_statuses.push_back(*status);
    }
    if (policy.recognised_statuses.empty()) k.Fail("missing \"recognised_statuses\"");
    auto on_expiry = ParseOutcome(k.StringOr("on_expiry", "reassessment_required"));
    if (!on_expiry) k.Fail("unknown \"on_expiry\" outcome");
    policy.on_expiry = *on_expiry;
    policy.sanctions_block = k.BoolOr("sanctions_block", false);
    policy.legal_basis = ReadBasis(k.Child("legal_basis"));
    set.kinds[static_cast<int>(*kind)] = std::move(policy);
  }
  for (const auto& a : root.Children("agreements")) {
    Agreement agreement;
    agreement.from = ReadRegions(a, "from");
    if (agreement.from.empty()) a.Fail("an agreement needs \"from\" regions");
    for (const auto& name : a.Strings("kinds")) {
      auto kind = ParseKind(name);
      if (!kind) a.Fail("unknown record kind '" + name + "'");
      agreement.kinds.push_back(*kind);
    }
    agreement.legal_basis = ReadBasis(a.Child("legal_basis"));
    agreement.documented = a.BoolOr("documented", false);
    agreement.comment = a.StringOr("comment", "");
    set.agreements.push_back(std::move(agreement));
  }
}

}  // namespace

std::string_view EquivalenceName(Equivalence equivalence) {
  return kEquivalenceNames[static_cast<int>(equivalence)];
}

std::optional<Equivalence> ParseEquivalence(std::string_view name) {
  if (name == "unmatched") return Equivalence::kNotRelatedTo;
  for (int i = 0; i < 5; ++i) {
    if (kEquivalenceNames[i] == name) return static_cast<Equivalence>(i);
  }
  return std::nullopt;
}

Equivalence Compose(Equivalence first, Equivalence second) {
  if (first == Equivalence::kNotRelatedTo || second == Equivalence::kNotRelatedTo) {
    return Equivalence::kNotRelatedTo;
  }
  if (first == Equivalence::kEquivalent) return second;
  if (second == Equivalence::kEquivalent) return first;
  if (first == second) return first;
  return Equivalence::kRelatedTo;
}

std::string_view OutcomeName(Outcome outcome) { return kOutcomeNames[static_cast<int>(outcome)]; }

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (int i = 0; i < 4; ++i) {
    if (kOutcomeNames[i] == name) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

int Scale::FindCode(std::string_view code) const {
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (levels[i].code == code) return static_cast<int>(i);
    for (const auto& alias : levels[i].aliases) {
      if (alias == code) return static_cast<int>(i);
    }
  }
  return -1;
}

RuleSet ParseRuleSet(const RuleFile& file) {
  Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    object = parser.parse(file.content).extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error::InvalidInput(file.path + ": not a JSON object: " + e.displayText());
  }
  Reader root(file.path, "top", object);
  RuleSet set;
  set.file = file.path;
  set.id = root.String("id");
  set.version = root.Int("version");
  if (set.version < 1) root.Fail("\"version\" must be >= 1");
  const std::string type = root.String("type");
  set.documented = root.BoolOr("documented", false);
  set.comment = root.StringOr("comment", "");
  if (type == "scales") {
    set.type = RuleSetType::kScales;
    ReadScales(root, set);
    return set;
  }
  set.effective_from = root.DateAt("effective_from");
  if (root.Has("effective_to")) {
    set.effective_to = root.DateAt("effective_to");
    if (*set.effective_to < set.effective_from) root.Fail("effective_to is before effective_from");
  }
  if (type == "crosswalk") {
    set.type = RuleSetType::kCrosswalk;
    set.legal_basis = ReadBasis(root.Child("legal_basis"));
    ReadCrosswalk(root, set);
  } else if (type == "region") {
    set.type = RuleSetType::kRegion;
    ReadRegion(root, set);
  } else {
    root.Fail("\"type\" must be scales, crosswalk or region");
  }
  return set;
}

std::vector<RuleFile> EmbeddedRuleFiles() {
  std::vector<RuleFile> files;
  for (std::size_t i = 0; i < embedded_rules::kFileCount; ++i) {
    files.push_back({std::string(embedded_rules::kFiles[i].path),
                     std::string(embedded_rules::kFiles[i].content)});
  }
  std::sort(files.begin(), files.end(),
            [](const RuleFile& a, const RuleFile& b) { return a.path < b.path; });
  return files;
}

std::vector<RuleFile> ReadRuleDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error::NotFound("rules directory not found: " + dir);
  std::vector<RuleFile> files;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (!item.is_regular_file() || item.path().extension() != ".json") continue;
    std::ifstream in(item.path(), std::ios::binary);
    if (!in) throw Error::IoError("cannot read " + item.path().string());
    std::ostringstream content;
    content << in.rdbuf();
    files.push_back({item.path().filename().string(), content.str()});
  }
  std::sort(files.begin(), files.end(),
            [](const RuleFile& a, const RuleFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace carehub::mapping
