#include "cli/command.h"

#include <charconv>

#include "schemas/error.h"

namespace carehub::cli {

std::optional<std::string> ParsedArgs::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string ParsedArgs::GetOr(const std::string& name, const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

std::string ParsedArgs::Require(const std::string& name) const {
  auto value = Get(name);
  if (!value) throw Error::InvalidInput("missing required option --" + name);
  return *value;
}

long long ParsedArgs::GetInt(const std::string& name, long long fallback) const {
  auto value = Get(name);
  if (!value) return fallback;
  long long result = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), result);
  if (ec != std::errc() || end != value->data() + value->size()) {
    throw Error::InvalidInput("option --" + name + ": '" + *value + "' is not an integer");
  }
  return result;
}

double ParsedArgs::GetDouble(const std::string& name, double fallback) const {
  auto value = Get(name);
  if (!value) return fallback;
  try {
    std::size_t used = 0;
    double result = std::stod(*value, &used);
    if (used == value->size()) return result;
  } catch (const std::exception&) {
  }
  throw Error::InvalidInput("option --" + name + ": '" + *value + "' is not a number");
}

const std::vector<std::string>& ParsedArgs::All(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

Poco::Util::Option ValueOption(const std::string& name, const std::string& description,
                               const std::string& arg_name, bool required) {
  return Poco::Util::Option(name, "", description, required)
      .argument(arg_name)
      .repeatable(true);
}

Poco::Util::Option FlagOption(const std::string& name, const std::string& description) {
  return Poco::Util::Option(name, "", description, false).repeatable(true);
}

}  // namespace carehub::cli
