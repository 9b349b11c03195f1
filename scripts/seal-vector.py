#!/usr/bin/env python3
"""Writes test/vectors/seal/v1.json: sealed records of format version 1 (docs/sealed-state.md) computed
here with pyca/cryptography (HKDF-SHA256, AES-256-GCM) and a hand-written CBOR header, i.e. without
crates/seal's code, so crates/seal/tests/vectors.rs checks the Rust implementation against an
independent one. Run: python3 scripts/seal-vector.py (needs `cryptography`)."""
import json
import struct

import cryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)


def header(kind, name, version, lineage):
    text = lambda s: cbor_head(3, len(s.encode())) + s.encode()
    return cbor_head(4, 4) + text(kind) + text(name) + cbor_head(0, version) + cbor_head(2, 32) + lineage


def seal(master, lineage, kind, name, version, plaintext, salt):
    h = header(kind, name, version, lineage)
    aad = b"SNTLSEAL" + bytes([1]) + salt + struct.pack(">H", len(h)) + h
    okm = HKDF(algorithm=hashes.SHA256(), length=44, salt=salt, info=b"sentinel/seal/v1").derive(master)
    return aad + AESGCM(okm[:32]).encrypt(okm[32:], plaintext, aad)


cases = [
    ("key", "k-0001", 1, bytes(range(32)), bytes([0xA0 + i % 16 for i in range(32)])),
    ("configuration", "current", 7, b'{"version":7}', bytes([0x5A] * 32)),
    ("counters", "current", 2**40 + 3, b"", bytes(reversed(range(32)))),
    ("kill_switch", "x" * 128, 2**64 - 1, b"\x00" * 100, bytes([i * 7 % 256 for i in range(32)])),
]
master = bytes([0x42] * 32)
lineage = bytes([0x11] * 32)
vectors = [
    {
        "kind": kind,
        "name": name,
        "version": str(version),
        "plaintext": plaintext.hex(),
        "salt": salt.hex(),
        "sealed": seal(master, lineage, kind, name, version, plaintext, salt).hex(),
    }
    for kind, name, version, plaintext, salt in cases
]
out = {
    "provenance": f"computed by scripts/seal-vector.py with pyca/cryptography {cryptography.__version__} (HKDF-SHA256, AES-256-GCM) and a hand-written CBOR header; not by crates/seal",
    "format": "docs/sealed-state.md, version 1",
    "master_key": master.hex(),
    "lineage": lineage.hex(),
    "vectors": vectors,
}
with open("test/vectors/seal/v1.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
