// NativeWriter: rows -> the profile's file format and encoding, streamed through a buffer.
#include <Poco/Windows936Encoding.h>
#include <Poco/Windows950Encoding.h>

#include "connectors/csv_reader.h"
#include "connectors/generator_internal.h"
#include "connectors/xml_reader.h"
#include "schemas/error.h"

namespace carehub {
namespace {

constexpr std::size_t kFlushAt = 1 << 20;

bool IsNumber(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "\"";
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  AppendXmlEscaped(out, text);
  return out;
}

}  // namespace

NativeWriter::NativeWriter(const Profile& profile, const std::string& path)
    : profile_(profile), path_(path), out_(path, std::ios::binary | std::ios::trunc) {
  if (!out_) throw Error::IoError("cannot create " + path);
  if (profile.encoding == TextEncoding::kGbk)
    target_ = std::make_unique<Poco::Windows936Encoding>();
  // The generator's names are all in code page 950, which Big5-HKSCS extends: one encoder.
  if (profile.encoding == TextEncoding::kBig5 || profile.encoding == TextEncoding::kBig5Hkscs)
    target_ = std::make_unique<Poco::Windows950Encoding>();
  const std::string eol = profile.crlf ? "\r\n" : "\n";
  switch (profile.format) {
    case FileFormat::kCsv: {
      if (profile.bom && profile.encoding == TextEncoding::kUtf8) buffer_ += "\xEF\xBB\xBF";
      std::string header;
      for (std::size_t i = 0; i < profile.fields.size(); ++i) {
        if (i > 0) header.push_back(profile.delimiter);
        header += profile.fields[i].name;
      }
      Put(header + eol);
      break;
    }
    case FileFormat::kJson:
      Put("[\n");
      break;
    case FileFormat::kNdjson:
      break;
    case FileFormat::kXml:
      Put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + profile.xml_root + ">\n");
      break;
  }
}

void NativeWriter::Write(const GeneratedRow& row) {
  std::string text;
  const auto& fields = profile_.fields;
  switch (profile_.format) {
    case FileFormat::kCsv: {
      // A malformed row either loses its last column (the reader sees the wrong column count)
      // or carries a byte that decodes in no encoding (0xFF, marked \x01 until encoded).
      const std::size_t columns =
          row.malformed && !row.undecodable ? fields.size() - 1 : fields.size();
      for (std::size_t i = 0; i < columns; ++i) {
        if (i > 0) text.push_back(profile_.delimiter);
        if (i == columns - 1 && row.undecodable) text.push_back('\x01');
        AppendCsvField(text, row.values[i], profile_.delimiter);
      }
      text += profile_.crlf ? "\r\n" : "\n";
      break;
    }
    case FileFormat::kJson:
    case FileFormat::kNdjson: {
      if (profile_.format == FileFormat::kJson && written_ > 0) text += ",\n";
      if (row.malformed) {
        text += "42";  // valid JSON, but not a record object
      } else {
        text += "{";
        for (std::size_t i = 0; i < fields.size(); ++i) {
          if (i > 0) text += ", ";
          text += JsonString(fields[i].name) + ": ";
          text += fields[i].json_number && IsNumber(row.values[i]) ? row.values[i]
                                                                   : JsonString(row.values[i]);
        }
        text += "}";
      }
      if (profile_.format == FileFormat::kNdjson) text += "\n";
      break;
    }
    case FileFormat::kXml: {
      // A malformed record gives its first child element twice.
      text += "  <" + profile_.xml_record;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].xml_attribute) {
          text += " " + fields[i].name + "=\"" + XmlEscape(row.values[i]) + "\"";
        }
      }
      text += ">";
      bool doubled = !row.malformed;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].xml_attribute) continue;
        const std::string element =
            "<" + fields[i].name + ">" + XmlEscape(row.values[i]) + "</" + fields[i].name + ">";
        text += element;
        if (!doubled) text += element, doubled = true;
      }
      text += "</" + profile_.xml_record + ">\n";
      break;
    }
  }
  const std::size_t start = buffer_.size();
  Put(text);
  if (row.undecodable) buffer_[buffer_.find('\x01', start)] = '\xFF';
  ++written_;
  if (buffer_.size() >= kFlushAt) Flush();
}

void NativeWriter::Close() {
  if (profile_.format == FileFormat::kJson) Put(written_ > 0 ? "\n]\n" : "]\n");
  if (profile_.format == FileFormat::kXml) Put("</" + profile_.xml_root + ">\n");
  Flush();
  out_.close();
  if (!out_) throw Error::IoError("cannot write " + path_);
}

void NativeWriter::Flush() {
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
}

void NativeWriter::Put(std::string_view utf8) {
  if (!target_) {
    buffer_.append(utf8);
    return;
  }
  for (std::size_t i = 0; i < utf8.size();) {
    const unsigned char lead = static_cast<unsigned char>(utf8[i]);
    if (lead < 0x80) {
      buffer_.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    const int length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    int code_point = lead & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (int k = 1; k < length && i + k < utf8.size(); ++k) {
      code_point = (code_point << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    }
    i += length;
    auto it = encoded_.find(code_point);
    if (it == encoded_.end()) {
      unsigned char bytes[4];
      const int n = target_->convert(code_point, bytes, sizeof bytes);
      if (n <= 0) {
        throw Error::InvalidInput("generator: character U+" + std::to_string(code_point) +
                                  " has no " + std::string(TextEncodingName(profile_.encoding)) +
                                  " form");
      }
      it = encoded_.emplace(code_point, std::string(reinterpret_cast<char*>(bytes), n)).first;
    }
    buffer_ += it->second;
  }
}

}  // namespace carehub
