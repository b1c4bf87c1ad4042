#include "connectors/connector.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "connectors/csv_reader.h"
#include "connectors/json_reader.h"
#include "connectors/person_token.h"
#include "connectors/pipeline.h"
#include "connectors/profile.h"
#include "connectors/row_processor.h"
#include "connectors/text_decoder.h"
#include "connectors/transcoding_stream.h"
#include "connectors/unicode_nfc.h"
#include "connectors/xml_reader.h"
#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::uint64_t kProgressStep = 4u << 20;
constexpr std::int64_t kChinaOffsetMs = 8 * 3600 * 1000;  // all seven regions are UTC+8

class TextRaw : public RawRow {
 public:
  explicit TextRaw(std::string_view text) : text_(text) {}
  std::string Text() const override { return std::string(text_); }

 private:
  std::string_view text_;
};

class DecodedRaw : public RawRow {
 public:
  DecodedRaw(const TextDecoder& decoder, std::string_view bytes)
      : decoder_(decoder), bytes_(bytes) {}
  std::string Text() const override {
    std::string out;
    decoder_.DecodeLossy(bytes_, out);
    return out;
  }

 private:
  const TextDecoder& decoder_;
  std::string_view bytes_;
};

// Poco's ParseHandler keeps the last of two equal keys; this one also remembers the keys that
// an element's top-level object gives more than once, so the engine can refuse the row.
class DuplicateKeyHandler : public Poco::JSON::ParseHandler {
 public:
  void reset() override {
    ParseHandler::reset();
    depth_ = 0;
    keys_.clear();
    duplicates_.clear();
  }
  void startObject() override {
    ParseHandler::startObject();
    ++depth_;
  }
  void endObject() override {
    ParseHandler::endObject();
    --depth_;
  }
  void key(const std::string& k) override {
    ParseHandler::key(k);
    if (depth_ == 1 && !keys_.insert(k).second) duplicates_.insert(k);
  }
  const std::set<std::string>& duplicates() const { return duplicates_; }

 private:
  int depth_ = 0;
  std::set<std::string> keys_;
  std::set<std::string> duplicates_;
};

// The first column holding a NUL byte (no text field may: C tools and exports would cut it).
int ColumnWithNul(const std::vector<std::string_view>& fields) {
  for (std::size_t c = 0; c < fields.size(); ++c) {
    if (fields[c].find('\0') != std::string_view::npos) return static_cast<int>(c);
  }
  return -1;
}

// The raw row with each NUL byte shown as U+2400 (a NUL would cut the text in C tools).
std::string VisibleNuls(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\0') {
      out += "\u2400";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Excel saves rows that were once touched as a line of delimiters only: no data, skipped.
bool IsDelimiterOnly(std::string_view raw, char delimiter) {
  return raw.find_first_not_of(delimiter) == std::string_view::npos;
}

std::set<std::string> NamesOf(const Profile& p) {
  std::set<std::string> names;
  for (const FieldSpec& f : p.fields) names.insert(f.name);
  return names;
}

// How well a set of native names (CSV header, JSON keys) fits a profile: -1 when a required
// field is missing, else the number of profile fields present (+1000 for an exact match).
int MatchScore(const Profile& p, const std::set<std::string>& names) {
  int score = 0;
  for (const FieldSpec& f : p.fields) {
    bool present = names.count(f.name) > 0;
    if (f.required && !present) return -1;
    score += present ? 1 : 0;
  }
  if (score == 0) return -1;
  return names == NamesOf(p) ? score + 1000 : score;
}

std::vector<std::string> SplitHeader(std::string_view line, char delimiter) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  CsvReader reader(in, delimiter);
  CsvRecord rec;
  if (reader.Next(rec)) {
    for (std::string_view f : rec.fields) out.emplace_back(TrimField(f));
  }
  return out;
}

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

std::string DescribeRejection(const Rejection& r) {
  std::string out = r.file + " row " + std::to_string(r.row);
  if (!r.field.empty()) out += " field " + r.field;
  return out + ": " + r.reason;
}

struct ConnectorEngine::Impl {
  EngineOptions options;
  std::vector<Profile> own_profiles;     // from profiles_dir
  std::vector<const Profile*> profiles;  // sorted by name
  std::unique_ptr<PersonTokenizer> tokenizer;

