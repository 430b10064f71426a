"""Content codings: gzip, deflate, br, zstd, stacked, unknown, corrupt, and a decompression bomb.

A client may decode a content coding for its caller, or hand the coded bytes over with
Content-Encoding still listed, so that the caller can decode them; either is right. What
is wrong is a body that is neither: half decoded, silently emptied, or coded bytes with the
header that says so dropped.

    RFC 9110 §8.4: "If one or more encodings have been applied to a representation, the
    sender that applied the encodings MUST generate a Content-Encoding header field that
    lists the content codings in the order in which they were applied."
"""

from __future__ import annotations

import gzip
import zlib

import brotli
import zstandard

from model.cell import Call, Observation
from model.checks import outcome, with_decoders
from model.received import body_words, returned, tries
from model.scenario import Check, Checked, Result, Scenario, bad, ok
from model.script import Raw, Reply, Stream
from model.wrong import answer, raised
from servers.bodies import GZIP_HEADER, MiB, gzip_zeros, gzip_zeros_length

PLAIN = b"hello, compressed world; " * 8
GZIP = gzip.compress(PLAIN, mtime=0)
GZIP_TWICE = gzip.compress(GZIP, mtime=0)
ZLIB = zlib.compress(PLAIN)
_raw = zlib.compressobj(6, zlib.DEFLATED, -15)
RAW_DEFLATE = _raw.compress(PLAIN) + _raw.flush()
BROTLI = brotli.compress(PLAIN)
ZSTD = zstandard.ZstdCompressor().compress(PLAIN)
#: A valid gzip header, then bytes that are no deflate stream.
CORRUPT = GZIP_HEADER + b"this is not a deflate stream at all"

#: The bomb: 256 MiB of zeros, about 260 KiB on the wire, read with a cap (inflating costs
#: about 0.1 s per 16 MiB here, and some libraries inflate a whole network read at once).
BOMB = 256 * MiB
CAP = 4 * MiB

#: A GET that records which optional decoders (brotli, zstandard ...) the run has: they change
#: what several libraries offer and decode (README: "Content codings").
DEFAULTS = Call("GET", report_decoders=True)

#: How a body relates to a coded one: what the caller got, as one word.
States = frozenset[str]
GOOD: States = frozenset({"decoded", "left coded"})


def coding_state(obs: Observation, plain: bytes | None, coded: bytes, once: bytes | None = None) -> tuple[str, str]:
    """(state, summary): ``decoded``, ``left coded``, ``decoded once``, ``refused``, ``coded, header
    dropped`` or ``wrong``. ``plain`` None: the coding cannot be decoded (unknown, corrupt)."""
    if not returned(obs):
        return "refused", f"refused: {outcome(obs)}{tries(obs)}"
    assert obs.got is not None
    body, listed = obs.got.body, obs.got.header("Content-Encoding") is not None
    if plain is not None and body == plain:
        return "decoded", f"{outcome(obs)}, decoded"
    if body == coded:
        state = "left coded" if listed else "coded, header dropped"
        return state, f"{outcome(obs)}, {state}" + ("" if listed else ": the caller cannot tell")
    if once is not None and body == once:
        return "decoded once", f"{outcome(obs)}, decoded one of the two codings only"
    return "wrong", f"{outcome(obs)}, {body_words(body, plain)}"


def unasked(obs: Observation, token: str) -> bool:
    """The request's Accept-Encoding did not list ``token``: the coding was not acceptable.

    RFC 9110 §12.5.3: a server "SHOULD send a response without any content coding" when
    the user agent's Accept-Encoding does not list it; a client may refuse one it never asked for.
    """
    value = obs.sent[0].header("Accept-Encoding") if obs.sent else None
    return value is not None and token not in {t.split(";")[0].strip().lower() for t in value.split(",")}


