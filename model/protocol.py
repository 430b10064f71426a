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
transcript travels on its ``Got`` (``extra["ws"]``). Bytes are base64 (``{"b64": ...}``);
a text's lone surrogates survive JSON's ``\\udcxx`` escapes.

Plain data only: no I/O here, and nothing but ``model.cell``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, fields
from typing import Any

from model.cell import Call, Failure, Got, WsCall


def _bytes(data: bytes | None) -> dict[str, str] | None:
    return None if data is None else {"b64": base64.b64encode(data).decode("ascii")}


def _unbytes(data: Any) -> bytes | None:
    return None if data is None else base64.b64decode(data["b64"])


def _message(item: str | bytes) -> Any:
    return _bytes(item) if isinstance(item, bytes) else item


def _unmessage(item: Any) -> str | bytes:
    return item if isinstance(item, str) else (_unbytes(item) or b"")


def call_to_json(call: Call) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(Call):
        value = getattr(call, f.name)
        if f.name == "body":
            value = _bytes(value)
        elif f.name == "then":
            value = [call_to_json(c) for c in value]
        elif f.name == "ws" and value is not None:
            value = {w.name: getattr(value, w.name) for w in fields(WsCall)}
            value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
            value["send"] = [_message(m) for m in value["send"]]
        elif f.name in ("headers",):
            value = [list(pair) for pair in value]
        elif f.name in ("lookup", "client_cert") and value is not None:
            value = list(value)
        out[f.name] = value
    return out


def call_from_json(data: dict[str, Any]) -> Call:
    kwargs = dict(data)
    kwargs["body"] = _unbytes(data.get("body"))
    kwargs["then"] = tuple(call_from_json(c) for c in data.get("then", ()))
    kwargs["headers"] = tuple((str(k), str(v)) for k, v in data.get("headers", ()))
    kwargs["lookup"] = tuple(data.get("lookup", ()))
    cert = data.get("client_cert")
    kwargs["client_cert"] = (cert[0], cert[1]) if cert else None
    ws = data.get("ws")
    if ws is not None:
        ws = {k: tuple(v) if isinstance(v, list) else v for k, v in ws.items()}
        kwargs["ws"] = WsCall(**{**ws, "send": tuple(_unmessage(m) for m in ws["send"])})
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