  void ReadCsv(std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
               ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
               std::uint64_t total) const;
  void ReadJson(std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
                ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
                std::uint64_t total) const;
  void ReadXml(std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
               ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
               std::uint64_t total, bool transcoded) const;
};

ConnectorEngine::ConnectorEngine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.federation_key.empty()) {
    throw Error::InvalidInput("connector engine needs a federation key");
  }
  impl_->tokenizer = std::make_unique<PersonTokenizer>(impl_->options.federation_key);
  if (!impl_->options.profiles_dir.empty()) {
    impl_->own_profiles = LoadProfilesFromDir(impl_->options.profiles_dir);
    for (const Profile& p : impl_->own_profiles) impl_->profiles.push_back(&p);
  } else {
    for (const Profile& p : BuiltinProfiles()) impl_->profiles.push_back(&p);
  }
}

ConnectorEngine::~ConnectorEngine() = default;

const Profile& ConnectorEngine::FindProfile(const std::string& name) const {
  for (const Profile* p : impl_->profiles) {
    if (p->name == name) return *p;
  }
  throw Error::NotFound("unknown profile \"" + name + "\"");
}

std::vector<std::string> ConnectorEngine::ProfileNames() const {
  std::vector<std::string> names;
  for (const Profile* p : impl_->profiles) names.push_back(p->name);
  return names;
}

const Profile& ConnectorEngine::DetectProfile(const std::string& path) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::IoError("cannot open " + path);
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  const std::optional<std::string> utf16 = Utf16FromBom(head);
  if (utf16) {  // compare as UTF-8, as Read will read it
    std::string utf8;
    Iconv(*utf16).Convert(head.substr(2), utf8);
    head = std::move(utf8);
  }
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.erase(0, 3);
  std::size_t first = head.find_first_not_of(" \t\r\n");
  char lead = first == std::string::npos ? '\0' : head[first];
  std::string hub_province = impl_->options.origin_region.substr(0, 2);

  const Profile* best = nullptr;
  int best_score = -1;
  for (const Profile* p : impl_->profiles) {
    int score = -1;
    if (p->format == FileFormat::kCsv && lead != '[' && lead != '{' && lead != '<') {
      std::string line = head.substr(0, head.find('\n'));
      std::string decoded;
      if (!TextDecoder(utf16 ? TextEncoding::kUtf8 : p->encoding).Decode(line, decoded)) continue;
      std::vector<std::string> header = SplitHeader(decoded, p->delimiter);
      score = MatchScore(*p, std::set<std::string>(header.begin(), header.end()));
    } else if ((p->format == FileFormat::kJson || p->format == FileFormat::kNdjson) &&
               (lead == '[' || lead == '{')) {
      std::istringstream prefix(head);
      JsonElementReader reader(prefix);
      std::string_view element;
      std::int64_t row = 0;
      if (!reader.Next(element, row)) continue;
      try {
        Poco::JSON::Parser parser;
        Poco::Dynamic::Var v = parser.parse(std::string(element));
        if (v.type() != typeid(Poco::JSON::Object::Ptr)) continue;
        std::set<std::string> keys;
        for (const auto& [k, val] : *v.extract<Poco::JSON::Object::Ptr>()) keys.insert(k);
        score = MatchScore(*p, keys);
      } catch (const Poco::Exception&) {
        continue;
      }
    } else if (p->format == FileFormat::kXml && lead == '<') {
      auto has_element = [&head](const std::string& name) {  // any namespace prefix
        return head.find("<" + name) != std::string::npos ||
               head.find(":" + name) != std::string::npos;
      };
      if (has_element(p->xml_root) && has_element(p->xml_record)) {
        score = 1;
      }
    }
    if (score < 0) continue;
    if (p->region.substr(0, 2) == hub_province) score += 100;  // the hub's own region first
    if (score > best_score) {
      best = p;
      best_score = score;
    }
  }
  if (!best) {
    throw Error::InvalidInput("no profile matches " + BaseName(path) +
                              " (give --profile region/kind)");
  }
  return *best;
}

namespace {

// The encoding a file's bytes are in when it is not the profile's field encoding: a UTF-16
// byte-order mark (CSV, JSON; expat reads UTF-16 XML itself), or an XML declaration naming a
// legacy encoding (expat alone knows only UTF-8, UTF-16, US-ASCII and ISO-8859-1).
std::optional<std::string> WholeFileEncoding(std::ifstream& in, const Profile& profile) {
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  in.clear();
  in.seekg(0);
  if (profile.format == FileFormat::kXml) return XmlLegacyEncoding(head);
  return Utf16FromBom(head);
}

}  // namespace

