"""Error kinds: what a raised exception means, whatever its class.

Libraries wrap exceptions in each other (requests' ConnectionError around
urllib3's MaxRetryError around NewConnectionError around ConnectionRefusedError),
so a classifier looks along the whole chain: ``__cause__``, ``__context__``,
exception arguments, and the ``reason`` some libraries keep.

Each adapter brings a short table of *its* library's classes; ``COMMON`` holds
the standard library's. ``TLS`` (the ssl module's errors) is searched first along the
whole chain, innermost first (the most specific cause), then the adapter's table, then
the common table. A rule
is ``(qualified class name, kind)`` or ``(qualified class name, kind, message
regex)``; a class matches its subclasses too. Nothing matched: kind ``other``,
which the report shows, so the table can grow.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Sequence

from model.cell import ERROR_KINDS, Failure

Rule = tuple[str, str] | tuple[str, str, str]

#: TLS failures, searched before any adapter's table: ``ssl.SSLCertVerificationError`` is
#: also a ``ValueError``, which some tables map to ``invalid-request``, and a library's own
#: wrapper (aiohttp's ClientConnectorCertificateError) says less than the ssl error it holds.
TLS: tuple[Rule, ...] = (
    ("ssl.SSLCertVerificationError", "tls-hostname", r"[Hh]ostname mismatch|doesn't match|IP address mismatch"),
    ("ssl.SSLCertVerificationError", "tls-expired", r"expired|not yet valid"),
    ("ssl.SSLCertVerificationError", "tls-untrusted"),
    ("ssl.SSLError", "tls-other"),
)

#: The standard library's HTTP/1.1 parser (``http.client``). Clients built on it (urllib,
#: urllib3, requests) raise these *inside* their own wrappers, so their adapters list these
#: rules before their broad wrapper rules: the innermost cause then decides the kind.
HTTPLIB: tuple[Rule, ...] = (
    # _read_next_chunk_size: a chunk-size line that is not hex; b'' is the peer closing instead.
    ("ValueError", "incomplete-body", r"invalid literal for int\(\) with base 16: b''"),
    ("ValueError", "invalid-chunk", r"invalid literal for int\(\) with base 16"),
    # A chunk size (or length) too large to read: the integer overflows a C size.
    ("OverflowError", "invalid-framing"),
    ("http.client.IncompleteRead", "incomplete-body"),
    ("http.client.LineTooLong", "header-too-large"),
    ("http.client.HTTPException", "header-too-large", r"got more than \d+ headers"),
    ("http.client.RemoteDisconnected", "connection-reset"),
    ("http.client.BadStatusLine", "invalid-status-line"),
    ("http.client.UnknownProtocol", "invalid-status-line"),
    ("http.client.InvalidURL", "invalid-request"),
)

#: The ``h2`` and ``hpack`` libraries (python-hyper), which httpx (through httpcore) and
#: urllib3.http2 speak HTTP/2 with: their errors are the inner cause of the clients' own.
H2: tuple[Rule, ...] = (
    ("h2.exceptions.FlowControlError", "flow-control"),
    ("h2.exceptions.StreamClosedError", "stream-reset"),
    ("h2.exceptions.FrameTooLargeError", "invalid-framing"),
    ("h2.exceptions.FrameDataMissingError", "invalid-framing"),
    ("hpack.exceptions.OversizedHeaderListError", "header-too-large"),
    ("hpack.exceptions.HPACKError", "hpack-error"),
    ("h2.exceptions.DenialOfServiceError", "header-too-large"),
    ("h2.exceptions.ProtocolError", "protocol-error"),
    # httpcore and urllib3.http2 read :status with int(): a non-numeric one raises ValueError.
    ("ValueError", "invalid-status-line", r"invalid literal for int\(\) with base 10"),
)

#: Standard-library exceptions, shared by every adapter.
COMMON: tuple[Rule, ...] = (
    ("ConnectionRefusedError", "connect-refused"),
    ("ConnectionResetError", "connection-reset"),
    ("BrokenPipeError", "connection-reset"),
    ("ConnectionAbortedError", "connection-reset"),
    *HTTPLIB,
    ("http.client.HTTPException", "protocol-error"),
    ("TimeoutError", "read-timeout"),
    # Python 3.10: asyncio's TimeoutError is its own class, not the builtin (3.11 made it
    # an alias), so its qualified name is asyncio.exceptions.TimeoutError there.
    ("asyncio.exceptions.TimeoutError", "read-timeout"),
    ("zlib.error", "decode-error"),
    ("UnicodeEncodeError", "invalid-request"),
    # Raised by a library for a value of the wrong type (a field value that is an int or
    # None): the caller's request refused. A TypeError raised in our own adapter code is
    # the harness's bug instead (fixtures.cell.harness_bug looks first).
    ("TypeError", "invalid-request"),
)


def qualname(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps, outermost first, each once."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 32:
        cur = todo.pop(0)
        if any(cur is s for s in seen):
            continue
        seen.append(cur)
        with warnings.catch_warnings():  # some libraries deprecate ``reason`` (websockets)
            warnings.simplefilter("ignore", DeprecationWarning)
            reason = getattr(cur, "reason", None)
        inner: list[object] = [cur.__cause__, cur.__context__, reason]
        inner += list(getattr(cur, "args", ()))
        inner += [getattr(cur, "os_error", None), getattr(cur, "original_error", None)]
        todo += [e for e in inner if isinstance(e, BaseException)]
    return seen


def _names(exc: BaseException) -> set[str]:
    names: set[str] = set()
    for cls in type(exc).__mro__:
        names.add(cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}")
    return names


def match(exc: BaseException, rules: Sequence[Rule]) -> str | None:
    """The kind of the first rule that fits ``exc`` itself (not its chain)."""
    names = _names(exc)
    text = str(exc)
    for rule in rules:
        if rule[0] in names and (len(rule) == 2 or re.search(rule[2], text)):  # type: ignore[misc]
            return rule[1]
    return None


def kind_of(exc: BaseException, tables: Iterable[Sequence[Rule]]) -> str:
    links = list(reversed(chain(exc)))  # innermost first
    for rules in tables:
        for link in links:
            kind = match(link, rules)
            if kind is not None:
                return kind
    return "other"


def classify(exc: BaseException, rules: Sequence[Rule] = ()) -> Failure:
    kind = kind_of(exc, (TLS, rules, COMMON))
    assert kind in ERROR_KINDS, f"error table names an unknown kind {kind!r}"
    message = str(exc) or repr(exc)
    return Failure(kind=kind, type=qualname(exc), message=message[:500])
