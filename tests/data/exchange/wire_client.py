#!/usr/bin/python3
"""An independent exchange client written from docs/PROTOCOL.md alone (python3-zmq with CURVE,
hashlib, python3-cryptography for Ed25519, python3-zstandard for versions 4 to 7).

Connects to a hub, says HELLO in the given protocol version, pulls every entry of ORIGIN from 0
to the advertised head, checks the chain (version 2/3: the hashes sent; version 4: the hashes
derived from the bodies; versions 6 and 7, whose BATCH is laid out alike: from the bodies
decompressed with the dictionaries sent or held) and every head signature, and prints one JSON line:
{"version": V, "entries": N, "head_seq": S, "head_hash": HEX, "batches": B, "entry_bytes": E,
 "compressed_bodies": C}.

usage: wire_client.py ENDPOINT SERVER_CURVE_PUBLIC CLIENT_CURVE_PUBLIC CLIENT_CURVE_SECRET
                      REGION ORIGIN ORIGIN_SIGN_KEY_HEX VERSION
"""
import hashlib
import json
import struct
import sys

import zmq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TYPES = {"HELLO": 1, "WELCOME": 2, "PULL": 3, "BATCH": 4, "ERROR": 10}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("frame too short")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack(">H", self.take(2))[0]
    def u32(self): return struct.unpack(">I", self.take(4))[0]
    def u64(self): return struct.unpack(">Q", self.take(8))[0]
    def str16(self): return self.take(self.u16())

    def end(self):
        if self.pos != len(self.data):
            raise ValueError("trailing bytes")


def str16(b): return struct.pack(">H", len(b)) + b


def entry_hash(origin, seq, op, record_id, version, record_hash, prev_hash):
    return hashlib.sha256(b"carehub.change.v1" + str16(origin) + struct.pack(">QB", seq, op) +
                          str16(record_id) + struct.pack(">I", version) + record_hash +
                          prev_hash).digest()


def send(sock, version, mtype, *frames):
    sock.send_multipart([b"CHX" + bytes([version, TYPES[mtype]])] + list(frames))


def receive(sock, version):
    frames = sock.recv_multipart()
    head = frames[0]
    if len(head) != 5 or head[:3] != b"CHX":
        raise ValueError("no CHX header")
    if head[4] == TYPES["ERROR"]:
        r = Reader(frames[1])
        code, origin = r.u16(), r.str16()
        raise RuntimeError(f"ERROR {code} origin={origin!r}: {frames[2].decode()}")
    if head[3] != version:
        raise ValueError(f"answered in version {head[3]}, asked in {version}")
    return head[4], frames[1:]


def entries_v3(origin, count, frame):
    r = Reader(frame)
    for _ in range(count):
        e = Reader(r.take(r.u32()))
        seq, op, version = e.u64(), e.u8(), e.u32()
        record_id = e.str16()
        record_hash, prev_hash, ehash = e.take(32), e.take(32), e.take(32)
        body = e.take(len(e.data) - e.pos)
        if hashlib.sha256(body).digest() != record_hash:
            raise ValueError(f"seq {seq}: record_hash")
        if entry_hash(origin, seq, op, record_id, version, record_hash, prev_hash) != ehash:
            raise ValueError(f"seq {seq}: entry_hash")
        yield seq, prev_hash, ehash
    r.end()


def entries_v4(origin, after, count, prev, size, frame):
    import zstandard
    if count == 0:
        return
    if size > 128 << 20 or count > 1_000_000 or count > size // 11:
        raise ValueError("beyond the version-4 limits")
    params = zstandard.get_frame_parameters(frame)
    if params.content_size != size:
        raise ValueError("zstd content size differs from the header")
    packed = zstandard.ZstdDecompressor().decompress(frame, max_output_size=size)
    if len(packed) != size:
        raise ValueError("entries size")
    r = Reader(packed)
    for i in range(count):
        e = Reader(r.take(r.u32()))
        op, version = e.u8(), e.u32()
        record_id = e.str16()
        body = e.take(len(e.data) - e.pos)
        seq = after + 1 + i
        ehash = entry_hash(origin, seq, op, record_id, version, hashlib.sha256(body).digest(),
                           prev)
        yield seq, prev, ehash
        prev = ehash
    r.end()


def dictionaries_v6(frame, dictionaries):
    """Frame 3 of a version-6 BATCH: u8 count, then (u32 id, u64 fingerprint, u32 size, bytes)."""
    import zstandard
    r = Reader(frame)
    count = r.u8()
    if count > 16:
        raise ValueError("too many dictionaries")
    for _ in range(count):
        dict_id, _fingerprint, size = r.u32(), r.u64(), r.u32()
        if size > 65536:
            raise ValueError("dictionary too large")
        data = r.take(size)
        if dict_id == 0 or len(data) < 8 or int.from_bytes(data[4:8], "little") != dict_id:
            raise ValueError("dictionary id is not its own")
        if dictionaries.get(dict_id, data) != data:
            raise ValueError("dictionary differs from the one held")
        dictionaries[dict_id] = data
    r.end()
    return {i: zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(d),
                                          format=zstandard.FORMAT_ZSTD1_MAGICLESS)
            for i, d in dictionaries.items()}


