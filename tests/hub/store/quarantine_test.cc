// Issue 14, quarantine lifecycle: a quarantined row is resolved (kept as history, no longer
// open) when a later ingest stores the same record, or accepts the same row of the same file.
#include <gtest/gtest.h>

#include <fstream>

#include "hub/store/ingest.h"
#include "hub/store/store.h"
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

}  // namespace
}  // namespace carehub
