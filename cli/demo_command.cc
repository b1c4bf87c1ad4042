// `carehub demo`: the README's first command. Seven real hubs (sh js zj ah gd hk mo) on
// loopback, each a directory and a `carehub serve` process, driven through the same commands an
// operator uses: init, keys, peers, gen, ingest, serve, digest, recognize, publish. Hubs are not
// all connected, so relays must carry records. Leaves the hubs serving HTTP until Ctrl-C, or
// stops them with --exit.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "cli/child_process.h"
#include "cli/command.h"
#include "cli/loopback_port.h"
#include "connectors/generator.h"
#include "connectors/profile.h"
#include "hub/store/store.h"
#include "schemas/error.h"
#include "schemas/record.h"

namespace carehub::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct DemoRegion {
  const char* alias;
  const char* code;
  const char* profile_region;  // connectors/profiles/<profile_region>/<kind>.json
  const char* extension;       // native file format of that region
  const char* label;
};

constexpr DemoRegion kRegions[] = {
    {"sh", "310000", "shanghai", "csv", "Shanghai"},
    {"js", "320000", "jiangsu", "json", "Jiangsu"},
    {"zj", "330000", "zhejiang", "xml", "Zhejiang"},
    {"ah", "340000", "anhui", "csv", "Anhui"},
    {"gd", "440000", "guangdong", "csv", "Guangdong"},
    {"hk", "810000", "hongkong", "csv", "Hong Kong"},
    {"mo", "820000", "macau", "json", "Macau"},
};

// Who dials whom: a tree, not a full mesh, so Anhui only hears Shanghai through Jiangsu and
// Macau only hears the Yangtze Delta through Guangdong and Shanghai.
constexpr std::pair<const char*, const char*> kLinks[] = {
    {"sh", "js"}, {"sh", "zj"}, {"js", "ah"}, {"sh", "gd"}, {"gd", "hk"}, {"gd", "mo"},
};

constexpr double kDemoDefectRate = 0.03;

volatile sig_atomic_t g_stop_requested = 0;
void OnSignal(int) { g_stop_requested = 1; }

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Poco::JSON::Object::Ptr ParseJsonObject(const std::string& text, const std::string& what) {
  try {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception& e) {
    throw Error::Protocol("demo: cannot parse the JSON output of " + what + ": " + e.displayText());
  }
}

struct Hub {
  const DemoRegion* region = nullptr;
  fs::path dir;
  int zmq_port = 0;
  int http_port = 0;
  std::string curve_public;
  std::string sign_public;
  std::int64_t read = 0, accepted = 0, quarantined = 0;
  std::unique_ptr<BackgroundProcess> server;
};

// `carehub digest` of every hub (as many at once as there are cores: RunCarehubAll), its lines
// "origin=310000 seq=N records=M sha256=HEX log=HEX" keyed by origin, in hub order.
std::vector<std::map<std::string, std::string>> DigestsOf(const std::vector<Hub>& hubs) {
  std::vector<std::vector<std::string>> commands;
  for (const Hub& hub : hubs) commands.push_back({"digest", "--dir", hub.dir.string()});
  std::vector<std::map<std::string, std::string>> digests;
  for (const ChildResult& result : RunCarehubAll(commands)) {
    auto& lines = digests.emplace_back();
    std::istringstream out(result.out);
    for (std::string line; std::getline(out, line);) {
      auto start = line.find("origin=");
      if (start == std::string::npos) continue;
      lines[line.substr(start + 7, line.find(' ', start) - start - 7)] = line;
    }
  }
  return digests;
}

// GET http://127.0.0.1:port/path; the status (0 when nothing answers) and the body.
std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path,
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {static_cast<int>(response.getStatus()), body};
  } catch (const Poco::Exception&) {
    return {0, ""};
  }
}

std::string RecordsField(const std::string& digest_line) {
  auto pos = digest_line.find("records=");
  if (pos == std::string::npos) return "?";
  return digest_line.substr(pos + 8, digest_line.find(' ', pos) - pos - 8);
}