def entries_v6(origin, after, count, prev, size, frame, decompressors, stats):
    if size != len(frame) or size > 128 << 20 or count > 1_000_000 or count > size // 15:
        raise ValueError("beyond the version-6 limits")
    r = Reader(frame)
    for i in range(count):
        e = Reader(r.take(r.u32()))
        op, version = e.u8(), e.u32()
        record_id = e.str16()
        dict_id = e.u32()
        body = e.take(len(e.data) - e.pos)
        if dict_id:
            if dict_id not in decompressors:
                raise ValueError(f"unknown dictionary id {dict_id}")
            # A magicless frame with content size and checksum, which zstd checks while it
            # streams (the one-shot decompress() reads the content size as if magic led).
            body = decompressors[dict_id].decompressobj().decompress(body)
            stats["compressed_bodies"] += 1
        seq = after + 1 + i
        ehash = entry_hash(origin, seq, op, record_id, version, hashlib.sha256(body).digest(),
                           prev)
        yield seq, prev, ehash
        prev = ehash
    r.end()


def pull_all(sock, version, origin, key, target, stats):
    held, tip, batches, entry_bytes = 0, bytes(32), 0, 0
    dictionaries = {}  # version 6: id -> dictionary bytes, listed in every PULL
    while held < target:
        pull = str16(origin) + struct.pack(">QI", held, 5000)
        if version >= 6:
            ids = list(dictionaries)[-64:]
            pull += struct.pack(">B", len(ids)) + b"".join(struct.pack(">I", i) for i in ids)
        send(sock, version, "PULL", pull)
        mtype, frames = receive(sock, version)
        if mtype != TYPES["BATCH"]:
            raise ValueError(f"expected BATCH, got type {mtype}")
        r = Reader(frames[0])
        if r.str16() != origin or r.u64() != held:
            raise ValueError("batch of another pull")
        head_seq, head_hash, signature, count = r.u64(), r.take(32), r.take(64), r.u32()
        if version >= 6:
            prev, size = r.take(32), r.u32()
            if len(frames) != 3:
                raise ValueError("a version-6 BATCH has 4 frames")
            if count and prev != tip:
                raise ValueError("prev_hash does not continue the chain")
            decompressors = dictionaries_v6(frames[2], dictionaries)
            entries = entries_v6(origin, held, count, prev, size, frames[1], decompressors, stats)
        elif version >= 4:
            prev, size = r.take(32), r.u32()
            if count and prev != tip:
                raise ValueError("prev_hash does not continue the chain")
            entries = entries_v4(origin, held, count, prev, size, frames[1])
        else:
            entries = entries_v3(origin, count, frames[1])
        r.end()
        for seq, prev_hash, ehash in entries:
            if seq != held + 1 or prev_hash != tip:
                raise ValueError(f"seq {seq} does not continue the chain")
            held, tip = seq, ehash
        if (held, tip) != (head_seq, head_hash):
            raise ValueError("the batch does not end at its signed head")
        key.verify(signature, b"carehub.head.v1" + str16(origin) + struct.pack(">Q", head_seq) +
                   head_hash)
        batches += 1
        entry_bytes += len(frames[1])
    return held, tip, batches, entry_bytes


def main(argv):
    endpoint, server_key, public, secret, region, origin, sign_hex, version = argv[1:9]
    version, origin = int(version), origin.encode()
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sign_hex))
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.curve_serverkey, sock.curve_publickey = server_key.encode(), public.encode()
    sock.curve_secretkey = secret.encode()
    sock.rcvtimeo = sock.sndtimeo = 20000
    sock.linger = 0
    sock.connect(endpoint)
    hello = [str16(region.encode()) + struct.pack(">I", 0)]
    if version >= 3:
        hello.append(struct.pack(">I", 0))  # no signed heads held
    send(sock, version, "HELLO", *hello)
    mtype, frames = receive(sock, version)
    if mtype != TYPES["WELCOME"] or len(frames) != (2 if version >= 3 else 1):
        raise ValueError("expected WELCOME")
    r = Reader(frames[0])
    r.str16()
    heads = {}
    for _ in range(r.u32()):
        o = r.str16()
        heads[o] = r.u64()
    r.end()
    stats = {"compressed_bodies": 0}
    seq, tip, batches, entry_bytes = pull_all(sock, version, origin, key, heads.get(origin, 0),
                                              stats)
    print(json.dumps({"version": version, "entries": seq, "head_seq": seq, "head_hash": tip.hex(),
                      "batches": batches, "entry_bytes": entry_bytes,
                      "compressed_bodies": stats["compressed_bodies"]}))


if __name__ == "__main__":
    main(sys.argv)
