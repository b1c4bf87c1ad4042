// The units an ingest is made of, called directly: ChunkPipeline (the hand-over between the
// reading and the writer thread) and IngestBatchWriter (the batch transactions). IngestSink's
// behaviour as a whole is in ingest_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "hub/store/ingest_batch.h"
#include "hub/store/ingest_pipeline.h"
#include "tests/support/hub_test_records.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using testing::TempDir;
using testing::TestAssessment;
using testing::TestRejection;

TEST(ChunkPipelineTest, WritesEveryChunkInOrderOnAnotherThread) {
  std::vector<std::int64_t> written;
  const std::thread::id reader = std::this_thread::get_id();
  std::atomic<bool> other_thread = true;
  {
    ChunkPipeline pipeline(
        [&](IngestChunk& chunk) {
          if (std::this_thread::get_id() == reader) other_thread = false;
          written.push_back(chunk.last_row);
        },
        [] {});
    for (std::int64_t row = 1; row <= 20; ++row) {  // more chunks than kChunksInFlight
      pipeline.current().last_row = row;
      pipeline.Hand(false);
    }
    pipeline.current().last_row = 21;
    pipeline.Finish();
  }
  ASSERT_EQ(written.size(), 21u);
  for (std::size_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ(written[i], static_cast<std::int64_t>(i + 1));
  }
  EXPECT_TRUE(other_thread);
}

TEST(ChunkPipelineTest, AWriterFailureReachesTheReaderAndCallsOnFailure) {
  bool on_failure_called = false;
  ChunkPipeline pipeline(
      [](IngestChunk& chunk) {
        if (chunk.last_row == 3) throw std::runtime_error("disk full");
      },
      [&] { on_failure_called = true; });
  bool thrown = false;
  try {
    for (std::int64_t row = 1; row <= 50; ++row) {
      pipeline.current().last_row = row;
      pipeline.Hand(false);
    }
    pipeline.Finish();
  } catch (const std::runtime_error& e) {
    thrown = std::string(e.what()) == "disk full";
  }
  EXPECT_TRUE(thrown);
  EXPECT_TRUE(on_failure_called);
}

class IngestBatchWriterTest : public ::testing::Test {
 protected:
  IngestBatchWriterTest() : store_(Store::Init(tmp_ / "hub", {.region = "sh"})) {}
  std::int64_t Count(const std::string& table) {
    return store_.db().QueryInt("SELECT count(*) FROM " + table).value_or(-1);
  }
  static IngestChunk Chunk(int first, int last, bool commit) {
    IngestChunk chunk;
    std::string scratch;
    for (int i = first; i <= last; ++i) {
      chunk.records.push_back(PrepareRecord(TestAssessment(i), scratch));
    }
    chunk.rejections.push_back(TestRejection(last + 1));
    chunk.read = last - first + 2;
    chunk.last_row = last + 1;
    chunk.commit = commit;
    return chunk;
  }
  TempDir tmp_;
  Store store_;
};

TEST_F(IngestBatchWriterTest, ABatchIsCommittedWholeAtItsLastChunk) {
  IngestBatchWriter writer(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {});
  IngestChunk first = Chunk(1, 5, false);
  writer.Write(first);
  EXPECT_EQ(writer.committed().accepted, 0);  // the batch is still open
  IngestChunk last = Chunk(7, 9, true);
  writer.Write(last);
  EXPECT_EQ(writer.committed().read, 10);  // 6 + 4 rows: read = accepted + quarantined
  EXPECT_EQ(writer.committed().accepted, 8);
  EXPECT_EQ(writer.committed().quarantined, 2);
  EXPECT_EQ(writer.committed().inserted, 8);
  EXPECT_EQ(Count("records"), 8);
  EXPECT_EQ(Count("changes"), 8);
  EXPECT_EQ(Count("quarantine"), 2);
}

TEST_F(IngestBatchWriterTest, AnOpenBatchIsRolledBackAndTheRunResumesAfterTheLastCommit) {
  {
    IngestBatchWriter writer(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {});
    IngestChunk committed = Chunk(1, 5, true);
    writer.Write(committed);
    IngestChunk open = Chunk(7, 9, false);
    writer.Write(open);
  }  // destroyed with the second batch open, as a crash would leave it
  EXPECT_EQ(Count("records"), 5);
  EXPECT_EQ(Count("changes"), 5);
  EXPECT_EQ(Count("quarantine"), 1);
  IngestBatchWriter resumed(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {});
  EXPECT_EQ(resumed.rows_already_done(), 6);
  EXPECT_EQ(resumed.committed().accepted, 5);
}

TEST_F(IngestBatchWriterTest, TheSameContentAgainIsUnchangedAndWritesNothing) {
  {
    IngestBatchWriter writer(store_, "/data/a.csv", "sha-a", "shanghai/assessment", {});
    IngestChunk chunk = Chunk(1, 5, true);
    writer.Write(chunk);
    writer.MarkRunComplete();
  }
  IngestBatchWriter again(store_, "/data/b.csv", "sha-b", "shanghai/assessment", {});
  IngestChunk chunk = Chunk(1, 5, true);
  again.Write(chunk);
  EXPECT_EQ(again.committed().unchanged, 5);
  EXPECT_EQ(again.committed().inserted, 0);
  EXPECT_EQ(Count("changes"), 5);
}

}  // namespace
}  // namespace carehub
