// bench_sync: N records (default 1M) of hub A pulled by hub B over loopback ZeroMQ with CURVE,
// ZAP membership and full verification (carehub's Exchange: chain, record hashes, one Ed25519
// head signature per batch, apply in one transaction per batch), and in the same run two
// baselines over the SAME batches:
//   (a) raw ZeroMQ CURVE throughput: the encoded BATCH messages sent DEALER -> ROUTER over
//       loopback TCP with CURVE, received and dropped (no decoding, no store), in protocol
//       version 3 (every entry field, uncompressed: the baseline), version 4 (derived fields
//       left out, zstd) and version 6 (bodies as stored, frame uncompressed), with the codec's
//       own CPU per version beside it;
//   (b) local apply: the same entries written into an empty store with
//       Store::ApplyVerifiedBatch (no network, no verification).
// Prints records/s of each and the ratios sync/(a) and sync/(b), plus the resident memory of
// the process while B catches up (sampled; it must stay flat whatever the backlog).
// Usage: bench_sync [--records N] [--batch B] [--dir SCRATCH] [--keep]
#include <sodium.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "bench/synthetic_token.h"
#include "hub/exchange/exchange.h"
#include "hub/exchange/peers.h"
#include "hub/exchange/wire.h"
#include "hub/store/digest.h"
#include "hub/store/ingest.h"
#include "hub/store/store.h"
#include "schemas/error.h"

