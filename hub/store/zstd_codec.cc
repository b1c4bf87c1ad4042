#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_format (magicless frames), ZSTD_getFrameHeader_advanced
#include "hub/store/zstd_codec.h"

#include <zdict.h>
#include <zstd.h>

#include "schemas/error.h"

namespace carehub::zstd {
namespace {

// A body claiming to be larger than this is damaged (record bodies are a few hundred bytes).
constexpr unsigned long long kMaxBodyBytes = 64ULL << 20;

void Check(std::size_t code, const char* what) {
  if (ZSTD_isError(code)) {
    throw Error::IoError(std::string("zstd ") + what + ": " + ZSTD_getErrorName(code));
  }
}

}  // namespace

void CCtxFree::operator()(ZSTD_CCtx_s* p) const { ZSTD_freeCCtx(p); }
void DCtxFree::operator()(ZSTD_DCtx_s* p) const { ZSTD_freeDCtx(p); }
void CDictFree::operator()(ZSTD_CDict_s* p) const { ZSTD_freeCDict(p); }
void DDictFree::operator()(ZSTD_DDict_s* p) const { ZSTD_freeDDict(p); }

Dictionary::Dictionary(std::string bytes, int level) : bytes_(std::move(bytes)) {
  id_ = ZDICT_getDictID(bytes_.data(), bytes_.size());
  if (id_ == 0) throw Error::InvalidInput("not a zstd dictionary (no dictionary ID)");
  cdict_.reset(ZSTD_createCDict(bytes_.data(), bytes_.size(), level));
  ddict_.reset(ZSTD_createDDict(bytes_.data(), bytes_.size()));
  if (!cdict_ || !ddict_) throw Error::InvalidInput("zstd refused the dictionary");
}

std::optional<std::string> TrainDictionary(std::string_view samples,
                                           std::span<const std::size_t> sizes,
                                           std::size_t capacity) {
  std::string dict(capacity, '\0');
  const std::size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(),
                                              sizes.data(), static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) return std::nullopt;
  dict.resize(n);
  return dict;
}

Compressor::Compressor() : cctx_(ZSTD_createCCtx()) {
  if (!cctx_) throw Error::IoError("zstd: out of memory");
  ZSTD_CCtx* c = cctx_.get();
  Check(ZSTD_CCtx_setParameter(c, ZSTD_c_format, ZSTD_f_zstd1_magicless), "format");
  Check(ZSTD_CCtx_setParameter(c, ZSTD_c_dictIDFlag, 0), "dictIDFlag");
  // 4 bytes per body: a damaged blob fails on every read, not only in `carehub verify`.
  Check(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1), "checksumFlag");
  Check(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1), "contentSizeFlag");
}

void Compressor::Compress(const Dictionary& dict, std::string_view in, std::string& out) {
  ZSTD_CCtx* c = cctx_.get();
  Check(ZSTD_CCtx_refCDict(c, dict.cdict()), "refCDict");
  const std::size_t bound = ZSTD_compressBound(in.size());
  if (buffer_.size() < bound) buffer_.resize(bound);
  const std::size_t n = ZSTD_compress2(c, buffer_.data(), buffer_.size(), in.data(), in.size());
  Check(n, "compress");
  out.assign(buffer_.data(), n);
}

Decompressor::Decompressor() : dctx_(ZSTD_createDCtx()) {
  if (!dctx_) throw Error::IoError("zstd: out of memory");
  Check(ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_format, ZSTD_f_zstd1_magicless), "format");
}