ReadStats ConnectorEngine::Read(
    const std::string& path, const Profile& profile, RecordSink& sink,
    const std::function<void(std::uint64_t, std::uint64_t)>& on_progress) const {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error::IoError("cannot open " + path);
  std::unique_ptr<TranscodingStream> transcoded;
  Profile utf8_profile;  // the profile with UTF-8 fields, for a transcoded file
  if (std::optional<std::string> from = WholeFileEncoding(file, profile)) {
    try {
      transcoded = std::make_unique<TranscodingStream>(file, *from);
    } catch (const Error&) {
      throw Error::InvalidInput(BaseName(path) + ": the file is in encoding \"" + *from +
                                "\", which this hub cannot decode (write UTF-8)");
    }
    utf8_profile = profile;
    utf8_profile.encoding = TextEncoding::kUtf8;
  }
  const Profile& effective = transcoded ? utf8_profile : profile;
  std::istream& in = transcoded ? static_cast<std::istream&>(*transcoded) : file;
  std::error_code ec;
  std::uint64_t total = std::filesystem::file_size(path, ec);
  if (ec) total = 0;
  if (total > impl_->options.limits.max_file_bytes) {
    throw Error::InvalidInput(BaseName(path) + ": the file is " + std::to_string(total) +
                              " bytes, over the file limit of " +
                              std::to_string(impl_->options.limits.max_file_bytes) +
                              " (ingest --max-file-bytes)");
  }
  std::int64_t now = impl_->options.now_ms
                         ? impl_->options.now_ms()
                         : std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  ProcessorContext ctx;
  ctx.origin_region =
      impl_->options.origin_region.empty() ? profile.region : impl_->options.origin_region;
  ctx.tokenizer = impl_->tokenizer.get();
  ctx.file_name = BaseName(path);
  ctx.ingested_at_ms = now;
  ctx.max_field_bytes = impl_->options.limits.max_field_bytes;
  ctx.today =
      std::chrono::floor<std::chrono::days>(std::chrono::sys_time<std::chrono::milliseconds>(
          std::chrono::milliseconds(now + kChinaOffsetMs)));
  ReadStats stats;
  auto produce = [&](RecordSink& worker_sink, const ProgressFn& progress) {
    RowProcessor proc(effective, std::move(ctx));
    switch (effective.format) {
      case FileFormat::kCsv:
        impl_->ReadCsv(in, effective, proc, worker_sink, stats, progress, total);
        break;
      case FileFormat::kJson:
      case FileFormat::kNdjson:
        impl_->ReadJson(in, effective, proc, worker_sink, stats, progress, total);
        break;
      case FileFormat::kXml:
        impl_->ReadXml(in, effective, proc, worker_sink, stats, progress, total,
                       transcoded != nullptr);
        break;
    }
  };
  try {
    if (impl_->options.pipelined) {
      RunPipelined(produce, sink, on_progress);
    } else {
      produce(sink, on_progress);
    }
  } catch (const Error& e) {
    throw Error(e.kind(), BaseName(path) + ": " + e.what());  // name the file in every refusal
  }
  if (on_progress) on_progress(total, total);
  return stats;
}

