"""TLS server kinds: one named origin per certificate situation, started on first use.

A TLS scenario says ``origin="https-expired"``; ``servers.Servers`` asks this module
for the kind's server the first time a cell names it (once per session, per xdist
worker). Every certificate is made at run time from the session's trustme CA
(``servers.certs``), except the self-signed leaf, which trustme cannot make: that
one comes from ``cryptography`` (trustme's own dependency), also at run time.

    origin              the server presents                         URL host
    https-hello         the session leaf (loopback names)           127.0.0.1
    https-localhost     the session leaf                            localhost
    https-wrong-host    a leaf for wrong.example only               localhost
    https-expired       a leaf whose notAfter is in the past        127.0.0.1
    https-not-yet-valid a leaf whose notBefore is in the future     127.0.0.1
    https-self-signed   a self-signed leaf (not a CA)               127.0.0.1
    https-other-ca      a leaf from a second, untrusted CA          127.0.0.1
    https-leaf-only     leaf from an intermediate, sent alone       127.0.0.1
    https-full-chain    the same leaf sent with its intermediate    127.0.0.1
    https-ip-only       a leaf whose only SAN is IP 127.0.0.1       127.0.0.1
    https-tls13         the session leaf, TLS 1.3 only              127.0.0.1
    https-legacy        the session leaf, TLS 1.0 and 1.1 only      127.0.0.1
    https-client-cert   the session leaf; requires a client cert    127.0.0.1

Each kind's server is a ``HelloServer``: before the handshake it peeks at the raw
ClientHello on the accepted socket (``MSG_PEEK``, so the bytes stay for OpenSSL)
and parses the SNI, ALPN and supported_versions extensions, because Python's ssl
only shows the *selected* ALPN. What it saw goes on each request's ``Capture.tls``.

    RFC 8446 §4.1.2: the ClientHello's extensions; RFC 6066 §3 (server_name),
    RFC 7301 §3.1 (application_layer_protocol_negotiation), RFC 8446 §4.2.1
    (supported_versions).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import trustme

from model.cell import TLSSeen
from model.loop import LoopThread
from servers.certs import LOOPBACK_NAMES, Certs, private_file
from servers.http import MAX_HEAD, HTTPServer
from servers.routes import Registry

#: The most of a ClientHello the server waits for, and how long (a silent client is cut).
MAX_HELLO = 64 * 1024
HELLO_WAIT = 5.0
HELLO_POLL = 0.002
HANDSHAKE_TIMEOUT = 5.0
#: The pause before accepting again after an accept failed with the listener open (EMFILE ...).
ACCEPT_RETRY = 0.1
#: The name in the client certificate the https-client-cert server asks for.
CLIENT_IDENTITY = "client@clientmatrix.example"

VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
EXT_SERVER_NAME, EXT_ALPN, EXT_SUPPORTED_VERSIONS = 0, 16, 43


#: A fatal protocol_version alert (RFC 8446 §6: level 2, description 70) in a TLS 1.0 record.
PROTOCOL_VERSION_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"


class CannotServe(Exception):
    """This machine cannot set up a TLS server kind; the message says why."""


# -- the ClientHello ------------------------------------------------------------


class NotHello(ValueError):
    """The bytes are not a TLS ClientHello."""


@dataclass(frozen=True)
class Hello:
    """What a ClientHello offered."""

    sni: str | None
    alpn: tuple[str, ...]
    #: supported_versions when present (RFC 8446 §4.2.1), else the legacy client_version.
    versions: tuple[str, ...]
    #: The versions came from supported_versions: the list is the client's whole offer.
    listed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"sni": self.sni, "alpn_offered": list(self.alpn), "versions_offered": list(self.versions)}


def hello_body(data: bytes) -> bytes | None:
    """The ClientHello message body from the first TLS records, or None while incomplete.

    RFC 8446 §5.1: a handshake message may be fragmented across records of type 22.
    """
    fragment, pos = b"", 0
    while True:
        if len(data) < pos + 5:
            return None
        ctype, _version, length = struct.unpack_from("!BHH", data, pos)
        if ctype != 22:
            raise NotHello(f"record type {ctype}, not handshake (22)")
        if len(data) < pos + 5 + length:
            return None
        fragment += data[pos + 5:pos + 5 + length]
        pos += 5 + length
        if len(fragment) >= 4:
            if fragment[0] != 1:
                raise NotHello(f"handshake type {fragment[0]}, not client_hello (1)")
            need = int.from_bytes(fragment[1:4], "big")
            if len(fragment) >= 4 + need:
                return fragment[4:4 + need]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise NotHello("truncated ClientHello")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def number(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, size_len: int) -> bytes:
        return self.take(self.number(size_len))

    def more(self) -> bool:
        return self.pos < len(self.data)


def parse_hello(body: bytes) -> Hello:
    """SNI, ALPN and versions from a ClientHello body (RFC 8446 §4.1.2)."""
    c = _Cursor(body)
    legacy = c.number(2)
    c.take(32)  # random
    c.vector(1)  # legacy_session_id
    c.vector(2)  # cipher_suites
    c.vector(1)  # legacy_compression_methods
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    versions: tuple[str, ...] = (VERSIONS.get(legacy, hex(legacy)),)
    explicit = False
    if not c.more():
        return Hello(sni, alpn, versions)
    exts = _Cursor(c.vector(2))
    while exts.more():
        kind, data = exts.number(2), _Cursor(exts.vector(2))
        if kind == EXT_SERVER_NAME:
            names = _Cursor(data.vector(2))
            while names.more():
                name_type, name = names.number(1), names.vector(2)
                if name_type == 0:
                    sni = name.decode("ascii", "backslashreplace")
        elif kind == EXT_ALPN:
            protos = _Cursor(data.vector(2))
            found = []
            while protos.more():
                found.append(protos.vector(1).decode("ascii", "backslashreplace"))
            alpn = tuple(found)
        elif kind == EXT_SUPPORTED_VERSIONS:
            offered = _Cursor(data.vector(1))
            listed = []
            while offered.more():
                v = offered.number(2)
                if (v & 0x0F0F) != 0x0A0A:  # GREASE values (RFC 8701) are noise
                    listed.append(VERSIONS.get(v, hex(v)))
            versions, explicit = tuple(listed), True
    return Hello(sni, alpn, versions, listed=explicit)


async def peek_hello(sock: socket.socket, wait: float = HELLO_WAIT) -> Hello | None:
    """Peek at the ClientHello on an accepted, non-blocking socket; bytes stay unread.

    Bounded: at most ``wait`` seconds, at most ``MAX_HELLO`` bytes. None when the
    client sent something else, or nothing in time.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while loop.time() < deadline:
        try:
            data = sock.recv(MAX_HELLO, socket.MSG_PEEK)
        except BlockingIOError:
            data = None
        except OSError:
            return None
        if data == b"":
            return None
        if data:
            try:
                body = hello_body(data)
                if body is not None:
                    return parse_hello(body)
            except NotHello:
                return None
            if len(data) >= MAX_HELLO:
                return None
        await asyncio.sleep(HELLO_POLL)
    return None


