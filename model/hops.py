"""Pieces for checks over exchanges of several requests: redirects, cookies, proxies.

Like ``model.checks``, every function returns words that stay the same from run
to run: a URL is shown after the cell's route prefix, never with its port.
"""

from __future__ import annotations

from model.cell import Capture, Observation
from model.checks import PREFIX, tail


def url_tail(url: str | None) -> str:
    """A URL the caller saw, after the route prefix: ``/next?x=1``."""
    return (PREFIX.sub("", url, count=1) or "/") if url else "none"


def other_origin(obs: Observation) -> Capture | None:
    """The first request that reached another server than the first one did."""
    if not obs.sent:
        return None
    return next((c for c in obs.sent[1:] if c.server != obs.sent[0].server), None)


def cookie_pairs(capture: Capture) -> list[str]:
    """The ``name=value`` pairs of every Cookie field the request carried."""
    return [p.strip() for v in capture.header_all("Cookie") for p in v.split(";") if p.strip()]


def cookie_names(capture: Capture) -> set[str]:
    return {p.split("=", 1)[0] for p in cookie_pairs(capture)}


def cookies_sent(capture: Capture) -> str:
    """``/check: a=1; b=2`` or ``/check: no Cookie``."""
    return f"{tail(capture).split('?', 1)[0]}: {'; '.join(cookie_pairs(capture)) or 'no Cookie'}"


def to_proxy(capture: Capture) -> bool:
    """A request as only a proxy receives it (RFC 9112 §3.2.2, §3.2.3): absolute-form or CONNECT."""
    return capture.method == "CONNECT" or capture.target.startswith(("http://", "https://"))


def proxy_route(obs: Observation) -> str:
    """How the request travelled: ``direct``, ``through the proxy (CONNECT tunnel)`` ..."""
    hops = [c for c in obs.sent if to_proxy(c)]
    if not hops:
        return "direct"
    if hops[0].method == "CONNECT":
        return "through the proxy (CONNECT tunnel)"
    return f"through the proxy ({hops[0].method} in absolute-form)"
