// The exchange wire protocol (docs/PROTOCOL.md): message structs, their encoding into ZeroMQ
// frames and the one decoder that rejects anything malformed. Pure functions, thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "hub/store/body_codec.h"
#include "hub/store/change_log.h"
#include "schemas/error.h"

namespace carehub::wire {

inline constexpr std::string_view kMagic = "CHX";
// 2: BATCH entries packed in one frame. 3: HELLO, WELCOME and NOTIFY carry the sender's signed
// heads (gossip for fork evidence) in a second frame; everything else as in 2. 4: BATCH entries
// without the fields the receiver derives (seq, record_hash, prev_hash, entry_hash), the
// entries frame compressed with zstd; everything else as in 3. 5: two more messages, HASH_REQUEST
// (server -> client) and HASHES (its answer), with which a hub finds the fork point with a member
// that dials it; everything else as in 4. 6: BATCH entries carry each body as the sender stores
// it (its at-rest zstd frame and dictionary id, or raw), the entries frame is not compressed,
// and the dictionaries the entries use that the PULL did not list travel in a fourth frame;
// PULL lists the dictionaries the client holds; everything else as in 5. 7: one more message,
// REFUSED (client -> server: a BATCH of that server refused for its content), and a BATCH whose
// body does not decompress is refused (Batch::damaged), not malformed; a server may send
// batches to a version-7 client without hashing their bodies, since the client verifies them
// and reports what it refuses (docs/PROTOCOL.md "Serving a PULL"); everything else as in 6.
inline constexpr std::uint8_t kProtocolVersion = 7;
// The oldest version this hub still decodes and answers in (docs/PROTOCOL.md "Versions").
inline constexpr std::uint8_t kOldestProtocolVersion = 2;

// Version-4 BATCH limits (docs/PROTOCOL.md): a receiver refuses as malformed, before allocating,
// a batch declaring more entries or more decompressed entry bytes than this.
inline constexpr std::uint32_t kMaxBatchEntries = 1'000'000;
inline constexpr std::uint32_t kMaxBatchEntriesBytes = 128u << 20;
// Inbound frame bounds (ZMQ_MAXMSGSIZE, docs/PROTOCOL.md "Transport and admission"): a peer
// sending a larger frame is disconnected by ZeroMQ before the frame is held. A server receives
// only requests (HELLO, PULL, PING, SCHEMA_REQUEST): the largest is a HELLO's signed heads
// frame, 112 bytes per origin, so 256 KiB leaves room for over 2000 origins. A client receives
// replies: the largest is a BATCH entries frame, at most 128 MiB decompressed (version 4; zstd
// adds at most 0.4% to incompressible input) — 136 MiB covers it and a version-3 frame of the
// same batch (104 more bytes per entry, 20000 entries a batch). A version-6 entries frame is
// sent uncompressed and bounded by kMaxBatchEntriesBytes as sent; its dictionaries frame by
// kMaxBatchDictionaries x kMaxDictionaryBytes.
inline constexpr std::int64_t kMaxRequestFrameBytes = 256 << 10;
inline constexpr std::int64_t kMaxReplyFrameBytes = std::int64_t{136} << 20;
// zstd level of version-4 entries: measured best ratio per CPU on BATCH frames (PERFORMANCE.md).
inline constexpr int kBatchZstdLevel = 1;
// Version 6 (docs/PROTOCOL.md "BATCH"): dictionary ids one PULL may list, dictionaries one
// BATCH may carry and the size of each (the trainer makes at most 32 KiB).
inline constexpr std::uint32_t kMaxPullDictionaries = 64;
inline constexpr std::uint32_t kMaxBatchDictionaries = 16;
inline constexpr std::uint32_t kMaxDictionaryBytes = 64u << 10;
// Seqs one HASH_REQUEST may ask for (and entry hashes one HASHES may carry).
inline constexpr std::uint32_t kMaxHashSeqs = 64;
// Bytes of a REFUSED's reason text (version 7).
inline constexpr std::size_t kMaxRefusedReasonBytes = 256;

enum class MessageType : std::uint8_t {
  kHello = 1,
  kWelcome = 2,
  kPull = 3,
  kBatch = 4,
  kSchemaRequest = 5,
  kSchema = 6,
  kNotify = 7,
  kPing = 8,
  kPong = 9,
  kError = 10,
  kHashRequest = 11,  // version 5
  kHashes = 12,       // version 5
  kRefused = 13,      // version 7
};

enum class ErrorCode : std::uint16_t {
  kUnknownVersion = 1,
  kUnknownOrigin = 2,
  kBadSignature = 3,
  kGap = 4,
  kMalformed = 5,
  kUnknownSchema = 6,
  kUnauthorized = 7,
  kInternal = 8,
};
std::string_view ErrorCodeName(ErrorCode code);
// "HELLO", "ERROR", ... as docs/PROTOCOL.md names them; "" for a value that is no type.
std::string_view MessageTypeName(MessageType type);

class WireError : public Error {
 public:
  WireError(ErrorCode code, const std::string& message)
      : Error(ErrorKind::kProtocol, message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

struct HeadSummary {
  std::string origin;
  std::int64_t seq = 0;
  bool operator==(const HeadSummary&) const = default;
};

struct Hello {
  std::string region;
  std::vector<HeadSummary> heads;
  // Version 3: the latest signed head the sender holds of every origin (gossip). Empty when the
  // message is encoded or was decoded as version 2.
  std::vector<SignedHead> signed_heads = {};
  bool operator==(const Hello&) const = default;
};
struct Welcome : Hello {};
struct Notify : Hello {};

struct Pull {
  std::string origin;
  std::int64_t after_seq = 0;
  std::uint32_t max_entries = 0;
  // Version 6: ids of body dictionaries the client holds (at most kMaxPullDictionaries): the
  // server does not send these with a BATCH. Empty when encoded or decoded as version 2-5.
  std::vector<std::uint32_t> dictionaries = {};
  bool operator==(const Pull&) const = default;
};

// A BATCH: entries after_seq+1 .. head.seq (none when caught up). Decoded from version 4, every
// entry's seq and hashes are derived by the receiver (the first prev_hash comes from the header),
// so an entry's hashes only describe what was received; verification checks them against the
// stored chain and the signed head as for any version.
struct Batch {
  SignedHead head;
  std::int64_t after_seq = 0;
  std::vector<ChangeEntry> entries;
  // Set by Decode of a version-4 BATCH: the entries' hashes were computed here from the bodies
  // (EntryHashes::kDerivedHere), not received. Not part of the message (not compared).
  bool hashes_derived = false;
  // Version 6. Encoding: each entry's body as stored (parallel to entries; an entry with a null
  // dict, or all of them when this is empty, is sent raw) and the dictionaries to send along
  // (those the entries use that the PULL did not list). Decoding: the same as received, each
  // dictionary built and checked (every received frame decompressed into its entry's body).
  std::vector<CompressedBody> stored = {};
  std::vector<DictionaryPtr> dictionaries = {};
  // Set by Decode of a version-7 BATCH whose framing decodes but whose content cannot be used:
  // a body that does not decompress with its dictionary (in version 6 that batch is malformed).
  // Says which seq and why (no record content); `entries` and `stored` are then empty. The
  // receiver refuses such a batch and tells the server (REFUSED). Not part of the message.
  std::optional<std::string> damaged = std::nullopt;
  bool operator==(const Batch& other) const {
    return head == other.head && after_seq == other.after_seq && entries == other.entries;
  }
};

struct SchemaRequest {
  std::uint64_t fingerprint = 0;
  bool operator==(const SchemaRequest&) const = default;
};
struct Schema {
  std::uint64_t fingerprint = 0;
  std::string json;
  bool operator==(const Schema&) const = default;
};

struct Ping {
  std::uint64_t nonce = 0;
  bool operator==(const Ping&) const = default;
};
struct Pong : Ping {};

struct ErrorReply {
  ErrorCode code = ErrorCode::kInternal;
  std::string origin;
  std::string detail;
  bool operator==(const ErrorReply&) const = default;
};

// Version 5, server -> client: the entry hashes the client holds of `origin` at `seqs` (1 to
// kMaxHashSeqs seqs, ascending, each >= 1).
struct HashRequest {
  std::string origin;
  std::vector<std::int64_t> seqs;
  bool operator==(const HashRequest&) const = default;
};
// Version 5, client -> server, the answer to a HashRequest: (seq, entry_hash) for each asked seq
// the client holds, ascending (a seq it does not hold is left out).
struct Hashes {
  std::string origin;
  std::vector<std::pair<std::int64_t, Hash256>> hashes;
  bool operator==(const Hashes&) const = default;
};

// Version 7, client -> server: the client refused the server's BATCH of `origin` after_seq ..
// head_seq for its content (a body that does not decompress, a hash, the chain, the head or its
// signature). `reason` says what failed (at most kMaxRefusedReasonBytes, never record
// contents). Not answered; the server checks that range of its log itself.
struct Refused {
  std::string origin;
  std::int64_t after_seq = 0;
  std::int64_t head_seq = 0;  // > after_seq
  std::string reason;
  bool operator==(const Refused&) const = default;
};

using Message = std::variant<Hello, Welcome, Pull, Batch, SchemaRequest, Schema, Notify, Ping, Pong,
                             ErrorReply, HashRequest, Hashes, Refused>;
using Frames = std::vector<std::string>;

MessageType TypeOf(const Message& message);
// Encodes in `version` (kOldestProtocolVersion..kProtocolVersion; HASH_REQUEST and HASHES only in
// 5 and later, REFUSED only in 7 and later, else Error kInvalidInput); version 2 leaves out the
// signed heads of HELLO/WELCOME/NOTIFY. A version-4 BATCH needs entries after_seq+1..head.seq in
// order and within kMaxBatchEntriesBytes (else Error kInvalidInput); its entries' hashes are not
// sent (the receiver derives them from the first prev_hash).
Frames Encode(const Message& message, std::uint8_t version = kProtocolVersion);
// Body dictionaries a receiver holds, by id (version-6 BATCH entries may use them unsent).
using HeldDictionaries = std::map<std::int64_t, DictionaryPtr>;

// Throws WireError (kMalformed, kUnknownVersion) for anything that does not decode. Decodes
// every version from kOldestProtocolVersion to kProtocolVersion. A version-6 BATCH entry whose
// dictionary is neither in the BATCH nor in `held` is malformed, as is a sent dictionary whose
// id `held` holds with other bytes.
Message Decode(const Frames& frames, const HeldDictionaries* held = nullptr);
// Decode of a message that must be a BATCH (else WireError kMalformed) into `batch`: the entries
// and stored bodies it holds (from an earlier batch) are overwritten in place and keep their
// strings' capacity, so that a receiver decoding batch after batch into recycled vectors
// allocates nothing per entry once warmed up; the result is the one Decode gives.
void DecodeBatch(const Frames& frames, Batch& batch, const HeldDictionaries* held = nullptr);
// The version byte of a message's frame 0 (0 when there is no valid header frame).
std::uint8_t VersionOf(const Frames& frames);

}  // namespace carehub::wire