def coding(plain: bytes | None, coded: bytes, good: States = GOOD, once: bytes | None = None,
           token: str | None = None) -> Check:
    """The body is in one of the ``good`` states; ``token``: refusing it is fine when unasked."""

    def check(obs: Observation) -> Result:
        state, summary = coding_state(obs, plain, coded, once)
        summary += with_decoders(obs)
        if state == "refused" and token is not None and unasked(obs, token):
            return ok(f"{summary}; {token} was not in its Accept-Encoding")
        return Result(state in good, summary)

    listed = (("Content-Encoding", "gzip"),)
    wrong = [answer(200, coded),                              # coded bytes, the header that says so dropped
             answer(200, (plain or coded)[: len(coded) // 2], headers=listed)]  # half a body
    if once is not None:
        wrong.append(answer(200, once, headers=listed))
    if "refused" not in good:
        wrong.append(raised("decode-error"))
    return Checked(check, tuple(wrong))


def coded(encoding: str, body: bytes) -> Reply:
    return Reply(200, headers=(("Content-Encoding", encoding), ("Content-Type", "text/plain")), body=body)


def accept_sent(obs: Observation) -> Result:
    """INFO: RFC 9110 §12.5.3: "If no Accept-Encoding header field is in the request, any
    content coding is considered acceptable by the user agent." """
    if not obs.sent:
        return bad(f"nothing sent; {outcome(obs)}")
    value = obs.sent[0].header("Accept-Encoding")
    said = f"Accept-Encoding: {value}" if value is not None else "no Accept-Encoding: any coding acceptable"
    return ok(said + with_decoders(obs))


def bomb(obs: Observation) -> Result:
    """INFO (security): 256 MiB of zeros in about 260 KiB of gzip. The cell reads through the
    library's streaming API and stops at a cap, so the row shows whether the library has a
    limit of its own (an error), inflates without one (reaches the cap), or leaves the body
    coded. RFC 9110 §17.5 warns of protocol elements "with no predefined length"."""
    if not returned(obs):
        return ok(f"refused: {outcome(obs)}{tries(obs)}")
    assert obs.got is not None
    read = obs.got.extra.get("read")
    if read is None:
        return bad(f"{outcome(obs)}: the body was not read in pieces")
    if read["capped"]:
        return ok(f"{outcome(obs)}, inflated past the {CAP // MiB} MiB cap: no limit of its own")
    if read["bytes"] == gzip_zeros_length(BOMB):
        return ok(f"{outcome(obs)}, left coded: read the {read['bytes']} compressed bytes as they are")
    return ok(f"{outcome(obs)}, stopped without error after {read['bytes']} bytes")


SCENARIOS = [
    # RFC 9110 §8.4.1.3: gzip; §8.4.1.2: "deflate" is a zlib stream (RFC 1950).
    Scenario("encoding.gzip", "gzip: decoded, or left coded with Content-Encoding listed", "RFC 9110 §8.4.1.3",
             "MUST", coding(PLAIN, GZIP), Call("GET"), coded("gzip", GZIP)),
    Scenario("encoding.deflate-zlib", "deflate as RFC 9110 defines it (a zlib stream)", "RFC 9110 §8.4.1.2",
             "MUST", coding(PLAIN, ZLIB), Call("GET"), coded("deflate", ZLIB)),
    # RFC 9110 §8.4.1.2 defines "deflate" as zlib-wrapped; some servers send raw deflate.
    Scenario("encoding.deflate-raw", "deflate sent as a raw deflate stream (no zlib wrapper): tolerated?",
             "RFC 9110 §8.4.1.2", "INFO", coding(PLAIN, RAW_DEFLATE), Call("GET"), coded("deflate", RAW_DEFLATE)),
    Scenario("encoding.br", "br (Brotli): decoded, or left coded", "RFC 7932", "MUST",
             coding(PLAIN, BROTLI, token="br"), DEFAULTS, coded("br", BROTLI)),
    Scenario("encoding.zstd", "zstd (Zstandard): decoded, or left coded", "RFC 8878 §7.2", "MUST",
             coding(PLAIN, ZSTD, token="zstd"), DEFAULTS, coded("zstd", ZSTD)),
    Scenario("encoding.gzip-twice", "Content-Encoding: gzip, gzip: both decoded, or none", "RFC 9110 §8.4",
             "MUST", coding(PLAIN, GZIP_TWICE, once=GZIP), Call("GET"), coded("gzip, gzip", GZIP_TWICE)),
    # RFC 9110 §8.4: an unknown coding cannot be decoded: the body is handed over as it is.
    Scenario("encoding.unknown", "Content-Encoding: x-foo: left as is (header listed), or refused",
             "RFC 9110 §8.4", "MUST", coding(None, PLAIN, frozenset({"left coded", "refused"})), Call("GET"),
             coded("x-foo", PLAIN)),
    Scenario("encoding.corrupt-gzip", "Corrupt gzip data: refused (decode error), or left coded",
             "RFC 9110 §8.4.1.3", "MUST", coding(None, CORRUPT, frozenset({"left coded", "refused"})), Call("GET"),
             coded("gzip", CORRUPT)),
    Scenario("encoding.accept-sent", "Which Accept-Encoding each library sends unasked (and which optional "
             "decoders were installed)", "RFC 9110 §12.5.3", "INFO", accept_sent, DEFAULTS, Reply(200, body=b"ok")),
    Scenario("encoding.bomb", "A gzip bomb (256 MiB of zeros in 260 KiB): stopped, inflated, or left coded?",
             "RFC 9110 §17.5", "INFO", bomb, Call("GET", read_cap=CAP),
             Raw((b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Length: %d\r\n\r\n" % gzip_zeros_length(BOMB), Stream(lambda: gzip_zeros(BOMB)))),
             security=True),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