void Decompressor::Decompress(const Dictionary& dict, std::string_view in, std::string& out,
                              bool strict, std::size_t max_size) {
  ZSTD_frameHeader header{};
  const std::size_t rest =
      ZSTD_getFrameHeader_advanced(&header, in.data(), in.size(), ZSTD_f_zstd1_magicless);
  if (rest != 0 || header.frameType != ZSTD_frame ||
      header.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ||
      header.frameContentSize > kMaxBodyBytes) {
    throw Error::Corruption(ZSTD_isError(rest)
                                ? std::string("not a zstd frame: ") + ZSTD_getErrorName(rest)
                                : std::string("not a zstd frame of a body"));
  }
  if (strict && (!header.checksumFlag || header.dictID != 0)) {
    throw Error::Corruption("a body frame without checksum or with a dictionary ID");
  }
  if (strict && header.frameContentSize > max_size) {
    throw Error::Corruption("a body frame declaring more bytes than allowed");
  }
  ZSTD_DCtx* d = dctx_.get();
  const std::size_t ref = ZSTD_DCtx_refDDict(d, dict.ddict());
  if (ZSTD_isError(ref)) throw Error::IoError(std::string("zstd: ") + ZSTD_getErrorName(ref));
  const auto size = static_cast<std::size_t>(header.frameContentSize);
  if (size > out.capacity()) {
    // Allocated at its size: growing a reused buffer would double its capacity (libstdc++),
    // and receivers decode into reused entries (wire::DecodeBatch).
    out = std::string(size, '\0');
  } else {
    out.resize(size);
  }
  const std::size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    throw Error::Corruption(std::string("does not decompress: ") + ZSTD_getErrorName(n));
  }
  if (n != out.size()) throw Error::Corruption("decompresses to another size than its header's");
}

// RFC 8878 3.1.1.1 without the magic number: the frame header descriptor, the window descriptor
// unless single-segment, the dictionary ID (0, 1, 2 or 4 bytes), then the content size (1 byte
// when single-segment and flagged 0, else 0, 2, 4 or 8 bytes; little-endian; 2 bytes hold
// size - 256). Parsed here: ZSTD_getFrameHeader_advanced took ~0.1 us a body, a tenth of what
// a version-7 server spends on a batch.
std::optional<std::uint64_t> BodyContentSize(std::string_view frame) {
  if (frame.empty()) return std::nullopt;
  const auto descriptor = static_cast<std::uint8_t>(frame[0]);
  if ((descriptor & 0x08) != 0) return std::nullopt;  // the reserved bit
  const bool single_segment = ((descriptor >> 5) & 1) != 0;
  static constexpr std::size_t kDictIdBytes[] = {0, 1, 2, 4};
  static constexpr std::size_t kSizeBytes[] = {0, 2, 4, 8};
  const int size_flag = descriptor >> 6;
  const std::size_t size_bytes = size_flag == 0 && single_segment ? 1 : kSizeBytes[size_flag];
  const std::size_t at = 1 + (single_segment ? 0 : 1) + kDictIdBytes[descriptor & 3];
  if (size_bytes == 0 || frame.size() < at + size_bytes) return std::nullopt;
  std::uint64_t size = 0;
  for (std::size_t i = size_bytes; i-- > 0;)
    size = (size << 8) | static_cast<std::uint8_t>(frame[at + i]);
  return size_bytes == 2 ? size + 256 : size;
}

std::string CompressFrame(std::string_view in, int level) {
  // One context and buffer per thread: a batch frame is megabytes, and a fresh context and a
  // zero-filled bound-sized string per frame were mapped and faulted in anew each time.
  thread_local std::unique_ptr<ZSTD_CCtx_s, CCtxFree> cctx(ZSTD_createCCtx());
  thread_local std::vector<char> buffer;
  if (!cctx) throw Error::IoError("zstd: out of memory");
  const std::size_t bound = ZSTD_compressBound(in.size());
  if (buffer.size() < bound) buffer.resize(bound);
  const std::size_t n =
      ZSTD_compressCCtx(cctx.get(), buffer.data(), bound, in.data(), in.size(), level);
  Check(n, "compress");
  return std::string(buffer.data(), n);
}

std::string DecompressFrame(std::string_view frame, std::size_t size) {
  if (ZSTD_getFrameContentSize(frame.data(), frame.size()) != size) {
    throw Error::Corruption("the zstd frame does not declare a content size of " +
                            std::to_string(size) + " bytes");
  }
  if (ZSTD_findFrameCompressedSize(frame.data(), frame.size()) != frame.size()) {
    throw Error::Corruption("not exactly one zstd frame");
  }
  std::string out(size, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    throw Error::Corruption(std::string("does not decompress: ") + ZSTD_getErrorName(n));
  }
  if (n != size) throw Error::Corruption("decompresses to another size than its header's");
  return out;
}

}  // namespace carehub::zstd