# -- the server -----------------------------------------------------------------


class HelloServer(HTTPServer):
    """The scripted HTTP server behind TLS, which records what each ClientHello offered.

    It accepts on a plain socket, peeks at the ClientHello, then hands the socket to
    asyncio's TLS (``connect_accepted_socket``) and serves it like ``HTTPServer``.
    ``url_host`` is the name clients are sent to (``localhost``); it binds ``host``.

    ``only``: the versions the server speaks (the legacy kind). A ClientHello whose
    supported_versions lists none of them is answered with a fatal protocol_version alert
    written by us, then the connection closes: asyncio would close it without flushing
    OpenSSL's own alert, and the client would see an EOF, which says nothing of why.

        RFC 8446 §4.2.1: "If the "supported_versions" extension in the ClientHello
        contains no versions acceptable to the server ... the server MUST abort the
        handshake with a "protocol_version" alert."

    Known limit: when the server's side of a handshake fails otherwise (no client
    certificate at the client-cert kind), the client sees an EOF rather than the alert.
    """

    def __init__(self, registry: Registry, loop: LoopThread | None, tls: ssl.SSLContext, *,
                 host: str = "127.0.0.1", url_host: str | None = None, only: tuple[str, ...] = ()) -> None:
        super().__init__(registry, loop, tls=tls, host=host)
        self.url_host = url_host or host
        self.only = only
        #: False while the server's own probe connects (its hello belongs to no cell).
        self.recording = True
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: dict[asyncio.StreamWriter, Hello | None] = {}

    @property
    def authority(self) -> str:
        return f"{self.url_host}:{self.port}"

    def start(self) -> HelloServer:
        async def listen() -> int:
            sock = socket.create_server((self.host, self.port))
            sock.setblocking(False)
            self._listener = sock
            self._spawn(self._accept(sock))
            return int(sock.getsockname()[1])

        self.port = self.loop.run(listen())
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for task in list(self._tasks):
                task.cancel()

        if not self.loop.loop.is_closed():
            self.loop.run(close())
        self.release_loop()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, listener: socket.socket) -> None:
        """Accept until the listener is closed. An accept that fails while it is open (too many
        open files, no buffer space) is retried after a pause, as asyncio's own servers do, so
        one exhaustion never stops a server for good."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError:
                if self._listener is not listener or listener.fileno() < 0:
                    return  # the listener was closed: the server is stopping
                await asyncio.sleep(ACCEPT_RETRY)
                continue
            self._spawn(self._greet(conn))

    async def _greet(self, conn: socket.socket) -> None:
        """Peek at the ClientHello, then do the handshake and serve HTTP on the connection."""
        loop = asyncio.get_running_loop()
        # A server of ours must add no latency a real server would not. asyncio sets
        # TCP_NODELAY on the sockets it accepts itself; this one was accepted by hand, and
        # without it the response waits behind TLS 1.3's session tickets for the client's
        # delayed ACK (about 40 ms a request).
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hello = await peek_hello(conn)
        self._hello_seen(hello)
        if self.only and hello is not None and hello.listed and not set(hello.versions) & set(self.only):
            try:
                await loop.sock_sendall(conn, PROTOCOL_VERSION_ALERT)
            except OSError:
                pass
            conn.close()
            return
        reader = asyncio.StreamReader(limit=MAX_HEAD, loop=loop)

        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            self._seen[w] = hello
            try:
                await self._serve(r, w)
            finally:
                self._seen.pop(w, None)

        protocol = asyncio.StreamReaderProtocol(reader, serve, loop=loop)
        try:
            await loop.connect_accepted_socket(lambda: protocol, conn, ssl=self.tls,
                                               ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
        except (OSError, asyncio.TimeoutError):  # the client refused us: its cell says so
            conn.close()

    def _hello_seen(self, hello: Hello | None) -> None:
        """Every ClientHello goes to the running cell as soon as it is read, before the
        handshake: a connection that never carries a request (the client refused our
        certificate, we refused its versions) has no path, hence no route of its own."""
        route = self.registry.newest() if self.recording else None
        if route is not None and hello is not None:
            route.hello({**hello.to_json(), "server": self.authority})

    def tls_seen(self, writer: asyncio.StreamWriter) -> TLSSeen | None:
        hello = self._seen.get(writer)
        info: TLSSeen = hello.to_json() if hello is not None else {"hello": "not parsed"}
        obj = writer.get_extra_info("ssl_object")
        if obj is not None:
            info["version"] = obj.version()
            info["alpn"] = obj.selected_alpn_protocol()
            peer = obj.getpeercert() or {}
            names = [value for _, value in peer.get("subjectAltName", ())]
            info["client_cert"] = names[0] if names else None
        return info


# -- certificates and contexts ---------------------------------------------------


def serving(certs: Certs, chain_pem: bytes) -> ssl.SSLContext:
    """A server context presenting ``chain_pem`` (key + certificates, PEM), offering http/1.1."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certs.load_chain(ctx, chain_pem)  # through the run's private folder: ssl reads files only
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def self_signed_leaf(names: tuple[str, ...]) -> bytes:
    """Key + a self-signed end-entity certificate (CA:FALSE) for ``names``, PEM."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clientmatrix self-signed leaf")])
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem + cert.public_bytes(serialization.Encoding.PEM)


def leaf_only(leaf: trustme.LeafCert) -> bytes:
    """Key + the leaf certificate without its chain (an incomplete chain)."""
    return leaf.private_key_pem.bytes() + leaf.cert_chain_pems[0].bytes()


def days(n: int) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=n)


@dataclass
class Kit:
    """The per-session certificates and TLS servers beyond the session CA and leaf."""

    certs: Certs
    problems: dict[str, str] = field(default_factory=dict)

    @cached_property
    def chained_leaf(self) -> trustme.LeafCert:
        """A leaf issued by an intermediate CA under the session CA."""
        return self.certs.ca.create_child_ca().issue_cert(*LOOPBACK_NAMES)

    @cached_property
    def client_files(self) -> tuple[str, str]:
        """The client certificate (issued by the session CA) and its key, as files."""
        leaf = self.certs.ca.issue_cert(CLIENT_IDENTITY)
        cert, key = self.certs.folder / "client-cert.pem", self.certs.folder / "client-key.pem"
        private_file(cert, b"".join(p.bytes() for p in leaf.cert_chain_pems))
        private_file(key, leaf.private_key_pem.bytes())
        return str(cert), str(key)

    def start(self, name: str, registry: Registry, loop: LoopThread | None = None) -> HelloServer:
        """Start the server of kind ``name``; CannotServe (remembered) where this machine cannot."""
        if name in self.problems:
            raise CannotServe(self.problems[name])
        kind = KINDS[name]
        try:
            server = HelloServer(registry, loop, kind.context(self), url_host=kind.url_host, only=kind.only).start()
        except (ssl.SSLError, ValueError) as exc:
            self.problems[name] = f"cannot set up the {name} server with {ssl.OPENSSL_VERSION}: {exc}"
            raise CannotServe(self.problems[name]) from exc
        if kind.probe is not None:
            server.recording = False
            problem = kind.probe(self, server)
            server.recording = True
            if problem:
                server.stop()
                self.problems[name] = problem
                raise CannotServe(problem)
        return server


def session_leaf(kit: Kit) -> ssl.SSLContext:
    return serving(kit.certs, kit.certs.leaf.private_key_and_cert_chain_pem.bytes())


def issued(*names: str, **validity: dt.datetime) -> Callable[[Kit], ssl.SSLContext]:
    """A kind whose leaf the session CA issues for ``names`` (with not_before / not_after)."""

    def make(kit: Kit) -> ssl.SSLContext:
        leaf = kit.certs.ca.issue_cert(*names, **validity)  # type: ignore[arg-type]
        return serving(kit.certs, leaf.private_key_and_cert_chain_pem.bytes())

    return make


def other_ca(kit: Kit) -> ssl.SSLContext:
    leaf = trustme.CA(organization_name="clientmatrix untrusted CA").issue_cert(*LOOPBACK_NAMES)
    return serving(kit.certs, leaf.private_key_and_cert_chain_pem.bytes())


def versions(low: ssl.TLSVersion, high: ssl.TLSVersion, ciphers: str | None = None) -> Callable[[Kit], ssl.SSLContext]:
    """The session leaf, offered only with TLS versions ``low`` to ``high``."""

    def make(kit: Kit) -> ssl.SSLContext:
        ctx = session_leaf(kit)
        if ciphers:
            ctx.set_ciphers(ciphers)
        limit_versions(ctx, low, high)
        return ctx

    return make


def limit_versions(ctx: ssl.SSLContext, low: ssl.TLSVersion, high: ssl.TLSVersion) -> None:
    """Set the version range; TLS 1.0/1.1 are deprecated in ssl, and wanted here on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version, ctx.maximum_version = low, high


