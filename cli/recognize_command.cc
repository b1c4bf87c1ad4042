// `carehub recognize`: does region REGION recognise what this hub knows?
//   --dir D (--id ID | --token HEX) --to REGION [--on DATE] [--json]   a person's records
//   --dir D --facility USCC_OR_LOCAL_ID --to REGION [--on DATE] [--json]
//   --dir D --all --to REGION [--on DATE] [--json]   every record, written to `recognitions`
// --id computes the person tokens locally (connectors/person_token.h); the identifier itself is
// never stored or printed, nor are the tokens. --rules DIR replaces the compiled-in rules.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <cstring>
#include <iomanip>
#include <iostream>

#include "cli/command.h"
#include "connectors/identifiers.h"
#include "connectors/person_token.h"
#include "hub/store/access_log.h"
#include "hub/store/recognitions.h"
#include "mapping/engine.h"
#include "schemas/error.h"

namespace carehub::cli {
namespace {

using mapping::Decision;
using mapping::RuleBook;

Date Today() { return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()); }

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Hmac256 ParseTokenOption(const std::string& text) {
  const auto token = ParseTokenHex(text);
  if (!token) throw Error::InvalidInput("option --token: expected 64 hex digits");
  return *token;
}

std::string NativeText(const NativeLevel& native) {
  std::string text = native.scale + " " + native.code;
  if (!native.label.empty() && native.label != native.code) text += " (" + native.label + ")";
  return text;
}

void PrintText(const RecognizedRecord& item, const RuleBook& book, std::ostream& out) {
  const Decision& d = item.decision;
  out << KindName(item.record.kind()) << " " << item.stored.record_id << " v" << item.stored.version
      << " from " << item.stored.origin << " (" << item.record.provenance.profile
      << "): " << NativeText(NativeLevelOf(item.record)) << ", " << EventDateText(item.record)
      << ", " << StatusName(item.record.status) << "\n";
  out << "  => " << mapping::OutcomeName(d.outcome);
  if (d.target_scale >= 0 && d.target_level >= 0) {
    const auto& level = book.scale(d.target_scale).levels[d.target_level];
    out << ": " << book.scale(d.target_scale).id << " " << level.code;
    if (level.label != level.code) out << " (" << level.label << ")";
    if (d.target_upper >= 0) {
      out << " .. " << book.scale(d.target_scale).levels[d.target_upper].code;
    }
  }
  out << "\n";
  if (!d.RuleText().empty()) {
    out << "     rule " << d.RuleText() << ", " << mapping::EquivalenceName(d.equivalence)
        << (d.lossy() ? " (lossy)" : "") << ", " << (d.documented ? "documented" : "proposed")
        << "\n";
  }
  if (!d.PolicyText().empty()) out << "     policy " << d.PolicyText() << "\n";
  if (d.legal_basis != nullptr) {
    out << "     legal basis " << d.legal_basis->document
        << (d.legal_basis->article.empty() ? "" : " " + d.legal_basis->article)
        << (d.legal_basis->documented ? "" : " (not documented)") << "\n";
  }
  int n = 0;
  for (const auto& text : mapping::ReasonTexts(d, book)) {
    out << "     " << ++n << ". " << text << "\n";
  }
}

class RecognizeCommand : public Command {
 public:
  std::string_view name() const override { return "recognize"; }
  std::string_view summary() const override {
    return "decide whether a region recognises a person's, a facility's or every record";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "hub directory", "DIR"));
    options.addOption(
        ValueOption("id", "person identifier (tokens computed locally; never stored)", "ID"));
    options.addOption(ValueOption("token", "person token (64 hex digits)", "HEX"));
    options.addOption(ValueOption("facility", "facility / organisation USCC or local id", "ID"));
    options.addOption(FlagOption("all", "decide every record and store the decisions"));
    options.addOption(ValueOption(
        "to", "target region: code (440400) or alias (sh js zj ah gd hk mo)", "REGION"));
    options.addOption(ValueOption("on", "decision date YYYY-MM-DD (default today)", "DATE"));
    options.addOption(
        ValueOption("rules", "rule files to use instead of the compiled-in ones", "DIR"));
    options.addOption(FlagOption("json", "print JSON"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const int modes = (args.Has("id") || args.Has("token") ? 1 : 0) +
                      (args.Has("facility") ? 1 : 0) + (args.Has("all") ? 1 : 0);
    if (modes != 1) {
      throw Error::InvalidInput("give exactly one of --id/--token, --facility or --all");
    }
    const std::string to = args.Require("to");
    const auto target = mapping::ParseRegion(to);
    if (!target)
      throw Error::InvalidInput("option --to: '" + to + "' is not a region code or alias");
    Date on = Today();
    if (auto text = args.Get("on")) {
      auto parsed = ParseIsoDate(*text);
      if (!parsed) throw Error::InvalidInput("option --on: '" + *text + "' is not YYYY-MM-DD");
      on = *parsed;
    }
    const RuleBook book = RuleBook::Load(args.Get("rules"));
    Store store = Store::Open(args.Require("dir"));
    Recognizer recognizer(store, book);
    const bool json = args.Has("json");

    if (args.Has("all")) return All(recognizer, *target, on, json, out);

    std::vector<RecognizedRecord> items;
    std::string subject;
    if (args.Has("facility")) {
      items = recognizer.ForOrganisation(args.Require("facility"), *target, on);
      subject = "organisation " + args.Require("facility");
    } else {
      std::vector<Hmac256> tokens;
      for (const auto& hex : args.All("token")) tokens.push_back(ParseTokenOption(hex));
      for (const auto& id : args.All("id")) {
        for (const auto& token : TokensForId(id, store)) tokens.push_back(token);
      }
      items = recognizer.ForPerson(tokens, *target, on);
      subject = "person (" + std::to_string(tokens.size()) + " token" +
                (tokens.size() == 1 ? "" : "s") + ")";
      LogPersonLookup(store, tokens, items, args.Has("id"));
    }
    std::string target_name = target->ToString();
    for (mapping::RegionCode r : {*target, target->City(), target->Province()}) {
      if (const auto* set = book.RegionRules(r, on)) {
        target_name += " (" + set->name + ")";
        break;
      }
    }
    if (json) {
      Poco::JSON::Object::Ptr root = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      root->set("subject", subject);
      root->set("target", target->ToString());
      root->set("on", FormatIsoDate(on));
      Poco::JSON::Array::Ptr records = new Poco::JSON::Array;
      for (const auto& item : items) records->add(RecognizedRecordJson(item, book));
      root->set("records", records);
      root->stringify(out, 2);
      out << "\n";
    } else {
      out << subject << ": " << items.size() << " record" << (items.size() == 1 ? "" : "s")
          << " in hub " << store.region() << "; target " << target_name << " on "
          << FormatIsoDate(on) << "\n";
      for (const auto& item : items) {
        out << "\n";
        PrintText(item, book, out);
      }
    }
    return 0;
  }

 private:
  // A person's records shown on this machine go to the access log (hub/store/access_log.h) like
  // the HTTP API's, under the OS user.
  static void LogPersonLookup(Store& store, const std::vector<Hmac256>& tokens,
                              const std::vector<RecognizedRecord>& items, bool by_identifier) {
    AccessEntry entry;
    entry.actor = OsActor();
    entry.role = "cli";
    entry.route = by_identifier ? "carehub recognize --id" : "carehub recognize --token";
    entry.count = static_cast<std::int64_t>(items.size());
    for (const auto& item : items) entry.record_ids.push_back(item.stored.record_id);
    entry.person_tokens = tokens;
    AppendAccess(store, std::move(entry));
  }

  // The token of the identifier under every scheme whose format it has (a PRC id, an HKID or a
  // Macau id); the identifier stays in this process and is never echoed, even in errors.
  static std::vector<Hmac256> TokensForId(std::string raw, Store& store) {
    std::vector<Hmac256> tokens =
        PersonTokensOfIdentifier(raw, PersonTokenizer(store.federation_key()));
    if (tokens.empty()) {
      throw Error::InvalidInput(
          "option --id: not a valid PRC resident id, HKID or Macau id (check digit or format)");
    }
    return tokens;
  }

  static int All(Recognizer& recognizer, mapping::RegionCode target, Date on, bool json,
                 std::ostream& out) {
    const RecognitionSummary s = recognizer.DecideAll(target, on, NowMs());
    std::map<std::string, std::int64_t> by_outcome;
    std::map<std::string, std::map<std::string, std::int64_t>> by_origin;
    for (const auto& [key, count] : s.by_outcome_origin) {
      by_outcome[key.first] += count;
      by_origin[key.second][key.first] += count;
    }
    const char* kOutcomes[] = {"recognised", "recognised_with_conditions", "reassessment_required",
                               "not_recognised"};
    if (json) {
      Poco::JSON::Object::Ptr root = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      root->set("target", s.target);
      root->set("on", FormatIsoDate(s.on));
      root->set("records", s.records);
      root->set("sanctions_indexed", s.sanctions_indexed);
      Poco::JSON::Object::Ptr outcomes = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      for (const char* o : kOutcomes) outcomes->set(o, by_outcome[o]);
      root->set("by_outcome", outcomes);
      Poco::JSON::Object::Ptr origins = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      for (const auto& [origin, counts] : by_origin) {
        Poco::JSON::Object::Ptr row = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const char* o : kOutcomes) row->set(o, counts.count(o) ? counts.at(o) : 0);
        origins->set(origin, row);
      }
      root->set("by_origin", origins);
      root->set("seconds_total", s.seconds_total);
      root->set("seconds_deciding", s.seconds_deciding);
      root->stringify(out, 2);
      out << "\n";
      return 0;
    }
    out << "decided " << s.records << " records for " << s.target << " on " << FormatIsoDate(s.on)
        << " (" << s.sanctions_indexed
        << " sanction notices indexed); written to table recognitions\n";
    out << std::left << std::setw(8) << "origin";
    for (const char* o : kOutcomes) out << "  " << o;
    out << "\n";
    auto row = [&](const std::string& label, const std::map<std::string, std::int64_t>& counts) {
      out << std::left << std::setw(8) << label;
      for (const char* o : kOutcomes) {
        out << "  " << std::right << std::setw(static_cast<int>(std::strlen(o)))
            << (counts.count(o) ? counts.at(o) : 0);
      }
      out << "\n";
    };
    for (const auto& [origin, counts] : by_origin) row(origin, counts);
    row("total", by_outcome);
    out << std::fixed << std::setprecision(2) << "time " << s.seconds_total << " s, of which "
        << s.seconds_deciding << " s deciding ("
        << (s.seconds_total > 0 ? 100.0 * s.seconds_deciding / s.seconds_total : 0.0) << "%)\n";
    return 0;
  }
};

CAREHUB_REGISTER_COMMAND(RecognizeCommand);

}  // namespace
}  // namespace carehub::cli
