"""Bodies a fixture server produces lazily, for ``Stream`` actions.

A decompression bomb must never be held whole, on either side: ``gzip_zeros``
yields a gzip member whose content is ``size`` zero bytes, piece by piece, while
holding one MiB of zeros and one compressed block (about 1 KiB).

How: a raw deflate stream compressed with ``Z_FULL_FLUSH`` after every MiB resets
the compressor's state at each flush, so every MiB of zeros compresses to the
*same* block. The block is computed once and repeated; the gzip header and trailer
(RFC 1952: CRC-32 and size modulo 2**32) are written around it. The CRC is
computed once per size, MiB by MiB.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from functools import cache

MiB = 1024 * 1024
#: RFC 1952 §2.3: magic, CM=8 (deflate), no flags, MTIME 0, XFL 0, OS 255 (unknown).
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@cache
def _zero_block() -> tuple[bytes, bytes]:
    """One MiB of zeros as a full-flushed raw deflate block, and the stream's final block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block, compressor.flush(zlib.Z_FINISH)


@cache
def _zeros_crc(mib: int) -> int:
    zeros, crc = bytes(MiB), 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return crc


def gzip_zeros_length(size: int) -> int:
    """How many bytes ``gzip_zeros(size)`` writes (for a Content-Length), without making them."""
    block, final = _zero_block()
    return len(GZIP_HEADER) + size // MiB * len(block) + len(final) + 8


def gzip_zeros(size: int) -> Iterator[bytes]:
    """A gzip member of ``size`` zero bytes (a whole number of MiB), in pieces of about 64 KiB."""
    if size % MiB:
        raise ValueError("gzip_zeros makes whole MiB only")
    mib = size // MiB
    block, final = _zero_block()
    per_piece = max(1, 64 * 1024 // len(block))
    yield GZIP_HEADER
    for start in range(0, mib, per_piece):
        yield block * min(per_piece, mib - start)
    yield final + zlib.crc32(b"", _zeros_crc(mib)).to_bytes(4, "little") + (size % 2**32).to_bytes(4, "little")


def chunked(body: bytes, size: int) -> Iterator[bytes]:
    """``body`` in the chunked transfer coding (RFC 9112 §7.1), ``size`` bytes per chunk."""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"