def requires_client_cert(kit: Kit) -> ssl.SSLContext:
    ctx = session_leaf(kit)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cafile=kit.certs.ca_file)
    return ctx


#: Legacy TLS needs OpenSSL's security level 0 (level 1 and up refuse TLS 1.0/1.1 and SHA-1).
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def probe_legacy(kit: Kit, server: HelloServer) -> str | None:
    """Can a client that allows TLS 1.0/1.1 complete a handshake here? None if so, else why not."""
    ctx = ssl.create_default_context(cafile=kit.certs.ca_file)
    try:
        ctx.set_ciphers(LEGACY_CIPHERS)
        limit_versions(ctx, TLS10, TLS11)
        with socket.create_connection((server.host, server.port), timeout=HANDSHAKE_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname=server.host) as tls:
                if tls.version() in ("TLSv1", "TLSv1.1"):
                    return None
                return f"the handshake negotiated {tls.version()}"
    except (OSError, ValueError) as exc:
        return (f"the local {ssl.OPENSSL_VERSION} cannot negotiate TLS 1.0/1.1 even at security "
                f"level 0 ({exc}); this scenario needs a server that offers only those versions")


@dataclass(frozen=True)
class Kind:
    context: Callable[[Kit], ssl.SSLContext]
    url_host: str = "127.0.0.1"
    #: A check after start: None when the server works here, else why not.
    probe: Callable[[Kit, HelloServer], str | None] | None = None
    #: The only versions the server speaks: others get a protocol_version alert.
    only: tuple[str, ...] = ()


