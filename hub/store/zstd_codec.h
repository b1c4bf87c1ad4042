// The only wrapper of the zstd C API (as sqlite_db.h is of SQLite's): RAII owners of zstd's
// objects and the operations carehub needs.
// - Record bodies at rest (hub/store/body_codec.h): train a dictionary from sample bodies,
//   compress one body with a dictionary, decompress one. These frames are written without the
//   magic number and the dictionary ID (the change row names its dictionary), with the content
//   size and zstd's checksum (so a damaged blob fails when read).
// - Plain frames (version-4 BATCH entries, docs/PROTOCOL.md): CompressFrame/DecompressFrame, the
//   standard format exactly as ZSTD_compress writes it (magic number, content size, no checksum,
//   no dictionary); the wire bytes depend on it, so its parameters must not change.
// Errors: Error::Corruption for a blob or frame that does not decompress (the caller adds which
// row or message), Error::InvalidInput for bytes that are not a zstd dictionary. Thread-safety: a
// Dictionary is immutable once made and may be shared by threads; a Compressor or Decompressor
// belongs to one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct ZSTD_CDict_s;
struct ZSTD_DDict_s;

namespace carehub::zstd {

// The compression level bodies are written with (1: fastest; with a dictionary, level 5 saved
// under 1 byte of ~105 per body, docs/STORE.md).
inline constexpr int kBodyLevel = 1;

struct CCtxFree {
  void operator()(ZSTD_CCtx_s* p) const;
};
struct DCtxFree {
  void operator()(ZSTD_DCtx_s* p) const;
};
struct CDictFree {
  void operator()(ZSTD_CDict_s* p) const;
};
struct DDictFree {
  void operator()(ZSTD_DDict_s* p) const;
};

// A trained dictionary with its digested forms for compressing and decompressing.
class Dictionary {
 public:
  // Throws Error::InvalidInput when `bytes` are not a zstd dictionary (no dictionary ID).
  explicit Dictionary(std::string bytes, int level = kBodyLevel);
  // The zstd dictionary ID from its header: derived from its content by the trainer.
  std::uint32_t id() const { return id_; }
  const std::string& bytes() const { return bytes_; }
  const ZSTD_CDict_s* cdict() const { return cdict_.get(); }
  const ZSTD_DDict_s* ddict() const { return ddict_.get(); }

 private:
  std::string bytes_;
  std::uint32_t id_ = 0;
  std::unique_ptr<ZSTD_CDict_s, CDictFree> cdict_;
  std::unique_ptr<ZSTD_DDict_s, DDictFree> ddict_;
};

// Trains a dictionary of at most `capacity` bytes from `samples`, the concatenation of samples
// of the given `sizes` (ZDICT_trainFromBuffer). nullopt when zstd cannot (too few or too
// uniform samples); the caller then stores bodies raw.
std::optional<std::string> TrainDictionary(std::string_view samples,
                                           std::span<const std::size_t> sizes,
                                           std::size_t capacity);

class Compressor {
 public:
  Compressor();
  // Replaces `out` with `in` compressed with `dict`. Compresses into a buffer of this
  // compressor's, so `out` is sized to the frame (not to zstd's worst-case bound) and not
  // zero-filled first.
  void Compress(const Dictionary& dict, std::string_view in, std::string& out);

 private:
  std::unique_ptr<ZSTD_CCtx_s, CCtxFree> cctx_;
  std::vector<char> buffer_;
};

class Decompressor {
 public:
  Decompressor();
  // Replaces `out` with `in` decompressed with `dict`. Throws Error::Corruption with zstd's
  // reason when `in` is not a frame of this format or does not decompress with `dict`; with
  // `strict` also when the frame has no checksum or declares more than `max_size` bytes (a body
  // received from a peer, docs/PROTOCOL.md "BATCH", version 6: checked before allocating).
  void Decompress(const Dictionary& dict, std::string_view in, std::string& out,
                  bool strict = false, std::size_t max_size = 0);

 private:
  std::unique_ptr<ZSTD_DCtx_s, DCtxFree> dctx_;
};

// The content size a body frame (the at-rest format above) declares in its header; nullopt when
// `frame` does not start with such a header or declares none. Reads the header only (a server
// bounds a version-7 BATCH by it without decompressing the bodies it sends).
std::optional<std::uint64_t> BodyContentSize(std::string_view frame);

// `in` as one standard zstd frame at `level`, declaring its content size (ZSTD_compress).
std::string CompressFrame(std::string_view in, int level);

// The content of `frame` when it is exactly one standard zstd frame declaring `size` bytes of
// content (checked before anything is allocated, so a caller that bounds `size` bounds the
// memory). Throws Error::Corruption saying which check failed.
std::string DecompressFrame(std::string_view frame, std::size_t size);

}  // namespace carehub::zstd
