#include "hub/store/ingest.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "connectors/profile.h"
#include "hub/store/ingest_batch.h"
#include "hub/store/ingest_pipeline.h"
#include "schemas/codec.h"
#include "schemas/error.h"
#include "schemas/sha256.h"

namespace carehub {
namespace fs = std::filesystem;
namespace {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string SummaryLine(const IngestSummary& s) {
  return "read=" + std::to_string(s.read) + " accepted=" + std::to_string(s.accepted) +
         " quarantined=" + std::to_string(s.quarantined) +
         " inserted=" + std::to_string(s.inserted) + " updated=" + std::to_string(s.updated) +
         " unchanged=" + std::to_string(s.unchanged);
}

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::IoError("cannot open " + path);
  Sha256Hasher state;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0) state.Update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  if (in.bad()) throw Error::IoError("cannot read " + path);
  return ToHex(state.Final());
}

EngineOptions EngineOptionsFor(const Store& store, std::function<std::int64_t()> now_ms) {
  EngineOptions options;
  options.origin_region = store.region();
  options.federation_key = store.federation_key();
  options.now_ms = now_ms ? std::move(now_ms) : SystemNowMs;
  return options;
}

// The reading side of a run: skips rows an earlier run stored, fills chunks and decides where
// batches end; the writes happen in `writer` on the pipeline's thread.
struct IngestSink::Impl {
  Impl(Store& store, const std::string& file, const std::string& sha, const std::string& profile,
       const IngestOptions& opts)
      : options(opts),
        writer(store, file, sha, profile, opts),
        skip_rows(writer.rows_already_done()),
        store_rows(store.RecordCountEstimate()),
        pipeline([this](IngestChunk& chunk) { writer.Write(chunk); }, [this] { writer.Abort(); }) {}

  // True for the rows an interrupted earlier run already stored.
  bool Skipping() { return ++row <= skip_rows; }

  // Accepted rows of the next batch: fixed, or growing with the store (see IngestOptions).
  std::int64_t BatchTarget() const {
    return GrowingBatchSize(store_rows, options.batch_size, options.max_batch_size);
  }

  void Added(PreparedRecord&& prepared) {
    IngestChunk& chunk = pipeline.current();
    chunk.records.push_back(std::move(prepared));
    Count(chunk);
    if (accepted_in_batch == 0) batch_target = BatchTarget();
    ++store_rows;
    if (++accepted_in_batch == batch_target) {
      accepted_in_batch = 0;
      chunk.commit = true;
      Hand();
    } else if (chunk.records.size() >= ChunkPipeline::kChunkRows) {
      Hand();
    }
  }

  // The chunk's bodies compressed here, on the reading thread, then the chunk handed to the
  // writer: with the Avro bodies written directly, the writer's SQLite work alone is about as
  // long as the reading thread's parsing, validation, encoding and compression.
  void Hand() {
    writer.CompressBodies(pipeline.current().records);
    pipeline.Hand(false);
  }

  void Rejected(Rejection&& rejection) {
    IngestChunk& chunk = pipeline.current();
    chunk.rejections.push_back(std::move(rejection));
    Count(chunk);
    if (static_cast<std::size_t>(chunk.read) >= 4 * ChunkPipeline::kChunkRows) Hand();
  }

  void Count(IngestChunk& chunk) const {
    chunk.last_row = row;
    ++chunk.read;
  }

  IngestOptions options;
  IngestBatchWriter writer;  // declared before `pipeline`: outlives its thread
  std::int64_t skip_rows = 0;
  std::int64_t row = 0;  // ordinal of the last row received
  std::string scratch;
  std::int64_t accepted_in_batch = 0;
  std::int64_t batch_target = 0;  // rows of the open batch
  // Rows in the store (max rowid at the start) plus the rows accepted since, an estimate that
  // does not wait for the writer (the reader runs ahead of the commits).
  std::int64_t store_rows = 0;
  ChunkPipeline pipeline;
};

IngestSink::IngestSink(Store& store, const std::string& file, const std::string& file_sha256,
                       const std::string& profile, const IngestOptions& options)
    : impl_(std::make_unique<Impl>(store, file, file_sha256, profile, options)) {}

IngestSink::~IngestSink() = default;

void IngestSink::Accept(CanonicalRecord&& record) {
  if (impl_->Skipping()) return;
  impl_->Added(PrepareRecord(std::move(record), impl_->scratch));
}

void IngestSink::Reject(Rejection&& rejection) {
  if (impl_->Skipping()) return;
  impl_->Rejected(std::move(rejection));
}

IngestSummary IngestSink::Finish() {
  impl_->writer.CompressBodies(impl_->pipeline.current().records);
  impl_->pipeline.Finish();
  impl_->writer.MarkRunComplete();
  return impl_->writer.committed();
}

IngestSummary Ingester::IngestFile(const std::string& path, const IngestOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw Error::IoError("cannot read " + path + ": not a readable file");
  }
  const std::string sha = FileSha256(path);
  const Profile& profile =
      options.profile ? engine_.FindProfile(*options.profile) : engine_.DetectProfile(path);
  const std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  IngestSink sink(store_, absolute.empty() ? path : absolute, sha, profile.name, options);
  engine_.Read(path, profile, sink, options.on_progress);
  IngestSummary summary = sink.Finish();
  summary.file = path;
  return summary;
}

}  // namespace carehub
