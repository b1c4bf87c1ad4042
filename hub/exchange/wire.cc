#include "hub/exchange/wire.h"

#include <cstring>

#include "hub/exchange/wire_io.h"

namespace carehub::wire {
namespace {

using internal::Reader;
using internal::Writer;

std::string HelloFrame(const Hello& h) {
  Writer w;
  w.Short(h.region);
  w.U32(static_cast<std::uint32_t>(h.heads.size()));
  for (const HeadSummary& head : h.heads) {
    w.Short(head.origin);
    w.U64(static_cast<std::uint64_t>(head.seq));
  }
  return w.Take();
}

Hello ReadHello(const std::string& frame, const char* what) {
  Reader r(frame, what);
  Hello h;
  h.region = r.Short();
  const std::uint32_t count = r.U32();
  if (count > frame.size() / 10) r.Fail("head count larger than the frame");
  h.heads.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    HeadSummary head;
    head.origin = r.Short();
    head.seq = r.Seq();
    h.heads.push_back(std::move(head));
  }
  r.End();
  return h;
}

// Version 3 gossip frame: u32 count, then count times str16 origin, u64 seq, 32-byte head hash,
// 64-byte signature.
std::string SignedHeadsFrame(const std::vector<SignedHead>& heads) {
  Writer w;
  w.U32(static_cast<std::uint32_t>(heads.size()));
  for (const SignedHead& head : heads) {
    w.Short(head.origin);
    w.U64(static_cast<std::uint64_t>(head.seq));
    w.Fixed(head.head_hash);
    w.Fixed(head.signature);
  }
  return w.Take();
}

std::vector<SignedHead> ReadSignedHeads(const std::string& frame, const char* what) {
  Reader r(frame, what);
  const std::uint32_t count = r.U32();
  // Each head takes at least 2 + 8 + 32 + 64 bytes.
  if (count > frame.size() / 106) r.Fail("signed head count larger than the frame");
  std::vector<SignedHead> heads(count);
  for (SignedHead& head : heads) {
    head.origin = r.Short();
    head.seq = r.Seq();
    r.Fixed(head.head_hash);
    r.Fixed(head.signature);
  }
  r.End();
  return heads;
}

void ExpectFrames(const Frames& frames, std::size_t count, const char* what) {
  if (frames.size() != count) {
    throw WireError(ErrorCode::kMalformed, std::string("malformed ") + what + ": expected " +
                                               std::to_string(count) + " frames, got " +
                                               std::to_string(frames.size()));
  }
}

}  // namespace

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnknownVersion:
      return "unknown_version";
    case ErrorCode::kUnknownOrigin:
      return "unknown_origin";
    case ErrorCode::kBadSignature:
      return "bad_signature";
    case ErrorCode::kGap:
      return "gap";
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kUnknownSchema:
      return "unknown_schema";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown_error";
}

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHello:
      return "HELLO";
    case MessageType::kWelcome:
      return "WELCOME";
    case MessageType::kPull:
      return "PULL";
    case MessageType::kBatch:
      return "BATCH";
    case MessageType::kSchemaRequest:
      return "SCHEMA_REQUEST";
    case MessageType::kSchema:
      return "SCHEMA";
    case MessageType::kNotify:
      return "NOTIFY";
    case MessageType::kPing:
      return "PING";
    case MessageType::kPong:
      return "PONG";
    case MessageType::kError:
      return "ERROR";
    case MessageType::kHashRequest:
      return "HASH_REQUEST";
    case MessageType::kHashes:
      return "HASHES";
    case MessageType::kRefused:
      return "REFUSED";
  }
  return "";
}

MessageType TypeOf(const Message& message) {
  static constexpr MessageType kTypes[] = {
      MessageType::kHello,  MessageType::kWelcome,       MessageType::kPull,
      MessageType::kBatch,  MessageType::kSchemaRequest, MessageType::kSchema,
      MessageType::kNotify, MessageType::kPing,          MessageType::kPong,
      MessageType::kError,  MessageType::kHashRequest,   MessageType::kHashes,
      MessageType::kRefused};
  return kTypes[message.index()];
}

namespace {

// Error kInvalidInput unless `type` exists in `version` (a spoken one).
void CheckEncodable(MessageType type, std::uint8_t version) {
  if (version < kOldestProtocolVersion || version > kProtocolVersion) {
    throw Error::InvalidInput("wire: cannot encode protocol version " + std::to_string(version));
  }
  const std::uint8_t since = type == MessageType::kRefused ? 7
                             : type == MessageType::kHashRequest || type == MessageType::kHashes
                                 ? 5
                                 : kOldestProtocolVersion;
  if (version < since) {
    throw Error::InvalidInput("wire: " + std::string(MessageTypeName(type)) +
                              " does not exist in protocol version " + std::to_string(version));
  }
}

}  // namespace

