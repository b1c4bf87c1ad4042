#include "connectors/xml_reader.h"

#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/InputSource.h>
#include <Poco/SAX/Locator.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/SAXParser.h>
#include <Poco/XML/XMLException.h>

#include <algorithm>
#include <exception>
#include <unordered_map>

#include "connectors/unicode_nfc.h"
#include "connectors/xml_raw_window.h"
#include "schemas/error.h"

namespace carehub {
namespace {

// Thrown from the handler to stop expat at once (as Poco's own handler errors do): nesting past
// the depth limit is not read any further.
struct DepthExceeded {};

class Handler : public Poco::XML::DefaultHandler {
 public:
  Handler(const Profile& profile, const ReadLimits& limits,
          const std::function<void(XmlRecord&)>& on_record, XmlRawWindow& window)
      : profile_(profile), limits_(limits), on_record_(on_record), window_(window) {
    record_.values.resize(profile.fields.size());
    seen_.resize(profile.fields.size());
    for (std::size_t i = 0; i < profile.fields.size(); ++i) {
      if (profile.fields[i].xml_attribute) {
        attributes_.emplace(profile.fields[i].name, static_cast<int>(i));
      } else {
        elements_.emplace(profile.fields[i].name, static_cast<int>(i));
      }
    }
  }

  void setDocumentLocator(const Poco::XML::Locator* locator) override { locator_ = locator; }

  // Names are matched by local name in NFC, whatever prefix the file binds (zj:Export, Export
  // with a default namespace); the root and record must be in the profile's namespace when it
  // has one.
  void startElement(const Poco::XML::XMLString& uri, const Poco::XML::XMLString& local_name,
                    const Poco::XML::XMLString&, const Poco::XML::Attributes& attrs) override {
    ++depth_;
    if (failed_) return;
    if (depth_ > limits_.max_depth) {
      if (locator_ != nullptr) {
        stop_line_ = locator_->getLineNumber();
        stop_column_ = locator_->getColumnNumber();
      }
      throw DepthExceeded{};
    }
    const std::string& qname = Nfc(local_name, nfc_name_);
    const bool in_namespace = profile_.xml_namespace.empty() || uri == profile_.xml_namespace;
    if (depth_ == 1) {
      root_seen_ = true;
      if (qname != profile_.xml_root || !in_namespace) {
        root_error_ =
            "root element is <" + qname + (uri.empty() ? "" : " in namespace " + uri) +
            ">, expected <" + profile_.xml_root +
            (profile_.xml_namespace.empty() ? "" : " in namespace " + profile_.xml_namespace) + ">";
        failed_ = true;
      }
      return;
    }
    if (depth_ == 2) {
      in_record_ = qname == profile_.xml_record && in_namespace;
      if (!in_record_) return;
      BeginRecord();
      if (locator_ != nullptr) {
        window_.BeginRecord(locator_->getLineNumber(), locator_->getColumnNumber());
      }
      for (int i = 0; i < attrs.getLength(); ++i) {
        auto it = attributes_.find(Nfc(attrs.getLocalName(i), nfc_attribute_));
        if (it != attributes_.end()) {
          record_.values[it->second] = attrs.getValue(i).substr(0, limits_.max_field_bytes + 1);
          seen_[it->second] = true;
        }
      }
      return;
    }
    if (!in_record_) return;
    if (depth_ == 3) {
      auto it = elements_.find(qname);
      field_ = it == elements_.end() ? -1 : it->second;
      if (field_ >= 0) {
        if (seen_[field_]) Problem("field element given twice", qname);
        seen_[field_] = true;
        record_.values[field_].clear();
      }
      return;
    }
    if (depth_ == 4 && field_ >= 0) {
      Problem("field element holds elements", profile_.fields[field_].name);
    }
  }

  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&,
                  const Poco::XML::XMLString&) override {
    if (!failed_ && in_record_) {
      if (depth_ == 3) field_ = -1;
      if (depth_ == 2) {
        in_record_ = false;
        window_.EndRecord();
        const int line = locator_ ? locator_->getLineNumber() : -1;
        const int column = locator_ ? locator_->getColumnNumber() : -1;
        if (locator_ != nullptr && !window_.record_may_exceed()) {
          record_.raw_window = &window_;  // looked up only for a rejected row
          record_.raw_line = line;
          record_.raw_column = column;
        } else if (locator_ != nullptr) {
          bool cut = false;
          record_.original = window_.RecordBytes(line, column, cut);
          if (cut || window_.record_cut()) {
            record_.problem.clear();  // the row limit comes first: the rest was not all kept
            Problem("the record is longer than the row limit of " +
                        std::to_string(limits_.max_row_bytes) + " bytes",
                    "");
          }
        }
        Emit();
        record_.original.reset();
        record_.raw_window = nullptr;
      }
    }
    --depth_;
  }

  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (failed_ || !in_record_) return;
    if (depth_ == 3 && field_ >= 0) {
      std::string& value = record_.values[field_];
      const std::size_t room =
          limits_.max_field_bytes + 1 - std::min(value.size(), limits_.max_field_bytes + 1);
      value.append(ch + start, std::min(static_cast<std::size_t>(length), room));
    } else if (depth_ == 2) {
      for (int i = start; i < start + length; ++i) {
        char c = ch[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
          Problem("text directly inside the record element", "");
          break;
        }
      }
    }
  }

