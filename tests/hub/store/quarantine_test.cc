// Issue 14, quarantine lifecycle: a quarantined row is resolved (kept as history, no longer
// open) when a later ingest stores the same record, or accepts the same row of the same file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "hub/store/ingest.h"
#include "hub/store/quarantine_replay.h"
#include "hub/store/store.h"
#include "schemas/error.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

const std::string kHeader =
    "record_no,licence_no,home_name,licence_type,capacity,licence_date,expiry_date,status\n";

class QuarantineLifecycleTest : public ::testing::Test {
 protected:
  QuarantineLifecycleTest() : store_(Store::Init(tmp_ / "hub", {.region = "hk"})) {}

  IngestSummary Ingest(const std::string& name, const std::string& text) {
    std::ofstream(tmp_ / name, std::ios::binary) << text;
    const ConnectorEngine engine(EngineOptionsFor(store_));
    return Ingester(store_, engine)
        .IngestFile((tmp_ / name).string(),
                    {.batch_size = 1000, .profile = std::string("hongkong/facility")});
  }

  testing::TempDir tmp_;
  Store store_;
};

TEST_F(QuarantineLifecycleTest, FixedRowIngestedAgainIsResolvedNotListedAsOpen) {
  const std::string good = "HK-1,RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid\n";
  Ingest("homes.csv", kHeader + good + "HK-2,RCHE-2,Home,NH (Cap. 165),10,31/02/2024,,valid\n");
  ASSERT_EQ(store_.QuarantineCount(), 1);
  EXPECT_EQ(store_.ListQuarantine()[0].row, 2);

  // The department fixes the date and sends the file again.
  const IngestSummary s =
      Ingest("homes.csv", kHeader + good + "HK-2,RCHE-2,Home,NH (Cap. 165),10,28/02/2024,,valid\n");
  EXPECT_EQ(s.inserted, 1);
  EXPECT_EQ(store_.QuarantineCount(), 0);  // was 1: row 2 still listed as rejected
  EXPECT_TRUE(store_.ListQuarantine().empty());
  const auto all = store_.ListQuarantine(-1, QuarantineState::kAll);
  ASSERT_EQ(all.size(), 1u);  // kept as history
  EXPECT_TRUE(all[0].resolved_at_ms.has_value());
  EXPECT_EQ(all[0].resolved_run, s.run_id);
  EXPECT_EQ(store_.QuarantineCount(QuarantineState::kAll), 1);
}

TEST_F(QuarantineLifecycleTest, ResolvedByTheSameRecordInAnotherFile) {
  Ingest("jan.csv", kHeader + "HK-7,RCHE-7,Home,NH (Cap. 165),-5,01/02/2024,,valid\n");
  ASSERT_EQ(store_.QuarantineCount(), 1);
  Ingest("feb.csv", kHeader + "HK-7,RCHE-7,Home,NH (Cap. 165),5,01/02/2024,,valid\n");
  EXPECT_EQ(store_.QuarantineCount(), 0);
}

TEST_F(QuarantineLifecycleTest, MalformedRowIsResolvedWhenTheSameFileRowIsAccepted) {
  Ingest("m.csv", kHeader + "HK-1,\"RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid\n");
  ASSERT_EQ(store_.QuarantineCount(), 1);  // no source id could be read
  Ingest("m.csv", kHeader + "HK-1,RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid\n");
  EXPECT_EQ(store_.QuarantineCount(), 0);
}

TEST_F(QuarantineLifecycleTest, StillBadRowStaysOpen) {
  const std::string bad = "HK-3,RCHE-3,Home,unknown kind,10,01/02/2024,,valid\n";
  Ingest("s.csv", kHeader + bad);
  Ingest("s.csv", kHeader + bad);
  EXPECT_EQ(store_.QuarantineCount(), 1);
  EXPECT_EQ(store_.QuarantineCount(QuarantineState::kAll), 1);  // replaced, not doubled
}

