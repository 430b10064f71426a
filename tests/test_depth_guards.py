"""Self-tests of the depth rows (issue 11).

Each depth module declares its new rows as ``DEPTH`` and, for every graded one (MUST or
SHOULD), a wrong observation in ``WRONG`` (the request or response a careless library would
produce), attached to the row (``model.wrong.attach``): the project's guard,
``tests/test_wrong.py``, grades each and requires the failing verdict. Here: that the tables
name graded depth rows only, the opt-in field guard (an adapter that does not translate a new
``Call`` field refuses the call), and the strict body parsers the checks use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from fixtures.adapter import SyncAdapter
from model.cell import OPT_IN, Call, Got, Part, uses
from model.forms import Malformed, multipart, strict_json, valid_boundary

MODULES = ("test_bodies", "test_fields", "test_auth", "test_urls", "test_connections", "test_parsing",
           "test_cookies", "test_proxy")


def module(name: str) -> ModuleType:
    return importlib.import_module(f"suites.{name}")


@pytest.mark.parametrize("name", MODULES)
def test_wrong_answers_name_graded_depth_rows_only(name: str) -> None:
    mod = module(name)
    graded_ids = {s.id for s in mod.DEPTH if s.level != "INFO"}
    assert set(mod.WRONG) <= graded_ids, f"stale or INFO entries in {name}.WRONG: {set(mod.WRONG) - graded_ids}"


def test_depth_rows_are_declared_once_and_in_scenarios() -> None:
    ids = [s.id for name in MODULES for s in module(name).DEPTH]
    assert len(ids) == len(set(ids))
    for name in MODULES:
        assert all(s in module(name).SCENARIOS for s in module(name).DEPTH)


class Bare(SyncAdapter):
    """An adapter that declares no opt-in field: it must refuse every one, never drop it."""

    id = "bare"
    short = "bare"
    library = "python"

    def request(self, call: Call, options: dict) -> Got:  # type: ignore[type-arg]
        raise AssertionError("a call with an undeclared field must never reach the adapter")


SAMPLES = {"json": {"a": 1}, "form": (("a", "1"),), "files": (Part("f", b"x", "a.txt"),), "file_body": True,
           "auth": ("u", "p"), "digest": True, "proxy": "http://127.0.0.1:1", "header_values": (("X", 1),),
           "lines": True, "expect_continue": True}


@pytest.mark.parametrize("field", OPT_IN)
def test_an_undeclared_field_is_refused_not_ignored(field: str) -> None:
    call = Call("GET", url="http://127.0.0.1:1/", **{field: SAMPLES[field]})
    assert uses(call, field)
    out = Bare().run(call, deadline=1.0)
    assert out.unsupported == f"this adapter does not translate {field}"
    follow_up = Call("GET", then=(call,))
    assert Bare().refusal(follow_up) == f"this adapter does not translate {field}"


def test_default_fields_are_not_used() -> None:
    assert not any(uses(Call(), f) for f in OPT_IN)
    assert Bare().refusal(Call("GET")) is None


def test_the_multipart_parser_is_strict() -> None:
    ok = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b--\r\n'
    parts = multipart("multipart/form-data; boundary=b", ok)
    assert [p.param("name") for p in parts] == ["a"] and parts[0].body == b"x"
    with pytest.raises(Malformed):
        multipart("multipart/form-data; boundary=b", ok.replace(b"--b--", b"--c--"))
    with pytest.raises(Malformed):
        multipart("text/plain", ok)
    assert valid_boundary("abc123") and not valid_boundary("ends-in-space ") and not valid_boundary("a" * 71)


def test_strict_json_refuses_nan_and_non_utf8() -> None:
    assert strict_json(b'{"a": 1}') == {"a": 1}
    for bad in (b'{"x": NaN}', b'{"x": Infinity}', '{"k": "é"}'.encode("latin-1")):
        with pytest.raises(Malformed):
            strict_json(bad)


def test_opt_in_fields_and_a_fresh_interpreter() -> None:
    """fixtures.fresh sends a call as JSON: unused opt-in fields stay unused (an empty list must
    not read as "files asked for"), and a call that uses one is refused (one plain request)."""
    import json

    from fixtures.fresh import call_from_json, call_to_json

    plain = call_from_json(json.loads(json.dumps(call_to_json(Call("GET", url="http://127.0.0.1:1/")))))
    assert not any(uses(plain, f) for f in OPT_IN)
    with pytest.raises(ValueError):
        call_to_json(Call("POST", url="http://127.0.0.1:1/", form=(("a", "1"),)))
