// Streaming reader for XML exports: <root><record a="..."><field>text</field>...</record>...</root>
// as declared by a profile (xml.root, xml.record, fields as child elements or attributes),
// built on Poco::XML::SAXParser so memory stays constant whatever the file size. Each record
// element is handed to a callback as field values in profile field order. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector.h"
#include "connectors/profile.h"

namespace carehub {

class XmlRawWindow;  // connectors/xml_raw_window.h

struct XmlRecord {
  std::int64_t row = 0;             // 1-based index of the record element
  std::vector<std::string> values;  // per Profile::fields index; "" when absent
  // Non-empty when the record element cannot be read: a field element holding elements, a field
  // given twice, text directly inside the record, or an XML syntax error inside it.
  std::string problem;
  std::string problem_field;  // native name, "" for the whole record
  // The record's own bytes in the file (decoded to UTF-8 when the file was transcoded), cut at
  // limits.max_row_bytes; valid during the callback only. Unset when they could not be located
  // (an element that came out of an entity reference).
  std::optional<std::string_view> original;
  // Or where the reader can find them when asked (only a rejected row's are looked up).
  XmlRawWindow* raw_window = nullptr;
  int raw_line = 0;
  int raw_column = 0;
  // For the quarantine only: `original`, else the record rebuilt from the values read.
  std::string Raw(const Profile& profile) const;
};

class XmlRecordReader {
 public:
  // A field value is kept up to limits.max_field_bytes + 1 bytes (so the engine sees it is too
  // long); a record longer than limits.max_row_bytes is a problem (its raw text cut there).
  // Elements nested deeper than limits.max_depth stop the parse at once: the open record is the
  // last one, a problem naming the limit (outside a record the file is refused).
  XmlRecordReader(const Profile& profile, const ReadLimits& limits = {});

  // Calls `on_record` once per record element, in file order. Throws Error::InvalidInput when
  // the document is not XML or its root element is not the profile's. A syntax error after the
  // root element ends the read with one last record carrying the problem (the rest of the file
  // cannot be read by a conforming parser). Element and attribute names are matched by local
  // name with any namespace prefix (see Profile::xml_namespace), in Unicode NFC.
  // `transcoded_to_utf8`: `in` was converted to UTF-8 (connectors/transcoding_stream.h) whatever
  // the declaration says.
  void Read(std::istream& in, const std::function<void(XmlRecord&)>& on_record,
            bool transcoded_to_utf8 = false);

 private:
  const Profile& profile_;
  ReadLimits limits_;
};

// Appends `text` with &, <, > and " escaped: for element text and double-quoted attributes
// (the raw rows kept in quarantine, the generator's XML files).
void AppendXmlEscaped(std::string& out, std::string_view text);

}  // namespace carehub