TEST_F(QuarantineLifecycleTest, ReplayRerunsOpenRowsThroughTheFixedProfile) {
  const std::string text = kHeader +
                           "HK-1,RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid\n"
                           "HK-2,RCHE-2,Home,RCHE (Cap. 459A),10,01/02/2024,,valid\n"
                           "HK-3,RCHE-3,Home,NH (Cap. 165),10,31/02/2024,,valid\n";
  const IngestSummary s = Ingest("replay.csv", text);
  ASSERT_EQ(store_.QuarantineCount(), 2);
  // The profile is fixed: the new licence type becomes a level.
  const auto dir = tmp_ / "profiles" / "hongkong";
  std::filesystem::create_directories(dir);
  std::ifstream in(testing::SourceDir() / "connectors/profiles/hongkong/facility.json");
  std::string json{std::istreambuf_iterator<char>(in), {}};
  const std::string anchor = "\"levels\": [";
  json.insert(json.find(anchor) + anchor.size(),
              "{\"native\": \"RCHE (Cap. 459A)\", \"code\": \"licensed\", \"comparable\": false},");
  std::ofstream(dir / "facility.json") << json;
  EngineOptions options = EngineOptionsFor(store_);
  options.profiles_dir = (tmp_ / "profiles").string();
  const ConnectorEngine fixed(options);

  const QuarantineReplay r = ReplayQuarantine(store_, fixed, s.run_id);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.now_accepted, 1);
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_TRUE(r.rows[0].accepted_now);  // row 2
  EXPECT_EQ(r.rows[1].row, 3);
  EXPECT_TRUE(r.rows[1].reason_now.starts_with("bad_date"));
  EXPECT_EQ(store_.QuarantineCount(), 2);  // a replay writes nothing

  std::ofstream(tmp_ / "replay.csv", std::ios::app)
      << "HK-4,RCHE-4,Home,NH (Cap. 165),1,01/02/2024,,valid\n";
  EXPECT_THROW(ReplayQuarantine(store_, fixed, s.run_id), Error);  // the file changed
  EXPECT_THROW(ReplayQuarantine(store_, fixed, 999), Error);
}

// With store, the replay ingests the file again: the row accepted now is stored and resolves;
// the JSON is the one both the CLI and the HTTP route print.
TEST_F(QuarantineLifecycleTest, ReplayWithStoreResolvesTheRowsAcceptedNow) {
  const IngestSummary s =
      Ingest("store.csv", kHeader +
                              "HK-1,RCHE-1,Home,NH (Cap. 165),10,01/02/2024,,valid\n"
                              "HK-2,RCHE-2,Home,RCHE (Cap. 459A),10,01/02/2024,,valid\n");
  ASSERT_EQ(store_.QuarantineCount(), 1);
  const auto dir = tmp_ / "profiles" / "hongkong";
  std::filesystem::create_directories(dir);
  std::ifstream in(testing::SourceDir() / "connectors/profiles/hongkong/facility.json");
  std::string json{std::istreambuf_iterator<char>(in), {}};
  const std::string anchor = "\"levels\": [";
  json.insert(json.find(anchor) + anchor.size(),
              "{\"native\": \"RCHE (Cap. 459A)\", \"code\": \"licensed\", \"comparable\": false},");
  std::ofstream(dir / "facility.json") << json;
  EngineOptions options = EngineOptionsFor(store_);
  options.profiles_dir = (tmp_ / "profiles").string();
  const ConnectorEngine fixed(options);

  const QuarantineReplay r = ReplayQuarantine(store_, fixed, s.run_id, /*store_rows=*/true);
  EXPECT_EQ(r.now_accepted, 1);
  ASSERT_TRUE(r.stored);
  EXPECT_EQ(r.stored->accepted, 2);
  EXPECT_EQ(r.stored->inserted, 1);
  EXPECT_EQ(r.open_after, 0);
  EXPECT_EQ(store_.QuarantineCount(), 0);
  const auto all = store_.ListQuarantine(-1, QuarantineState::kAll);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].resolved_run, r.stored->run_id);

  const Poco::JSON::Object out = QuarantineReplayJson(r);
  EXPECT_EQ(out.getValue<std::int64_t>("now_accepted"), 1);
  EXPECT_EQ(out.getArray("rows")->getObject(0)->getValue<std::string>("now"), "accepted");
  EXPECT_EQ(out.getArray("rows")->getObject(0)->getValue<std::string>("field_before"),
            "licence_type");
  EXPECT_EQ(out.getObject("stored")->getValue<std::int64_t>("inserted"), 1);
}

}  // namespace
}  // namespace carehub
