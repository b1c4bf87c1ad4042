// Big-endian frame writer and bounds-checked frame reader shared by the wire encoders
// (wire.cc, wire_batch.cc). Internal to hub/exchange: every overrun of a Reader is a malformed
// message (WireError kMalformed naming what was being read).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "hub/exchange/wire.h"

namespace carehub::wire::internal {

// Big-endian writer into one frame.
class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(std::uint16_t v) {
    U8(static_cast<std::uint8_t>(v >> 8));
    U8(static_cast<std::uint8_t>(v));
  }
  void U32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) U8(static_cast<std::uint8_t>(v >> shift));
  }
  void U64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) U8(static_cast<std::uint8_t>(v >> shift));
  }
  void Short(std::string_view text) {  // u16 length + bytes
    if (text.size() > 0xFFFF) throw Error::InvalidInput("wire: string longer than 65535 bytes");
    U16(static_cast<std::uint16_t>(text.size()));
    Raw(text);
  }
  template <std::size_t N>
  void Fixed(const std::array<std::uint8_t, N>& bytes) {
    out_.append(reinterpret_cast<const char*>(bytes.data()), N);
  }
  void Raw(std::string_view bytes) { out_.append(bytes); }
  void Reserve(std::size_t n) { out_.reserve(n); }
  std::size_t size() const { return out_.size(); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Big-endian reader over one frame; every overrun is a malformed message.
class Reader {
 public:
  Reader(std::string_view frame, const char* what) : in_(frame), what_(what) {}
  std::uint8_t U8() { return static_cast<std::uint8_t>(Take(1)[0]); }
  std::uint16_t U16() { return static_cast<std::uint16_t>(Uint(2)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Uint(4)); }
  std::uint64_t U64() { return Uint(8); }
  std::string Short() { return std::string(Take(U16())); }
  template <std::size_t N>
  void Fixed(std::array<std::uint8_t, N>& out) {
    std::memcpy(out.data(), Take(N).data(), N);
  }
  std::string_view Rest() { return Take(in_.size() - pos_); }
  std::string_view Bytes(std::size_t n) { return Take(n); }
  bool AtEnd() const { return pos_ == in_.size(); }
  void End() const {
    if (pos_ != in_.size()) Fail("trailing bytes");
  }
  // A u64 sequence number, which must be below 2^63 (the store keeps signed 64-bit integers).
  std::int64_t Seq() {
    const std::uint64_t v = U64();
    if (v > static_cast<std::uint64_t>(INT64_MAX)) Fail("seq out of range");
    return static_cast<std::int64_t>(v);
  }
  [[noreturn]] void Fail(const std::string& why) const {
    throw WireError(ErrorCode::kMalformed, std::string("malformed ") + what_ + ": " + why);
  }

 private:
  std::string_view Take(std::size_t n) {
    if (in_.size() - pos_ < n) Fail("frame too short");
    const std::string_view out = in_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint64_t Uint(int bytes) {
    std::uint64_t v = 0;
    for (const char c : Take(static_cast<std::size_t>(bytes))) {
      v = (v << 8) | static_cast<std::uint8_t>(c);
    }
    return v;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  const char* what_;
};

// BATCH frames 1 and 2 in `version` (wire_batch.cc): versions 2 and 3 carry every entry field,
// version 4 leaves out what the receiver derives and compresses the entries with zstd, version
// 6 sends each body as stored (no frame compression) and its dictionaries in a frame 3.
void EncodeBatchFrames(const Batch& batch, std::uint8_t version, Frames& frames);
// Decodes frames 1 and 2 (frames[0] is the checked header); throws WireError kMalformed.
Batch DecodeBatchFrames(const Frames& frames, std::uint8_t version,
                        const HeldDictionaries* held = nullptr);
// The same into `into`: versions 4 and later overwrite the entries (and stored bodies) it holds
// in place, keeping their strings' capacity (wire::DecodeBatch).
void DecodeBatchFrames(const Frames& frames, std::uint8_t version, const HeldDictionaries* held,
                       Batch& into);

}  // namespace carehub::wire::internal