namespace {

namespace fs = std::filesystem;
using carehub::CanonicalRecord;
using carehub::Store;
using Clock = std::chrono::steady_clock;

constexpr const char* kOrigin = "310000";

double Seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

long RssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

carehub::Hmac256 Token(std::uint64_t person) {
  return carehub::bench::SyntheticToken(person * 0x2545F4914F6CDD1DULL);
}

// A Shanghai care-needs assessment, shaped like what the shanghai/assessment profile produces.
CanonicalRecord Assessment(int i) {
  CanonicalRecord r;
  const std::string source_id = "SH-A-" + std::to_string(i);
  r.record_id = carehub::MakeRecordId(kOrigin, carehub::RecordKind::kAssessment, source_id);
  carehub::Assessment a;
  a.person.tokens.push_back(
      {carehub::IdScheme::kPrcResidentId, Token(static_cast<std::uint64_t>(i))});
  a.person.birth_year = 1925 + i % 40;
  a.person.sex = i % 2 ? carehub::Sex::kFemale : carehub::Sex::kMale;
  a.person.residence_region = "310115";
  a.native = {"SH_CARE_NEEDS", std::to_string(i % 7), "照护" + std::to_string(i % 7) + "级"};
  a.pivot = carehub::PivotLevel{i % 5, std::nullopt, std::nullopt, true};
  a.total_score = 30 + i % 60;
  a.assessed_on = carehub::Date{std::chrono::days{19000 + i % 900}};
  a.valid_until = carehub::Date{std::chrono::days{19730 + i % 900}};
  a.assessor = carehub::OrgRef{"91310115MA1H7GXX0X", std::nullopt, "浦东评估所", "310115"};
  r.body = a;
  r.provenance = {kOrigin,   "shanghai/assessment", 1, "/data/sh_assessment.csv", i + 1,
                  source_id, 1'700'000'000'000 + i};
  return r;
}

void FillOrigin(Store& a, int records) {
  carehub::IngestSink sink(a, "/data/sh_assessment.csv", "bench-" + std::to_string(records),
                           "shanghai/assessment", {.batch_size = 10000});
  for (int i = 0; i < records; ++i) sink.Accept(Assessment(i));
  sink.Finish();
}

// The batches B pulls, as the server cuts them for its own origin: `batch` entries each,
// ending at a head signed by A.
std::vector<carehub::ChangeEntry> ReadBatch(
    Store& a, std::int64_t after, int batch, carehub::SignedHead& head,
    std::vector<carehub::CompressedBody>* stored = nullptr) {
  std::vector<carehub::ChangeEntry> entries;
  a.ReadChanges(kOrigin, after, batch, entries, stored);
  if (!entries.empty()) {
    head = carehub::SignHead(a.keys(), kOrigin, entries.back().seq, entries.back().entry_hash);
  }
  return entries;
}

struct Measure {
  double seconds = 0;
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

// The BATCH messages of the first batches (at most 40, ~800k distinct records), as the server
// cuts them for its own origin, and the records each carries.
struct Batches {
  std::vector<carehub::wire::Batch> messages;
  std::vector<std::int64_t> counts;
  carehub::wire::HeldDictionaries held;  // every dictionary the bodies use (version 6)
};

Batches FirstBatches(Store& a, int records, int batch) {
  Batches out;
  const int distinct = std::min(records, batch * 40);
  for (std::int64_t after = 0; after < distinct;) {
    carehub::wire::Batch message;
    message.after_seq = after;
    // Version 6 sends the bodies as stored; each dictionary goes with the first batch using it
    // (later PULLs list it as held).
    message.entries = ReadBatch(a, after, batch, message.head, &message.stored);
    if (message.entries.empty()) break;
    for (const carehub::CompressedBody& body : message.stored) {
      if (body.dict && out.held.emplace(body.dict->id(), body.dict).second) {
        message.dictionaries.push_back(body.dict);
      }
    }
    after = message.entries.back().seq;
    out.counts.push_back(static_cast<std::int64_t>(message.entries.size()));
    out.messages.push_back(std::move(message));
  }
  return out;
}

// (a'): CPU of the codec alone on one thread, per version: Encode (version 4: zstd) and Decode
// (version 4: decompress and derive every hash) of the same batches.
struct Codec {
  double encode_seconds = 0, decode_seconds = 0;
  std::int64_t records = 0;
};

Codec CodecCost(const Batches& batches, std::uint8_t version) {
  Codec c;
  for (const carehub::wire::Batch& message : batches.messages) {
    auto start = Clock::now();
    const carehub::wire::Frames frames = carehub::wire::Encode(message, version);
    c.encode_seconds += Seconds(start, Clock::now());
    start = Clock::now();
    const carehub::wire::Message decoded = carehub::wire::Decode(frames, &batches.held);
    c.decode_seconds += Seconds(start, Clock::now());
    c.records += static_cast<std::int64_t>(message.entries.size());
  }
  return c;
}

// (a): the encoded BATCH messages (in `version`), sent round-robin until `records` records went
// through a CURVE DEALER -> ROUTER pair on loopback TCP. The first message (connection and CURVE
// handshake) is not timed.
Measure RawCurve(const Batches& batches, const Store& a, const Store& b, int records,
                 std::uint8_t version) {
  std::vector<carehub::wire::Frames> messages;
  for (const auto& message : batches.messages) {
    messages.push_back(carehub::wire::Encode(carehub::wire::Message(message), version));
  }
  const std::vector<std::int64_t>& counts = batches.counts;
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.set(zmq::sockopt::curve_server, 1);
  router.set(zmq::sockopt::curve_secretkey, a.keys().curve_secret());
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  Measure m;
  std::thread sender([&] {
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::curve_serverkey, a.keys().curve_public());
    dealer.set(zmq::sockopt::curve_publickey, b.keys().curve_public());
    dealer.set(zmq::sockopt::curve_secretkey, b.keys().curve_secret());
    dealer.connect(endpoint);
    std::int64_t sent = -counts[0];  // the untimed first message
    for (std::size_t i = 0; sent < records; i = (i + 1) % messages.size()) {
      std::vector<zmq::const_buffer> frames;
      for (const std::string& frame : messages[i]) frames.push_back(zmq::buffer(frame));
      (void)zmq::send_multipart(dealer, frames);
      sent += counts[i];
    }
    // Keep the socket until the receiver has everything (linger 0 would drop the tail).
    zmq::message_t done;
    (void)dealer.recv(done);  // the receiver's "done"
  });
  std::vector<zmq::message_t> frames;
  (void)zmq::recv_multipart(router, std::back_inserter(frames));  // the first, untimed
  const Clock::time_point start = Clock::now();
  std::size_t next = 1 % messages.size();
  while (m.records < records) {
    frames.clear();
    if (!zmq::recv_multipart(router, std::back_inserter(frames))) continue;
    for (std::size_t f = 1; f < frames.size(); ++f)
      m.bytes += static_cast<std::int64_t>(frames[f].size());
    m.records += counts[next];
    next = (next + 1) % messages.size();
  }
  m.seconds = Seconds(start, Clock::now());
  std::array<zmq::const_buffer, 2> done = {zmq::buffer(frames[0].to_string_view()),
                                           zmq::str_buffer("done")};
  (void)zmq::send_multipart(router, done);
  sender.join();
  return m;
}

// (b): the same entries into an empty store, without network or verification; only the apply
// calls are timed (reading A is not part of the baseline).
Measure LocalApply(Store& a, Store& c, int records, int batch) {
  Measure m;
  carehub::sqlite::BulkWriteMode bulk(c.db(), 64);  // as the Exchange applies relayed batches
  for (std::int64_t after = 0; after < records;) {
    carehub::SignedHead head;
    head.origin = kOrigin;
    const auto entries = ReadBatch(a, after, batch, head);
    if (entries.empty()) break;
    const auto start = Clock::now();
    m.records += c.ApplyVerifiedBatch(kOrigin, entries, head);
    bulk.Poke();
    m.seconds += Seconds(start, Clock::now());
    after = entries.back().seq;
  }
  return m;
}

int Arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

const char* ArgText(int argc, char** argv, const char* name) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return nullptr;
}