void ConnectorEngine::Impl::ReadCsv(
    std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
    ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
    std::uint64_t total) const {
  CsvReader reader(in, profile.delimiter, true, options.limits.max_row_bytes);
  TextDecoder decoder(profile.encoding);
  const bool utf8 = profile.encoding == TextEncoding::kUtf8;
  CsvRecord rec;
  if (!reader.Next(rec)) throw Error::InvalidInput("empty file: no CSV header");
  // Columns are matched by header name, so reordered or extra columns are fine.
  std::vector<int> column_field(rec.fields.size(), -1);
  std::vector<std::size_t> field_column(profile.fields.size(), 0);  // 1-based, 0 = absent
  std::vector<std::string> column_names(rec.fields.size());
  std::string header_text;
  for (std::size_t c = 0; c < rec.fields.size(); ++c) {
    header_text.clear();
    if (!decoder.Decode(rec.fields[c], header_text) ||
        header_text.find('\0') != std::string::npos) {
      throw Error::InvalidInput("CSV header column " + std::to_string(c + 1) + " is not " +
                                std::string(TextEncodingName(profile.encoding)) + " text");
    }
    column_names[c] = ToNfc(TrimField(header_text));
    const std::string& name = column_names[c];
    for (std::size_t i = 0; i < profile.fields.size(); ++i) {
      if (profile.fields[i].name != name) continue;
      if (field_column[i] != 0) {  // which of the two holds the value would be a guess
        throw Error::InvalidInput("CSV header names column " + profile.fields[i].name +
                                  " twice (columns " + std::to_string(field_column[i]) + " and " +
                                  std::to_string(c + 1) + ")");
      }
      field_column[i] = c + 1;
      column_field[c] = static_cast<int>(i);
    }
  }
  for (std::size_t i = 0; i < profile.fields.size(); ++i) {
    if (!profile.fields[i].required) continue;
    bool found = false;
    for (int f : column_field) found = found || f == static_cast<int>(i);
    if (!found) {
      throw Error::InvalidInput("CSV header lacks column " + profile.fields[i].name + ": not a " +
                                profile.name + " export");
    }
  }
  const std::size_t columns = rec.fields.size();
  std::vector<std::string_view> values(profile.fields.size());
  std::vector<std::size_t> offsets(columns);
  std::string decoded;
  std::int64_t row = 0;
  std::uint64_t next_progress = kProgressStep;
  while (reader.Next(rec)) {
    if (!rec.malformed && IsDelimiterOnly(rec.raw, profile.delimiter)) continue;
    ++row;
    if (progress && reader.bytes_consumed() >= next_progress) {
      progress(reader.bytes_consumed(), total);
      next_progress = reader.bytes_consumed() + kProgressStep;
    }
    if (rec.malformed) {
      proc.Malformed(row, "", rec.problem, DecodedRaw(decoder, rec.raw).Text(), sink, stats);
      continue;
    }
    if (rec.fields.size() != columns) {
      std::string problem = "has " + std::to_string(rec.fields.size()) +
                            " columns, the header has " + std::to_string(columns);
      if (reader.CutAfterFirstLine(rec)) {
        problem +=
            "; its quoted field spans lines (stray quote?), so only this line is counted "
            "as the row and the next line is read as a new row";
      }
      proc.Malformed(row, "", problem, DecodedRaw(decoder, rec.raw).Text(), sink, stats);
      continue;
    }
    DecodedRaw raw(decoder, rec.raw);
    if (int nul = ColumnWithNul(rec.fields); nul >= 0) {
      proc.Malformed(row, column_names[nul], "holds a NUL byte", VisibleNuls(raw.Text()), sink,
                     stats);
      continue;
    }
    for (auto& v : values) v = {};
    int bad_column = -1;
    if (utf8) {
      for (std::size_t c = 0; c < columns; ++c) {
        if (!IsValidUtf8(rec.fields[c])) {
          bad_column = static_cast<int>(c);
          break;
        }
        if (column_field[c] >= 0) values[column_field[c]] = rec.fields[c];
      }
    } else {
      decoded.clear();
      for (std::size_t c = 0; c < columns; ++c) {
        offsets[c] = decoded.size();
        if (!decoder.Decode(rec.fields[c], decoded)) {
          bad_column = static_cast<int>(c);
          break;
        }
      }
      if (bad_column < 0) {
        for (std::size_t c = 0; c < columns; ++c) {
          std::size_t end = c + 1 < columns ? offsets[c + 1] : decoded.size();
          if (column_field[c] >= 0) {
            values[column_field[c]] =
                std::string_view(decoded).substr(offsets[c], end - offsets[c]);
          }
        }
      }
    }
    if (bad_column >= 0) {
      proc.Malformed(row, column_names[bad_column],
                     "bytes that are not valid " + std::string(TextEncodingName(profile.encoding)),
                     raw.Text(), sink, stats);
      continue;
    }
    proc.Process(row, values, raw, sink, stats);
  }
}