Frames Encode(const Message& message, std::uint8_t version) {
  CheckEncodable(TypeOf(message), version);
  Frames frames;
  Writer header;
  header.Raw(kMagic);
  header.U8(version);
  header.U8(static_cast<std::uint8_t>(TypeOf(message)));
  frames.push_back(header.Take());
  std::visit(
      [&frames, version](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        Writer w;
        if constexpr (std::is_same_v<T, Hello> || std::is_same_v<T, Welcome> ||
                      std::is_same_v<T, Notify>) {
          frames.push_back(HelloFrame(m));
          if (version >= 3) frames.push_back(SignedHeadsFrame(m.signed_heads));
        } else if constexpr (std::is_same_v<T, Pull>) {
          w.Short(m.origin);
          w.U64(static_cast<std::uint64_t>(m.after_seq));
          w.U32(m.max_entries);
          if (version >= 6) {
            if (m.dictionaries.size() > kMaxPullDictionaries) {
              throw Error::InvalidInput("wire: a PULL lists more dictionaries than allowed");
            }
            w.U8(static_cast<std::uint8_t>(m.dictionaries.size()));
            for (const std::uint32_t id : m.dictionaries) w.U32(id);
          }
          frames.push_back(w.Take());
        } else if constexpr (std::is_same_v<T, Batch>) {
          internal::EncodeBatchFrames(m, version, frames);
        } else if constexpr (std::is_same_v<T, SchemaRequest>) {
          w.U64(m.fingerprint);
          frames.push_back(w.Take());
        } else if constexpr (std::is_same_v<T, Schema>) {
          w.U64(m.fingerprint);
          frames.push_back(w.Take());
          frames.push_back(m.json);
        } else if constexpr (std::is_same_v<T, Ping> || std::is_same_v<T, Pong>) {
          w.U64(m.nonce);
          frames.push_back(w.Take());
        } else if constexpr (std::is_same_v<T, ErrorReply>) {
          w.U16(static_cast<std::uint16_t>(m.code));
          w.Short(m.origin);
          frames.push_back(w.Take());
          frames.push_back(m.detail);
        } else if constexpr (std::is_same_v<T, HashRequest>) {
          w.Short(m.origin);
          w.U32(static_cast<std::uint32_t>(m.seqs.size()));
          for (const std::int64_t seq : m.seqs) w.U64(static_cast<std::uint64_t>(seq));
          frames.push_back(w.Take());
        } else if constexpr (std::is_same_v<T, Hashes>) {
          w.Short(m.origin);
          w.U32(static_cast<std::uint32_t>(m.hashes.size()));
          for (const auto& [seq, hash] : m.hashes) {
            w.U64(static_cast<std::uint64_t>(seq));
            w.Fixed(hash);
          }
          frames.push_back(w.Take());
        } else if constexpr (std::is_same_v<T, Refused>) {
          if (m.head_seq <= m.after_seq || m.reason.size() > kMaxRefusedReasonBytes) {
            throw Error::InvalidInput("wire: a REFUSED names no entries or too long a reason");
          }
          w.Short(m.origin);
          w.U64(static_cast<std::uint64_t>(m.after_seq));
          w.U64(static_cast<std::uint64_t>(m.head_seq));
          frames.push_back(w.Take());
          frames.push_back(m.reason);
        }
      },
      message);
  return frames;
}