def full_chain(kit: Kit) -> ssl.SSLContext:
    return serving(kit.certs, kit.chained_leaf.private_key_and_cert_chain_pem.bytes())


def chain_leaf_only(kit: Kit) -> ssl.SSLContext:
    return serving(kit.certs, leaf_only(kit.chained_leaf))


def self_signed(kit: Kit) -> ssl.SSLContext:
    return serving(kit.certs, self_signed_leaf(LOOPBACK_NAMES))


TLS13, TLS10, TLS11 = ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1

#: The TLS server kinds, by origin name (see the table at the top).
KINDS: dict[str, Kind] = {
    "https-hello": Kind(session_leaf),
    "https-localhost": Kind(session_leaf, url_host="localhost"),
    "https-wrong-host": Kind(issued("wrong.example"), url_host="localhost"),
    "https-expired": Kind(issued(*LOOPBACK_NAMES, not_before=days(-30), not_after=days(-1))),
    "https-not-yet-valid": Kind(issued(*LOOPBACK_NAMES, not_before=days(1), not_after=days(30))),
    "https-self-signed": Kind(self_signed),
    "https-other-ca": Kind(other_ca),
    "https-leaf-only": Kind(chain_leaf_only),
    "https-full-chain": Kind(full_chain),
    "https-ip-only": Kind(issued("127.0.0.1")),
    "https-tls13": Kind(versions(TLS13, TLS13)),
    "https-legacy": Kind(versions(TLS10, TLS11, LEGACY_CIPHERS), probe=probe_legacy, only=("TLSv1", "TLSv1.1")),
    "https-client-cert": Kind(requires_client_cert),
}