void ConnectorEngine::Impl::ReadJson(
    std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
    ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
    std::uint64_t total) const {
  JsonElementReader reader(in, options.limits.max_row_bytes, options.limits.max_depth);
  Poco::SharedPtr<DuplicateKeyHandler> handler = new DuplicateKeyHandler;
  Poco::JSON::Parser parser(handler);
  parser.setDepth(static_cast<std::size_t>(options.limits.max_depth));
  std::vector<std::string> holders(profile.fields.size());
  std::vector<std::string_view> values(profile.fields.size());
  std::vector<bool> present(profile.fields.size());
  std::unordered_map<std::string, std::size_t> field_by_key;
  for (std::size_t i = 0; i < profile.fields.size(); ++i) field_by_key[profile.fields[i].name] = i;
  std::string_view element;
  std::int64_t row = 0;
  std::uint64_t next_progress = kProgressStep;
  while (reader.Next(element, row)) {
    if (progress && reader.bytes_consumed() >= next_progress) {
      progress(reader.bytes_consumed(), total);
      next_progress = reader.bytes_consumed() + kProgressStep;
    }
    TextRaw raw(element);
    if (!IsValidUtf8(element)) {
      std::string lossy;
      TextDecoder(TextEncoding::kUtf8).DecodeLossy(element, lossy);
      proc.Malformed(row, "", "bytes that are not valid utf-8", std::move(lossy), sink, stats);
      continue;
    }
    if (!reader.problem().empty()) {
      proc.Malformed(row, "", reader.problem(), raw.Text(), sink, stats);
      continue;
    }
    Poco::JSON::Object::Ptr obj;
    try {
      parser.reset();
      handler->reset();
      Poco::Dynamic::Var v = parser.parse(std::string(element));
      if (v.type() == typeid(Poco::JSON::Object::Ptr)) obj = v.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
      proc.Malformed(row, "", "not valid JSON", raw.Text(), sink, stats);
      continue;
    }
    if (!obj) {
      proc.Malformed(row, "", "the element is not a JSON object", raw.Text(), sink, stats);
      continue;
    }
    std::string bad_field;
    std::string bad_reason;
    for (std::size_t i = 0; i < profile.fields.size(); ++i) {
      holders[i].clear();
      values[i] = {};
      present[i] = false;
    }
    for (const auto& [raw_key, v] : *obj) {
      const std::string key = ToNfc(raw_key);
      auto it = field_by_key.find(key);
      if (it == field_by_key.end()) continue;
      const std::size_t i = it->second;
      if (present[i] || handler->duplicates().count(raw_key)) {  // also two spellings, one NFC
        bad_field = key;
        bad_reason = "the key is given twice in the object";
        break;
      }
      present[i] = true;
      if (v.isEmpty()) continue;
      if (v.type() == typeid(Poco::JSON::Object::Ptr) ||
          v.type() == typeid(Poco::JSON::Array::Ptr)) {
        bad_field = key;
        bad_reason = "holds an object or array, not a value";
        break;
      }
      holders[i] = v.isString() ? v.extract<std::string>() : v.convert<std::string>();
      if (holders[i].find('\0') != std::string::npos) {
        bad_field = key;
        bad_reason = "holds a NUL character (\\u0000)";
        break;
      }
      values[i] = holders[i];
    }
    if (!bad_field.empty()) {
      proc.Malformed(row, bad_field, bad_reason, raw.Text(), sink, stats);
      continue;
    }
    proc.Process(row, values, raw, sink, stats);
  }
}

void ConnectorEngine::Impl::ReadXml(
    std::istream& in, const Profile& profile, RowProcessor& proc, RecordSink& sink,
    ReadStats& stats, const std::function<void(std::uint64_t, std::uint64_t)>& progress,
    std::uint64_t total, bool transcoded) const {
  XmlRecordReader reader(profile, options.limits);
  std::vector<std::string_view> values(profile.fields.size());
  reader.Read(
      in,
      [&](XmlRecord& rec) {
        if (progress && rec.row % 20000 == 0) {
          std::streamoff at = in.tellg();
          progress(at > 0 ? static_cast<std::uint64_t>(at) : 0, total);
        }
        if (!rec.problem.empty()) {
          proc.Malformed(rec.row, rec.problem_field, rec.problem, rec.Raw(profile), sink, stats);
          return;
        }
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = rec.values[i];
        class XmlRaw : public RawRow {
         public:
          XmlRaw(const XmlRecord& r, const Profile& p) : r_(r), p_(p) {}
          std::string Text() const override { return r_.Raw(p_); }

         private:
          const XmlRecord& r_;
          const Profile& p_;
        } raw(rec, profile);
        proc.Process(rec.row, values, raw, sink, stats);
      },
      transcoded);
}

}  // namespace carehub