namespace {

MessageType DecodeHeader(const Frames& frames) {
  if (frames.empty() || frames[0].size() != 5 || frames[0].compare(0, 3, kMagic) != 0) {
    throw WireError(ErrorCode::kMalformed, "malformed message: no CHX header frame");
  }
  const auto version = static_cast<std::uint8_t>(frames[0][3]);
  if (version < kOldestProtocolVersion || version > kProtocolVersion) {
    throw WireError(ErrorCode::kUnknownVersion, "protocol version " + std::to_string(version) +
                                                    " is not supported (this hub "
                                                    "speaks " +
                                                    std::to_string(kProtocolVersion) + ")");
  }
  return static_cast<MessageType>(static_cast<std::uint8_t>(frames[0][4]));
}

// HELLO, WELCOME, NOTIFY: the heads frame, and in version 3 the signed heads frame.
Hello ReadHelloMessage(const Frames& frames, std::uint8_t version, const char* what) {
  ExpectFrames(frames, version >= 3 ? 3 : 2, what);
  Hello h = ReadHello(frames[1], what);
  if (version >= 3) h.signed_heads = ReadSignedHeads(frames[2], what);
  return h;
}

Pull DecodePull(const Frames& frames, std::uint8_t version) {
  ExpectFrames(frames, 2, "PULL");
  Reader r(frames[1], "PULL");
  Pull p;
  p.origin = r.Short();
  p.after_seq = r.Seq();
  p.max_entries = r.U32();
  if (version >= 6) {
    const std::uint8_t count = r.U8();
    if (count > kMaxPullDictionaries) r.Fail("more dictionaries than a PULL may list");
    for (std::uint8_t i = 0; i < count; ++i) {
      const std::uint32_t id = r.U32();
      if (id == 0) r.Fail("dictionary id 0");
      p.dictionaries.push_back(id);
    }
  }
  r.End();
  return p;
}

SchemaRequest DecodeSchemaRequest(const Frames& frames) {
  ExpectFrames(frames, 2, "SCHEMA_REQUEST");
  Reader r(frames[1], "SCHEMA_REQUEST");
  SchemaRequest s{r.U64()};
  r.End();
  return s;
}

Schema DecodeSchema(const Frames& frames) {
  ExpectFrames(frames, 3, "SCHEMA");
  Reader r(frames[1], "SCHEMA");
  Schema s{r.U64(), frames[2]};
  r.End();
  return s;
}

Message DecodePingOrPong(const Frames& frames, MessageType type) {
  ExpectFrames(frames, 2, "PING");
  Reader r(frames[1], "PING");
  const std::uint64_t nonce = r.U64();
  r.End();
  if (type == MessageType::kPing) return Ping{nonce};
  return Pong{{nonce}};
}

ErrorReply DecodeError(const Frames& frames) {
  ExpectFrames(frames, 3, "ERROR");
  Reader r(frames[1], "ERROR");
  ErrorReply e;
  e.code = static_cast<ErrorCode>(r.U16());
  e.origin = r.Short();
  r.End();
  e.detail = frames[2];
  return e;
}

// HASH_REQUEST: 1..kMaxHashSeqs seqs, ascending, each >= 1. HASHES: 0..kMaxHashSeqs (seq, hash)
// pairs, seqs ascending, each >= 1.
template <typename T>
T DecodeHashMessage(const Frames& frames, const char* what) {
  ExpectFrames(frames, 2, what);
  Reader r(frames[1], what);
  T m;
  m.origin = r.Short();
  const std::uint32_t count = r.U32();
  constexpr bool kRequest = std::is_same_v<T, HashRequest>;
  if (count > kMaxHashSeqs) r.Fail("more than " + std::to_string(kMaxHashSeqs) + " seqs");
  if (kRequest && count == 0) r.Fail("no seq asked for");
  std::int64_t last = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::int64_t seq = r.Seq();
    if (seq <= last) r.Fail("seqs not ascending from 1");
    last = seq;
    if constexpr (kRequest) {
      m.seqs.push_back(seq);
    } else {
      Hash256 hash{};
      r.Fixed(hash);
      m.hashes.emplace_back(seq, hash);
    }
  }
  r.End();
  return m;
}

// REFUSED: str16 origin, u64 after_seq, u64 head_seq (> after_seq); frame 2 the reason text.
Refused DecodeRefused(const Frames& frames) {
  ExpectFrames(frames, 3, "REFUSED");
  Reader r(frames[1], "REFUSED");
  Refused m;
  m.origin = r.Short();
  m.after_seq = r.Seq();
  m.head_seq = r.Seq();
  r.End();
  if (m.head_seq <= m.after_seq) r.Fail("head seq not above after_seq");
  if (frames[2].size() > kMaxRefusedReasonBytes) r.Fail("reason longer than allowed");
  m.reason = frames[2];
  return m;
}

}  // namespace

std::uint8_t VersionOf(const Frames& frames) {
  if (frames.empty() || frames[0].size() != 5 || frames[0].compare(0, 3, kMagic) != 0) return 0;
  return static_cast<std::uint8_t>(frames[0][3]);
}

void DecodeBatch(const Frames& frames, Batch& batch, const HeldDictionaries* held) {
  if (DecodeHeader(frames) != MessageType::kBatch) {
    throw WireError(ErrorCode::kMalformed, "malformed message: a BATCH was expected");
  }
  internal::DecodeBatchFrames(frames, VersionOf(frames), held, batch);
}

Message Decode(const Frames& frames, const HeldDictionaries* held) {
  const MessageType type = DecodeHeader(frames);
  const std::uint8_t version = VersionOf(frames);
  switch (type) {
    case MessageType::kHello:
      return ReadHelloMessage(frames, version, "HELLO");
    case MessageType::kWelcome:
      return Welcome{ReadHelloMessage(frames, version, "WELCOME")};
    case MessageType::kNotify:
      return Notify{ReadHelloMessage(frames, version, "NOTIFY")};
    case MessageType::kPull:
      return DecodePull(frames, version);
    case MessageType::kBatch:
      return internal::DecodeBatchFrames(frames, version, held);
    case MessageType::kSchemaRequest:
      return DecodeSchemaRequest(frames);
    case MessageType::kSchema:
      return DecodeSchema(frames);
    case MessageType::kPing:
    case MessageType::kPong:
      return DecodePingOrPong(frames, type);
    case MessageType::kError:
      return DecodeError(frames);
    case MessageType::kHashRequest:
      if (version < 5) break;
      return DecodeHashMessage<HashRequest>(frames, "HASH_REQUEST");
    case MessageType::kHashes:
      if (version < 5) break;
      return DecodeHashMessage<Hashes>(frames, "HASHES");
    case MessageType::kRefused:
      if (version < 7) break;
      return DecodeRefused(frames);
  }
  throw WireError(ErrorCode::kMalformed,
                  "malformed message: unknown type " + std::to_string(static_cast<int>(type)));
}

}  // namespace carehub::wire