bool Flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

int Run(int argc, char** argv) {
  const int records = Arg(argc, argv, "--records", 1'000'000);
  const int batch = Arg(argc, argv, "--batch", 20000);
  fs::path dir;
  if (const char* given = ArgText(argc, argv, "--dir")) {
    dir = given;
    fs::create_directories(dir);
  } else {
    char pattern[] = "/tmp/bench_sync.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw carehub::Error::IoError("mkdtemp failed");
    dir = pattern;
  }
  for (const char* hub : {"a", "b", "c"}) fs::remove_all(dir / hub);
  std::printf("bench_sync: %d records, batches of %d, scratch %s\n", records, batch, dir.c_str());

  Store a = Store::Init(dir / "a", {.region = "sh"});
  Store b =
      Store::Init(dir / "b", {.region = "gd", .federation_key_file = dir / "a" / "federation.key"});
  Store c =
      Store::Init(dir / "c", {.region = "js", .federation_key_file = dir / "a" / "federation.key"});
  auto start = Clock::now();
  FillOrigin(a, records);
  std::printf("setup: hub A ingested %d records in %.1f s\n", records,
              Seconds(start, Clock::now()));

  // Federation: B may connect to A (ZAP), A is B's dialled member.
  carehub::AddPeer(a.db(),
                   {"b", "440000", b.keys().curve_public(), b.keys().sign_public(), std::nullopt},
                   a.region());
  std::atomic<bool> stop{false};
  carehub::Exchange server(dir / "a", {.listen = "tcp://127.0.0.1:*"});
  carehub::AddPeer(
      b.db(), {"a", kOrigin, a.keys().curve_public(), a.keys().sign_public(), server.endpoint()},
      b.region());
  std::thread serving([&] { server.Serve(stop); });

  // Memory while B catches up, sampled against B's progress (its own read connection).
  std::vector<std::pair<std::int64_t, long>> samples;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    carehub::sqlite::Database watch(
        (dir / "b" / "carehub.db").string(),
        {.mode = carehub::sqlite::OpenMode::kReadOnly, .cache_kib = 256});
    while (sampling) {
      const auto held = watch.QueryInt("SELECT max(seq) FROM changes WHERE origin = '310000'");
      samples.emplace_back(held.value_or(0), RssKib());
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  });
  const long rss_before = RssKib();
  Measure sync;
  {
    carehub::Exchange client(dir / "b", {.max_batch = static_cast<std::uint32_t>(batch)});
    start = Clock::now();
    const carehub::SyncReport report = client.SyncOnce(std::chrono::minutes(30));
    sync.seconds = Seconds(start, Clock::now());
    for (const auto& p : report.origins) {
      if (p.origin == kOrigin) sync.records = p.applied;
    }
    for (const auto& problem : report.problems) std::printf("sync problem: %s\n", problem.c_str());
    if (!report.caught_up) std::printf("sync: NOT caught up\n");
  }
  sampling = false;
  sampler.join();
  stop = true;
  serving.join();

  const auto digest_a = carehub::ComputeDigests(a, std::string(kOrigin));
  const auto digest_b = carehub::ComputeDigests(b, std::string(kOrigin));
  const bool equal = digest_a == digest_b;
  std::printf(
      "sync A->B (CURVE, ZAP, verified, applied): %lld records in %.2f s = %.0f records/s; digests "
      "%s\n",
      static_cast<long long>(sync.records), sync.seconds, sync.rate(), equal ? "equal" : "DIFFER");
  std::printf("memory while catching up (RSS, whole process: A serving + B pulling):\n");
  std::printf("  before %ld MiB", rss_before / 1024);
  long rss_max = 0;
  std::size_t shown = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    rss_max = std::max(rss_max, samples[i].second);
    // About eight points spread over the catch-up.
    if (samples.size() <= 8 || i * 8 / samples.size() != shown) continue;
    ++shown;
    std::printf(", at seq %lld: %ld MiB", static_cast<long long>(samples[i].first),
                samples[i].second / 1024);
  }
  std::printf(", max %ld MiB\n", rss_max / 1024);

  const Batches batches = FirstBatches(a, records, batch);
  Measure raw;
  double raw3 = 0;
  for (const std::uint8_t version :
       {std::uint8_t{3}, std::uint8_t{4}, carehub::wire::kProtocolVersion}) {
    const Measure m = RawCurve(batches, a, b, records, version);
    const Codec codec = CodecCost(batches, version);
    const double mib = static_cast<double>(m.bytes) / (1 << 20);
    std::printf(
        "(a) raw ZeroMQ CURVE, version-%d BATCH bytes: %lld records (%.0f MiB, %.0f bytes/record) "
        "in %.2f s = %.0f records/s, %.0f MiB/s; codec on one thread: encode %.0f, decode %.0f "
        "records/s\n",
        version, static_cast<long long>(m.records), mib,
        static_cast<double>(m.bytes) / static_cast<double>(m.records), m.seconds, m.rate(),
        mib / m.seconds, static_cast<double>(codec.records) / codec.encode_seconds,
        static_cast<double>(codec.records) / codec.decode_seconds);
    if (version == 3) raw3 = m.rate();
    if (version != 3 && raw3 > 0) {
      std::printf("(a) version %d / version 3: %.2f (target >= 1M records/s raw)\n", version,
                  m.rate() / raw3);
    }
    raw = m;
  }
  const Measure apply = LocalApply(a, c, records, batch);
  std::printf(
      "(b) local apply, no network, no verification: %lld records in %.2f s = %.0f records/s\n",
      static_cast<long long>(apply.records), apply.seconds, apply.rate());
  std::printf(
      "ratios: sync/(a) = %.3f, sync/(b) = %.3f (targets: sync >= 300000 records/s, sync/(b) >= "
      "0.8)\n",
      raw.rate() > 0 ? sync.rate() / raw.rate() : 0.0,
      apply.rate() > 0 ? sync.rate() / apply.rate() : 0.0);
  if (!Flag(argc, argv, "--keep") && ArgText(argc, argv, "--dir") == nullptr) fs::remove_all(dir);
  return equal && sync.records == records ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 2;
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sync: %s\n", e.what());
    return 1;
  }
}