  // A syntax error: reports the open record (or a new one) as unreadable. False if the error
  // came before the root element (not an XML file of this profile at all).
  bool SyntaxError(const std::string& what, int line, int column) {
    if (!root_seen_) return false;
    bool cut = false;
    if (in_record_) {
      record_.original = window_.OpenRecordBytes(line, column, cut);
    } else {
      BeginRecord();
    }
    in_record_ = false;
    Problem("XML syntax error: " + what, "");
    Emit();
    record_.original.reset();
    return true;
  }

  // The parse stopped at an element past the depth limit: the open record is its last, a
  // problem; outside a record the file is refused.
  void DepthStop() {
    const std::string what =
        "elements nested deeper than the limit of " + std::to_string(limits_.max_depth);
    if (!in_record_) throw Error::InvalidInput(what + " outside any record");
    bool cut = false;
    record_.original = window_.OpenRecordBytes(stop_line_, stop_column_, cut);
    in_record_ = false;
    record_.problem.clear();  // the reason the read stops is the one to tell
    Problem(what + "; the rest of the file is not read", "");
    Emit();
    record_.original.reset();
  }

  std::exception_ptr failure() const { return failure_; }
  const std::string& root_error() const { return root_error_; }

 private:
  void BeginRecord() {
    ++row_;
    record_.row = row_;
    record_.problem.clear();
    record_.problem_field.clear();
    for (std::size_t i = 0; i < record_.values.size(); ++i) {
      record_.values[i].clear();
      seen_[i] = false;
    }
    field_ = -1;
  }

  // `name` in NFC, in `buffer` unless it is ASCII (most files' names pass as they are).
  static const std::string& Nfc(const std::string& name, std::string& buffer) {
    if (IsAscii(name)) return name;
    buffer = ToNfc(name);
    return buffer;
  }

  void Problem(const std::string& what, const std::string& field) {
    if (!record_.problem.empty()) return;
    record_.problem = what;
    record_.problem_field = field;
  }

  void Emit() {
    // Exceptions must not unwind through expat's C frames: keep the first and stop delivering.
    try {
      on_record_(record_);
    } catch (...) {
      failure_ = std::current_exception();
      failed_ = true;
    }
  }

  const Profile& profile_;
  const ReadLimits& limits_;
  const std::function<void(XmlRecord&)>& on_record_;
  XmlRawWindow& window_;
  const Poco::XML::Locator* locator_ = nullptr;
  std::string nfc_name_;
  std::string nfc_attribute_;
  int stop_line_ = -1;  // where the element past the depth limit starts
  int stop_column_ = -1;
  std::unordered_map<std::string, int> elements_;
  std::unordered_map<std::string, int> attributes_;
  XmlRecord record_;
  std::vector<bool> seen_;
  int depth_ = 0;
  int field_ = -1;
  bool in_record_ = false;
  bool root_seen_ = false;
  bool failed_ = false;
  std::int64_t row_ = 0;
  std::exception_ptr failure_;
  std::string root_error_;
};

}  // namespace

std::string XmlRecord::Raw(const Profile& profile) const {
  if (original) return std::string(*original);
  if (raw_window != nullptr) {
    bool cut = false;
    if (const auto bytes = raw_window->RecordBytes(raw_line, raw_column, cut)) {
      return std::string(*bytes);
    }
  }
  std::string out = "<" + profile.xml_record;
  for (std::size_t i = 0; i < profile.fields.size() && i < values.size(); ++i) {
    if (!profile.fields[i].xml_attribute || values[i].empty()) continue;
    out += " " + profile.fields[i].name + "=\"";
    AppendXmlEscaped(out, values[i]);
    out += "\"";
  }
  out += ">";
  for (std::size_t i = 0; i < profile.fields.size() && i < values.size(); ++i) {
    if (profile.fields[i].xml_attribute || values[i].empty()) continue;
    out += "<" + profile.fields[i].name + ">";
    AppendXmlEscaped(out, values[i]);
    out += "</" + profile.fields[i].name + ">";
  }
  out += "</" + profile.xml_record + ">";
  return out;
}

XmlRecordReader::XmlRecordReader(const Profile& profile, const ReadLimits& limits)
    : profile_(profile), limits_(limits) {}

void XmlRecordReader::Read(std::istream& in, const std::function<void(XmlRecord&)>& on_record,
                           bool transcoded_to_utf8) {
  XmlRawWindow window(in.rdbuf(), limits_.max_row_bytes);
  std::istream windowed(&window);
  Handler handler(profile_, limits_, on_record, window);
  Poco::XML::SAXParser parser;
  parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, true);
  if (transcoded_to_utf8) parser.setEncoding("UTF-8");  // overrides the declaration
  parser.setContentHandler(&handler);
  Poco::XML::InputSource source(windowed);
  try {
    parser.parse(&source);
  } catch (const DepthExceeded&) {
    handler.DepthStop();
  } catch (const Poco::Exception& e) {
    if (!handler.root_error().empty()) throw Error::InvalidInput(handler.root_error());
    const auto* located = dynamic_cast<const Poco::XML::SAXParseException*>(&e);
    if (!handler.SyntaxError(e.message().empty() ? e.displayText() : e.message(),
                             located ? located->getLineNumber() : -1,
                             located ? located->getColumnNumber() : -1)) {
      throw Error::InvalidInput("not an XML file of root <" + profile_.xml_root +
                                ">: " + e.displayText());
    }
  }
  if (!handler.root_error().empty()) throw Error::InvalidInput(handler.root_error());
  if (handler.failure()) std::rethrow_exception(handler.failure());
}

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace carehub
