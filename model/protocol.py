"""The runner protocol: a cell's call crosses to a runner process and its result comes back.

A column whose library lives in another environment (``fixtures.envs``) makes its call in a
runner process of that environment (``fixtures.runner``). They speak one JSON object per
line over the runner's stdin and stdout:

    pytest -> runner   {"init": {"client": ID, "ca_file": PATH}}
    runner -> pytest   {"ready": META} | {"missing": WHY}            (the library did not import)
    pytest -> runner   {"call": CALL, "deadline": S, "env": {NAME: VALUE|null}}
    runner -> pytest   {"abort": true}                               (its deadline passed: cut the route)
    runner -> pytest   {"out": RESULT}
    pytest -> runner   {"modules": true}  ->  {"modules": [NAME, ...]}   (a self-test's question)

``CALL`` is ``call_to_json`` of a ``Call``; ``RESULT`` is ``result_to_json``: the ``Got``
(whole, body included: the checks read it), the ``Failure`` already classified by the
runner, where the library's exception classes exist, a harness bug, the options the
library was given, the time taken and whether the deadline passed. A WebSocket
transcript travels on its ``Got`` (``extra["ws"]``). Bytes are base64; a ``Call``'s tuples,
dicts and ``Part`` are tagged (``encode`` / ``decode``); a text's lone surrogates survive
JSON's ``\\udcxx`` escapes.

Plain data only: no I/O here, and nothing but ``model.cell``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any

from model.cell import Call, Failure, Got, Part, WsCall


def _bytes(data: bytes | None) -> dict[str, str] | None:
    return None if data is None else {"b64": base64.b64encode(data).decode("ascii")}


def _unbytes(data: Any) -> bytes | None:
    return None if data is None else base64.b64decode(data["b64"])


#: Tags for what JSON has no word for (a key no caller's value uses: NUL-prefixed).
BYTES, TUPLE, PART, DICT = "\0bytes", "\0tuple", "\0part", "\0dict"


def encode(value: Any) -> Any:
    """A ``Call`` field's value as JSON: bytes, tuples, dicts and ``Part`` tagged, so that
    ``decode`` gives back an equal value (header values may be bytes or ints, a JSON body
    any JSON value, ``files`` a tuple of ``Part``)."""
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {TUPLE: [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {DICT: [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, Part):
        return {PART: {f.name: encode(getattr(value, f.name)) for f in fields(Part)}}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if BYTES in value:
            return base64.b64decode(value[BYTES])
        if TUPLE in value:
            return tuple(decode(v) for v in value[TUPLE])
        if DICT in value:
            return {decode(k): decode(v) for k, v in value[DICT]}
        if PART in value:
            return Part(**{k: decode(v) for k, v in value[PART].items()})
    return value


def call_to_json(call: Call) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Call):
        value = getattr(call, f.name)
        if f.name == "then":
            out[f.name] = [call_to_json(c) for c in value]
        elif f.name == "ws" and value is not None:
            out[f.name] = {w.name: encode(getattr(value, w.name)) for w in fields(WsCall)}
        else:
            out[f.name] = encode(value)
    return out


def call_from_json(data: dict[str, Any]) -> Call:
    kwargs = {k: decode(v) for k, v in data.items() if k not in ("then", "ws")}
    kwargs["then"] = tuple(call_from_json(c) for c in data.get("then", ()))
    ws = data.get("ws")
    kwargs["ws"] = None if ws is None else WsCall(**{k: decode(v) for k, v in ws.items()})
    return Call(**kwargs)


def got_to_json(got: Got) -> dict[str, Any]:
    return {"status": got.status, "reason": got.reason, "headers": [[k, v] for k, v in got.headers],
            "body": _bytes(got.body), "history": list(got.history), "url": got.url,
            "extra": got.extra, "text": got.text}


def got_from_json(data: dict[str, Any]) -> Got:
    return Got(status=data["status"], reason=data["reason"],
               headers=tuple((k, v) for k, v in data["headers"]), body=_unbytes(data["body"]) or b"",
               history=tuple(data["history"]), url=data["url"], extra=data["extra"] or {}, text=data["text"])


@dataclass
class Result:
    """What a runner reports of one call: ``fixtures.adapter.Outcome`` with its exception
    already classified (the runner has the library's classes; pytest's process may not)."""

    got: Got | None = None
    failure: Failure | None = None
    #: Our own adapter's bug behind the exception (``fixtures.adapter.harness_bug``), or None.
    bug: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    timed_out: bool = False
    unsupported: str | None = None


def result_to_json(result: Result) -> dict[str, Any]:
    return {"got": got_to_json(result.got) if result.got is not None else None,
            "failure": result.failure.to_json() if result.failure is not None else None,
            "bug": result.bug, "options": result.options, "elapsed": result.elapsed,
            "timed_out": result.timed_out, "unsupported": result.unsupported}


def result_from_json(data: dict[str, Any]) -> Result:
    got, failure = data.get("got"), data.get("failure")
    return Result(got=got_from_json(got) if got is not None else None,
                  failure=Failure(**failure) if failure is not None else None,
                  bug=data.get("bug"), options=data.get("options") or {}, elapsed=float(data.get("elapsed", 0.0)),
                  timed_out=bool(data.get("timed_out")), unsupported=data.get("unsupported"))
