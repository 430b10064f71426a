"""A SOCKS5 proxy of our own on loopback (RFC 1928, with RFC 1929 username/password).

Theory: like the HTTP proxy (``servers.proxy``), it is a witness. A SOCKS5 CONNECT names
its destination either as an address the client resolved (IPv4, IPv6) or as a domain name
for the proxy to resolve (``socks5h://`` in most libraries): which one a client sends is
what the SOCKS rows ask. The proxy records the request as a ``Capture`` (method
``CONNECT``, version ``SOCKS5``, the destination as the target; the address type, and the
username when the client authenticated, as fields), then opens a blind tunnel exactly as
the HTTP proxy's CONNECT does, so the origin server records it on the cell's route before
the request that came through it.

    RFC 1928 §3: "The client connects to the server, and sends a version identifier/method
    selection message"; §4: "ATYP address type of following address: IP V4 address:
    X'01', DOMAINNAME: X'03', IP V6 address: X'04'".
    RFC 1929 §2: "Once the SOCKS V5 server has started, and the client has selected the
    Username/Password Authentication protocol, the Username/Password subnegotiation begins."

The server picks username/password when the client offers it (to see the credentials),
else no authentication. Only loopback destinations (``servers.proxy.destination``: also
``localhost`` and ``*.localhost`` names, resolved without a resolver); bounded like the
HTTP proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress

from model.cell import Capture
from servers.http import IDLE
from servers.proxy import LIFETIME, ProxyServer

NO_AUTH, USER_PASS, NONE_ACCEPTABLE = 0x00, 0x02, 0xFF
#: RFC 1928 §6 reply codes.
SUCCEEDED, NOT_ALLOWED, REFUSED, UNSUPPORTED_COMMAND = 0x00, 0x02, 0x05, 0x07
ATYPS = {1: "IPv4", 3: "domain", 4: "IPv6"}


def reply(code: int) -> bytes:
    """A SOCKS5 reply: the code, and 0.0.0.0:0 as the bound address (RFC 1928 §6)."""
    return bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0])


class SocksServer(ProxyServer):
    """SOCKS5 CONNECT only; every other command is answered 'command not supported'."""

    ESTABLISHED = reply(SUCCEEDED)

    @property
    def scheme(self) -> str:
        return "socks5"

    def refusal(self, code: int) -> bytes:
        return reply(NOT_ALLOWED if code == 403 else REFUSED)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = next(self._conns)
        try:
            await asyncio.wait_for(self._socks(conn, reader, writer), LIFETIME)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception as exc:  # a bug of ours: keep it visible, keep serving
            self.registry.orphans.append(f"socks error: {type(exc).__name__}: {exc}")
        finally:
            writer.close()

    async def _socks(self, conn: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def take(n: int) -> bytes:
            return await asyncio.wait_for(reader.readexactly(n), IDLE)

        version, count = await take(2)
        if version != 5:  # not SOCKS at all (an HTTP request?): recorded on its cell, if it names one
            rest = await asyncio.wait_for(reader.read(8192), IDLE)
            self._invalid(conn, bytes([version, count]) + rest, "not a SOCKS5 greeting")
            return
        methods = await take(count)
        raw = bytearray([version, count]) + methods
        user = ""
        if USER_PASS in methods:
            writer.write(bytes([5, USER_PASS]))
            sub, length = await take(2)
            name = await take(length)
            (plen,) = await take(1)
            password = await take(plen)
            raw += bytes([sub, length]) + name + bytes([plen]) + password
            user = name.decode("latin-1")
            writer.write(bytes([1, 0]))  # RFC 1929 §2: success
        elif NO_AUTH in methods:
            writer.write(bytes([5, NO_AUTH]))
        else:
            writer.write(bytes([5, NONE_ACCEPTABLE]))
            return
        version, command, _, atyp = await take(4)
        raw += bytes([version, command, 0, atyp])
        if atyp == 1:
            packed = await take(4)
            host = str(ipaddress.IPv4Address(packed))
        elif atyp == 4:
            packed = await take(16)
            host = f"[{ipaddress.IPv6Address(packed)}]"
        elif atyp == 3:
            (length,) = await take(1)
            packed = bytes([length]) + await take(length)
            host = packed[1:].decode("latin-1")
        else:
            writer.write(reply(UNSUPPORTED_COMMAND))
            return
        port_bytes = await take(2)
        raw += packed + port_bytes
        port = int.from_bytes(port_bytes, "big")
        fields = [("ATYP", ATYPS[atyp])] + ([("Username", user)] if user else [])
        capture = Capture("CONNECT", f"{host}:{port}", "SOCKS5", tuple(fields), b"", "none", bytes(raw), conn,
                          server=self.authority)
        if command != 1:
            writer.write(reply(UNSUPPORTED_COMMAND))
            return
        await self._tunnel(capture, reader, writer)