class DemoCommand : public Command {
 public:
  std::string_view name() const override { return "demo"; }
  std::string_view summary() const override {
    return "run seven regional hubs on loopback: ingest, sync, recognise, publish";
  }
  void DefineOptions(Poco::Util::OptionSet& options) const override {
    options.addOption(ValueOption("dir", "work directory (default: a new temporary one)", "DIR"));
    options.addOption(ValueOption("rows", "rows per generated native file (default 2000)", "N"));
    options.addOption(ValueOption("seed", "generator seed (default 2026)", "S"));
    options.addOption(FlagOption("exit", "stop the hubs and exit when done"));
  }

  int Run(const ParsedArgs& args, std::ostream& out) override {
    const auto started = Clock::now();
    // Ctrl-C (or SIGTERM) at any point stops the hubs this demo started, not only at the end.
    signal(SIGINT, OnSignal);
    signal(SIGTERM, OnSignal);
    rows_ = args.GetInt("rows", 2000);
    seed_ = args.GetInt("seed", 2026);
    base_ = PrepareBase(args);
    out << "carehub demo: 7 hubs under " << base_.string() << "\n\n";

    for (const auto& command : MakeAllCommands()) available_.insert(std::string(command->name()));
    exchange_ =
        Available("keys") && Available("peers") && Available("serve") && Available("digest");
    Step(out, "init hubs, keys and federation", [&] { InitHubs(); });
    Step(out, "generate and ingest native files (7 regions x 4 kinds)", [&] { Ingest(); });
    double sync_seconds = -1;
    if (exchange_) {
      Step(out, "start hubs (ZeroMQ CURVE + HTTP) and sync peer-to-peer", [&] { StartServers(); });
      sync_seconds = WaitForConvergence(out);
      Step(out, "check the HTTP API of every hub (GET /health)", [&] { CheckHttp(out); });
    } else {
      out << "== peer-to-peer exchange: not in this build (keys/peers/serve/digest missing); "
             "each hub holds only its own region\n";
    }
    PrintSummary(out, sync_seconds);
    ShowRelocatingResident(out);
    if (exchange_) ShowSanctionedCaregiver(out);
    Step(out, "export the Shanghai hub's assessments as an Avro object container file",
         [&] { ExportAvro(out); });
    if (Available("publish")) {
      Step(out, "publish an open dataset from the Shanghai hub", [&] { Publish(out); });
    } else {
      out << "== open datasets: `carehub publish` not in this build\n";
    }

    out << "\nfinished in " << std::fixed << std::setprecision(1) << SecondsSince(started)
        << " s\n";
    if (args.Has("exit") || !exchange_) {
      StopServers();
      return 0;
    }
    out << "\nHubs are serving (Ctrl-C to stop):\n";
    for (const auto& hub : hubs_) {
      out << "  " << std::left << std::setw(10) << hub.region->label
          << " http://127.0.0.1:" << hub.http_port
          << "/health   zmq tcp://127.0.0.1:" << hub.zmq_port << "\n";
    }
    // The web pages (docs/WEB.md): the console signs in with a department token of the hub.
    out << "\nWeb pages: rules explorer /rules.html, open data /datasets.html, console below.\n";
    for (const auto& hub : hubs_) {
      const std::string token = RunChild({"tokens", "create", "--dir", hub.dir.string(), "--role",
                                          "department", "--region", hub.region->code})
                                    .out;
      out << "  " << std::left << std::setw(10) << hub.region->label
          << " console http://127.0.0.1:" << hub.http_port << "/console.html   department token "
          << token.substr(0, token.find('\n')) << "\n";
    }
    out.flush();
    while (!g_stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    StopServers();
    return 0;
  }

 private:
  // Ctrl-C or SIGTERM ends the demo between two steps of its work (each child command, each
  // poll), not after the 28 ingests or the wait that was running when it came.
  void StopIfRequested() {
    if (!g_stop_requested) return;
    StopServers();
    throw Error::IoError("demo interrupted; the hubs were stopped (stores under " + base_.string() +
                         ")");
  }

  // Runs a carehub child command unless the demo was asked to stop.
  // Ctrl-C reaches the child too (same process group); its failure then reads as the interrupt.
  ChildResult RunChild(const std::vector<std::string>& args, bool check = true) {
    StopIfRequested();
    try {
      return RunCarehub(args, check);
    } catch (const Error&) {
      StopIfRequested();
      throw;
    }
  }

  template <typename F>
  void Step(std::ostream& out, const std::string& title, F&& body) {
    StopIfRequested();
    out << "== " << title << " ..." << std::flush;
    const auto start = Clock::now();
    body();
    out << " done (" << std::fixed << std::setprecision(1) << SecondsSince(start) << " s)\n";
  }

  fs::path PrepareBase(const ParsedArgs& args) {
    if (auto dir = args.Get("dir")) {
      fs::create_directories(*dir);
      if (!fs::is_empty(*dir)) throw Error::InvalidInput("--dir " + *dir + " is not empty");
      return fs::absolute(*dir);
    }
    std::string pattern = (fs::temp_directory_path() / "carehub-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw Error::IoError("cannot create a temp dir");
    return pattern;
  }

  Hub& HubByAlias(const std::string& alias) {
    for (auto& hub : hubs_) {
      if (alias == hub.region->alias) return hub;
    }
    throw Error::NotFound("no hub " + alias);
  }

  void InitHubs() {
    const fs::path key = base_ / "federation.key";
    for (const auto& region : kRegions) {
      Hub hub;
      hub.region = &region;
      hub.dir = base_ / region.alias;
      hub.zmq_port = FreeLoopbackPort();
      hub.http_port = FreeLoopbackPort();
      std::vector<std::string> init = {"init", "--dir", hub.dir.string(), "--region", region.code};
      // The first hub creates the federation key; the others join with it.
      if (fs::exists(key)) init.insert(init.end(), {"--federation-key", key.string()});
      RunChild(init);
      if (!fs::exists(key)) fs::copy_file(hub.dir / "federation.key", key);
      if (!exchange_) {
        hubs_.push_back(std::move(hub));
        continue;
      }
      auto keys = ParseJsonObject(
          RunChild({"keys", "show", "--dir", hub.dir.string(), "--json"}).out, "keys show");
      hub.curve_public = keys->getValue<std::string>("curve_public");
      hub.sign_public = keys->getValue<std::string>("sign_public");
      hubs_.push_back(std::move(hub));
    }
    for (auto& hub : hubs_) {
      for (const auto& other : hubs_) {
        if (&hub == &other || !exchange_) continue;
        std::vector<std::string> add = {"peers",       "add",
                                        "--dir",       hub.dir.string(),
                                        "--name",      other.region->alias,
                                        "--region",    other.region->code,
                                        "--curve-key", other.curve_public,
                                        "--sign-key",  other.sign_public};
        if (Linked(hub, other)) {
          add.insert(add.end(),
                     {"--endpoint", "tcp://127.0.0.1:" + std::to_string(other.zmq_port)});
        }
        RunChild(add);
      }
    }
  }

  static bool Linked(const Hub& a, const Hub& b) {
    for (const auto& [x, y] : kLinks) {
      if ((a.region->alias == std::string_view(x) && b.region->alias == std::string_view(y)) ||
          (a.region->alias == std::string_view(y) && b.region->alias == std::string_view(x))) {
        return true;
      }
    }
    return false;
  }

  void Ingest() {
    fs::create_directories(base_ / "native");
    for (auto& hub : hubs_) {
      for (RecordKind kind : kAllKinds) {
        const std::string kind_name(KindName(kind));
        const fs::path file =
            base_ / "native" /
            (std::string(hub.region->alias) + "_" + kind_name + "." + hub.region->extension);
        RunChild({"gen", "--region", hub.region->alias, "--kind", kind_name, "--rows",
                  std::to_string(rows_), "--seed", std::to_string(seed_), "--defect-rate",
                  std::to_string(kDemoDefectRate), "--as-of", FormatIsoDate(Today()), "--out",
                  file.string()});
        auto summary = ParseJsonObject(
            RunChild({"ingest", "--dir", hub.dir.string(), "--json", "--profile",
                      std::string(hub.region->profile_region) + "/" + kind_name, file.string()})
                .out,
            "ingest");
        hub.read += summary->optValue<std::int64_t>("read", 0);
        hub.accepted += summary->optValue<std::int64_t>("accepted", 0);
        hub.quarantined += summary->optValue<std::int64_t>("quarantined", 0);
      }
    }
  }

  void StartServers() {
    for (auto& hub : hubs_) {
      hub.server = std::make_unique<BackgroundProcess>(
          std::vector<std::string>{"serve", "--dir", hub.dir.string(), "--zmq",
                                   "tcp://127.0.0.1:" + std::to_string(hub.zmq_port), "--http",
                                   "127.0.0.1:" + std::to_string(hub.http_port)},
          (hub.dir / "serve.log").string());
    }
  }

  // Every hub answers GET /health with its own region (the servers started with the exchange,
  // so the HTTP side is normally up by the time the hubs have converged).
  void CheckHttp(std::ostream& out) {
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    for (const auto& hub : hubs_) {
      std::pair<int, std::string> health;
      while ((health = HttpGet(hub.http_port, "/health")).first != 200 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (health.first != 200 || health.second.find(hub.region->code) == std::string::npos) {
        throw Error::IoError("hub " + std::string(hub.region->alias) +
                             " does not answer GET /health; see " +
                             (hub.dir / "serve.log").string());
      }
    }
    out << "   7 of 7 up";
  }

  void StopServers() {
    for (auto& hub : hubs_) {
      if (hub.server) hub.server->Stop();
    }
  }

  // Entries each hub holds of every origin (its signed heads: cheap, read beside the servers)
  // against what the origins hold; the digests are compared once every hub holds every head.
  std::pair<std::int64_t, std::int64_t> HeldAndTarget() {
    std::int64_t held = 0, target = 0;
    for (const auto& hub : hubs_) {
      if (!hub.server->running()) {
        throw Error::IoError("hub " + std::string(hub.region->alias) +
                             " stopped: " + hub.server->Ended());
      }
      Store store = Store::Open(hub.dir);
      for (const SignedHead& head : store.Heads()) {
        held += head.seq;
        if (head.origin == hub.region->code) target += head.seq;
      }
    }
    return {held, target * static_cast<std::int64_t>(hubs_.size())};
  }

  // Waits as long as the hubs make progress (whatever --rows), printing it every 5 s, until all
  // seven hold every origin's head ("converged", with the time) and then agree on all seven
  // digests (a digest reads every record and entry: minutes at --rows 50000); gives up after
  // kNoProgress without any. Returns the seconds until every head was held.
  double WaitForConvergence(std::ostream& out) {
    constexpr auto kNoProgress = std::chrono::seconds(60);
    out << "== waiting for the hubs to converge (progress every 5 s) ..." << std::flush;
    const auto start = Clock::now();
    auto last_progress = start, last_print = start;
    std::int64_t best = -1;
    std::optional<double> heads_held;  // seconds until every hub held every head
    for (;; std::this_thread::sleep_for(std::chrono::milliseconds(500))) {
      StopIfRequested();
      const auto [held, target] = HeldAndTarget();
      if (held > best) best = held, last_progress = Clock::now();
      if (held >= target) {
        if (!heads_held) {
          heads_held = SecondsSince(start);
          out << "\n   converged: every hub holds every head (" << std::fixed
              << std::setprecision(1) << *heads_held << " s); comparing digests ..." << std::flush;
        }
        const auto digest_start = Clock::now();
        digests_ = DigestsOf(hubs_);
        bool equal = digests_[0].size() == hubs_.size();
        for (const auto& digest : digests_) equal = equal && digest == digests_[0];
        if (equal) {
          out << " equal (" << std::fixed << std::setprecision(1) << SecondsSince(digest_start)
              << " s)\n";
          return *heads_held;
        }
        last_progress = Clock::now();  // comparing took a while; not a lack of progress
      }
      if (Clock::now() - last_print >= std::chrono::seconds(5)) {
        last_print = Clock::now();
        out << "\n   " << std::fixed << std::setprecision(0) << SecondsSince(start)
            << " s: " << held << " of " << target << " entries held ("
            << (target > 0 ? 100.0 * static_cast<double>(held) / static_cast<double>(target) : 0)
            << "%)" << std::flush;
      }
      if (Clock::now() - last_progress > kNoProgress) {
        throw Error::Protocol("hubs made no progress for 60 s (" + std::to_string(held) + " of " +
                              std::to_string(target) +
                              " entries held, or digests differ); logs under " + base_.string());
      }
    }
  }

  void PrintSummary(std::ostream& out, double sync_seconds) {
    if (digests_.empty()) {
      for (const auto& hub : hubs_)
        digests_.push_back({{hub.region->code, "records=" + std::to_string(hub.accepted)}});
    }
    out << "\nlinks (who dials whom):";
    for (const auto& [a, b] : kLinks) out << " " << a << "-" << b;
    out << "; Anhui hears Shanghai only through Jiangsu, Macau only through Guangdong\n";
    out << "records held by each hub, by origin (digests equal on all hubs: "
        << (sync_seconds >= 0 ? "yes" : "no, not synced") << ")\n";
    out << std::left << std::setw(11) << "hub";
    for (const auto& hub : hubs_) out << std::right << std::setw(8) << hub.region->alias;
    out << std::right << std::setw(10) << "read" << std::setw(10) << "accepted" << std::setw(13)
        << "quarantined"
        << "\n";
    for (std::size_t i = 0; i < hubs_.size(); ++i) {
      const auto& hub = hubs_[i];
      out << std::left << std::setw(11) << hub.region->label;
      for (const auto& origin : hubs_) {
        auto it = digests_[i].find(origin.region->code);
        out << std::right << std::setw(8)
            << (it == digests_[i].end() ? "-" : RecordsField(it->second));
      }
      out << std::right << std::setw(10) << hub.read << std::setw(10) << hub.accepted
          << std::setw(13) << hub.quarantined << "\n";
    }
  }

  GeneratorOptions Options() const {
    GeneratorOptions options;
    options.rows = rows_;
    options.seed = static_cast<std::uint64_t>(seed_);
    options.defect_rate = kDemoDefectRate;
    options.as_of = Today();
    return options;
  }

  static Date Today() {
    return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  }

  // The canonical status of a generated row, read back through its profile's code table.
  static RecordStatus StatusOf(const Profile& profile, const GeneratedRow& row) {
    for (std::size_t i = 0; i < profile.fields.size(); ++i) {
      if (profile.fields[i].field != CanonicalField::kStatus) continue;
      for (const auto& entry : profile.statuses) {
        if (entry.native == row.values[i]) return entry.value;
      }
    }
    return RecordStatus::kActive;
  }

  // A Shanghai resident (assessed in Shanghai, valid, recent) moves to Zhuhai: the Guangdong
  // hub, which received the assessment peer-to-peer, decides whether Zhuhai recognises it.
  void ShowRelocatingResident(std::ostream& out) {
    const Profile& profile = *FindBuiltinProfile("shanghai/assessment");
    Generator generator(profile, Options());
    for (std::int64_t i = 0; i < rows_; ++i) {
      const GeneratedRow row = generator.Row(i);
      // A recent one: Zhuhai asks for an assessment of the last six months.
      if (!row.defect.empty() || !row.person || row.person->home_region != "310000" ||
          StatusOf(profile, row) != RecordStatus::kActive ||
          row.event_date < Today() - std::chrono::days(150)) {
        continue;
      }
      const char* asked = exchange_ ? "gd" : "sh";
      out << "\n== a Shanghai resident relocating to Zhuhai (440400), asked at the "
          << (exchange_ ? "Guangdong" : "Shanghai") << " hub\n"
          << "$ carehub recognize --dir " << asked << " --id <resident id> --to 440400\n";
      out << RunChild({"recognize", "--dir", HubByAlias(asked).dir.string(), "--id",
                       row.person->prc_id, "--to", "440400"})
                 .out;
      return;
    }
    out << "\n(no valid Shanghai assessment generated; try more --rows)\n";
  }

  // A caregiver blacklisted in one region holds a qualification in another: while the notice
  // is active, no region recognises the qualification, and the decision names the notice.
  void ShowSanctionedCaregiver(std::ostream& out) {
    std::map<std::string, const DemoRegion*> caregivers;  // resident id -> region of certificate
    for (const auto& region : kRegions) {
      const Profile& profile =
          *FindBuiltinProfile(std::string(region.profile_region) + "/caregiver");
      Generator generator(profile, Options());
      for (std::int64_t i = 0; i < rows_; ++i) {
        const GeneratedRow row = generator.Row(i);
        if (row.defect.empty() && row.person && profile.id_scheme == IdScheme::kPrcResidentId &&
            StatusOf(profile, row) == RecordStatus::kActive) {
          caregivers.emplace(row.person->prc_id, &region);
        }
      }
    }
    for (const auto& sanctioning : kRegions) {
      const Profile& profile =
          *FindBuiltinProfile(std::string(sanctioning.profile_region) + "/sanction");
      if (profile.id_scheme != IdScheme::kPrcResidentId) continue;
      Generator generator(profile, Options());
      for (std::int64_t i = 0; i < rows_; ++i) {
        const GeneratedRow row = generator.Row(i);
        if (!row.defect.empty() || !row.person || StatusOf(profile, row) != RecordStatus::kActive) {
          continue;
        }
        auto found = caregivers.find(row.person->prc_id);
        if (found == caregivers.end() || found->second == &sanctioning) continue;
        const DemoRegion& works = *found->second;
        const DemoRegion& target = std::string(works.alias) == "zj" ? kRegions[0] : kRegions[2];
        out << "\n== a caregiver certified in " << works.label << " and sanctioned in "
            << sanctioning.label << ", asked at the " << works.label << " hub for " << target.label
            << "\n$ carehub recognize --dir " << works.alias << " --id <caregiver id> --to "
            << target.code << "\n";
        out << RunChild({"recognize", "--dir", HubByAlias(works.alias).dir.string(), "--id",
                         row.person->prc_id, "--to", target.code})
                   .out;
        return;
      }
    }
    out << "\n(no sanctioned caregiver with a certificate elsewhere was generated)\n";
  }

  void ExportAvro(std::ostream& out) {
    const fs::path file = base_ / "shanghai-assessments.avro";
    const ChildResult result =
        RunChild({"export", "--dir", HubByAlias("sh").dir.string(), "--kind", "assessment",
                  "--format", "avro", "--codec", "deflate", "--out", file.string()},
                 /*check=*/false);
    if (result.exit_code != 0) {  // say so, and go on: the rest of the demo does not need it
      out << " not available: " << result.err.substr(0, result.err.find('\n'));
      return;
    }
    out << "   " << file.string() << " (" << fs::file_size(file) << " bytes)";
  }

  // The Shanghai hub holds every region's records after the sync, so its release covers all
  // seven; publish prints the release folder on stdout and its summary on stderr.
  void Publish(std::ostream& out) {
    const ChildResult result = RunChild({"publish", "--dir", HubByAlias("sh").dir.string(), "--out",
                                         (base_ / "open-data").string(), "--release", "demo-1"});
    std::string folder = result.out.substr(0, result.out.find('\n'));
    out << "   " << folder << "/catalog.json\n     " << result.err.substr(0, result.err.find('\n'))
        << "\n    ";
    if (exchange_) {  // the running Shanghai hub serves the release to anyone, no token needed
      const int port = HubByAlias("sh").http_port;
      const auto [status, body] = HttpGet(port, "/v1/datasets/demo-1");
      out << " served: GET http://127.0.0.1:" << port << "/v1/datasets/demo-1 -> " << status << " ("
          << body.size() << " bytes of DCAT catalog)\n    ";
    }
  }

  std::int64_t rows_ = 0;
  std::int64_t seed_ = 0;
  fs::path base_;
  std::vector<Hub> hubs_;
  std::vector<std::map<std::string, std::string>> digests_;
  std::set<std::string> available_;  // subcommands built into this binary
  bool exchange_ = false;            // the peer exchange commands are all present

  bool Available(const std::string& name) const { return available_.count(name) > 0; }
};

CAREHUB_REGISTER_COMMAND(DemoCommand);

}  // namespace
}  // namespace carehub::cli
