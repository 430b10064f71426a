"""Timeouts and connections: default timeouts, a stalled response, a refused connection, a slow drip.

The caller's timeout is 0.2 s where a row sets one; every stall of the server is under one
second, and a stall ends as soon as the client hangs up (``Hold``), so no row costs more
than about a second. Times go into summaries as buckets only, so that expectations hold on
a loaded machine.

    RFC 9112 §9.5: "A client, server, or proxy MAY close the transport connection at any
    time ... A client or server that wishes to time out SHOULD issue a graceful close on
    the connection."
"""

from __future__ import annotations

from model.cell import Call, Observation
from model.checks import outcome
from model.received import body_words, returned, tries
from model.scenario import Result, Scenario, bad, ok
from model.script import Hold, Raw, Reply, Sleep

TIMEOUT = 0.2
#: How long the server stalls mid-body in timeout.read (it stops early when the client hangs up).
STALL = 0.9
DRIP = b"drip-ok!"
#: One byte every 50 ms: 0.4 s in all, each gap well within the 0.2 s timeout.
EVERY = 0.05


def within(obs: Observation) -> str:
    """The time per request (a library may retry by itself) as a bucket that stays the same."""
    seconds = obs.elapsed / max(1, len(obs.sent))
    each = "each " if len(obs.sent) > 1 else ""
    if seconds < TIMEOUT:
        return f"{each}in under {TIMEOUT:g} s"
    if seconds < 1.0:
        return f"{each}within {TIMEOUT:g}-1 s"
    return f"{each}after 1 s or more"


def defaults(obs: Observation) -> Result:
    """INFO: the timeouts a caller gets without asking, read from the library's public API."""
    if obs.got is None or "timeouts" not in obs.got.extra:
        return bad(f"{outcome(obs)}: no timeouts reported")
    return ok(f"defaults: {obs.got.extra['timeouts']}")


def read_timeout(obs: Observation) -> Result:
    """The server stalls mid-body for longer than the caller's timeout: a read-timeout error
    surfaces within the stall (an incomplete-body error means the stall ended first)."""
    if returned(obs):
        assert obs.got is not None
        return bad(f"{outcome(obs)}{tries(obs)} {within(obs)}, {body_words(obs.got.body, b'hello, you')}")
    summary = f"{outcome(obs)}{tries(obs)} {within(obs)}"
    return Result(obs.error is not None and obs.error.kind == "read-timeout", summary)


def silent_timeout(obs: Observation) -> Result:
    """Not a byte of the response within the caller's timeout: a read-timeout error surfaces.
    The kind alone says whether it fired in time: a client still waiting when the stall
    ends sees the server close instead (an empty response), so no time bucket is needed."""
    if returned(obs):
        return bad(f"{outcome(obs)}{tries(obs)}")
    return Result(obs.error is not None and obs.error.kind == "read-timeout", f"{outcome(obs)}{tries(obs)}")


def refused_connect(obs: Observation) -> Result:
    """Nothing listens on the port: the error says so (connect-refused), nothing else."""
    if returned(obs):
        return bad(f"{outcome(obs)}")
    return Result(obs.error is not None and obs.error.kind == "connect-refused", outcome(obs))


def slow_drip(obs: Observation) -> Result:
    """INFO: each byte comes within the timeout, the whole body does not: is the timeout per
    read (the body completes) or for the whole exchange (an error)?"""
    if returned(obs):
        assert obs.got is not None
        return ok(f"completed: {outcome(obs)}, {body_words(obs.got.body, DRIP)}; the timeout bounds each read")
    return ok(f"{outcome(obs)}{tries(obs)} {within(obs)}: the timeout bounds the whole exchange")


def drip(body: bytes, every: float) -> tuple[bytes | Sleep, ...]:
    steps: list[bytes | Sleep] = []
    for i in range(len(body)):
        steps += [body[i:i + 1], Sleep(every)]
    return tuple(steps)


SCENARIOS = [
    Scenario("timeout.default", "The library's default timeouts (read from its public API)", "RFC 9112 §9.5",
             "INFO", defaults, Call("GET", report_timeouts=True), Reply(200, body=b"ok")),
    Scenario("timeout.read", f"The server stalls mid-body longer than a {TIMEOUT:g} s timeout: read-timeout",
             "RFC 9112 §9.5", "INFO", read_timeout, Call("GET", timeout=TIMEOUT),
             Raw((b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", Hold(STALL))), waits=True),
    Scenario("timeout.read-before-response", f"The server accepts, reads the request, and sends nothing "
             f"longer than a {TIMEOUT:g} s timeout: read-timeout", "RFC 9112 §9.5", "INFO", silent_timeout,
             Call("GET", timeout=TIMEOUT), Raw((Hold(STALL),)), waits=True),
    Scenario("timeout.connect-refused", "Nothing listens on the port: the error says connect-refused",
             "RFC 9112 §9.5", "INFO", refused_connect, Call("GET"), origin="closed"),
    Scenario("timeout.slow-drip", f"A body trickled one byte every {EVERY * 1000:g} ms, {TIMEOUT:g} s timeout: "
             "completes?", "RFC 9112 §9.5", "INFO", slow_drip, Call("GET", timeout=TIMEOUT),
             Raw((b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(DRIP), *drip(DRIP, EVERY))), waits=True),
]


def test_scenario(cell) -> None:  # type: ignore[no-untyped-def]
    cell.run()
