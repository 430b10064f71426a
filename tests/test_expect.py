"""Expectations files with per-version overrides: loading, resolving, updating.

A file holds the base ``cells`` (recorded with ``version``) and ``on`` sections keyed
``"<library> <version prefix>"``. These tables hold, on temp folders, which sections apply
to an installed version, which files are refused, and what ``update`` writes where: the
base on the recorded version, only that version's section on any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from model import expect
from model.cell import Cell, Expected

pytestmark = pytest.mark.selftest


def e(verdict: str, summary: str) -> dict[str, str]:
    return {"verdict": verdict, "summary": summary}


BASE = {"a": e("pass", "A"), "b": e("warn", "B"), "c": e("fail", "C")}

#: A stdlib client's file (library "python"), recorded on 3.11.7, with overrides.
URLLIB: dict[str, Any] = {
    "client": "urllib", "library": "python", "version": "3.11.7", "cells": BASE,
    "on": {
        "python 3.10": {"a": e("fail", "A on 3.10")},
        "python 3.13": {"b": e("pass", "B on 3.13"), "c": e("pass", "C on 3.13")},
        "python 3.13.1": {"c": e("info", "C on 3.13.1")},
    },
}


def write(folder: Path, client: str, doc: dict[str, Any]) -> None:
    (folder / f"{client}.json").write_text(json.dumps(doc))


def summaries(resolved: dict[str, Expected]) -> dict[str, str]:
    return {sid: x.summary for sid, x in resolved.items()}


@pytest.mark.parametrize(("installed", "sections", "want"), [
    ("3.11.7", [], {"a": "A", "b": "B", "c": "C"}),                        # the recorded version: the base
    ("3.12.1", [], {"a": "A", "b": "B", "c": "C"}),                        # no section: the base
    ("3.10.13", ["python 3.10"], {"a": "A on 3.10", "b": "B", "c": "C"}),
    ("3.13.0", ["python 3.13"], {"a": "A", "b": "B on 3.13", "c": "C on 3.13"}),
    ("3.13.1", ["python 3.13", "python 3.13.1"], {"a": "A", "b": "B on 3.13", "c": "C on 3.13.1"}),
    ("3.13.10", ["python 3.13"], {"a": "A", "b": "B on 3.13", "c": "C on 3.13"}),  # 3.13.1 is not 3.13.10
    ("3.130.0", [], {"a": "A", "b": "B", "c": "C"}),                       # by dotted parts, not by text
    ("3.13", ["python 3.13"], {"a": "A", "b": "B on 3.13", "c": "C on 3.13"}),
    ("3", [], {"a": "A", "b": "B", "c": "C"}),
    (None, [], {"a": "A", "b": "B", "c": "C"}),                            # version unknown: the base
])
def test_load_applies_the_sections_that_match_the_installed_version(
        tmp_path: Path, installed: str | None, sections: list[str], want: dict[str, str]) -> None:
    write(tmp_path, "urllib", URLLIB)
    loaded = expect.load(tmp_path, "urllib")
    assert loaded.sections(installed) == sections
    assert summaries(loaded.resolve(installed)) == want
    assert loaded.covers(installed) == (installed == "3.11.7" or bool(sections))


def test_a_library_section_is_its_version_only(tmp_path: Path) -> None:
    write(tmp_path, "websockets", {"client": "websockets", "library": "websockets", "version": "17.4",
                                   "cells": BASE, "on": {"websockets 16.1.1": {"a": e("pass", "A in 16")}}})
    loaded = expect.load(tmp_path, "websockets")
    assert loaded.resolve("16.1.1")["a"].summary == "A in 16"
    for other in ("16.1", "16.1.10", "16.1.2", "17.4"):
        assert loaded.resolve(other)["a"].summary == "A", other


def test_no_file_loads_empty(tmp_path: Path) -> None:
    assert expect.load(tmp_path, "requests").resolve("1.0") == {}


@pytest.mark.parametrize(("on", "message"), [
    ({"python": {}}, "is not '<library> <version>'"),
    ({"python 3..13": {}}, "is not '<library> <version>'"),
    ({"python 3.13 ": {}}, "is not '<library> <version>'"),
    ({"requests 2.34.2": {}}, "names 'requests', but this file is for 'python'"),
    ({"python 3.11": {}}, "covers the recorded version 3.11.7"),
    ({"python 3": {}}, "covers the recorded version 3.11.7"),
    ({"python 3.13": {"a": e("passs", "x")}}, "unknown verdict 'passs'"),
    ({"python 3.13": {"a": {"verdict": "pass"}}}, "KeyError"),
    (["python 3.13"], "'on' must map"),
])
def test_a_broken_override_section_is_named(tmp_path: Path, on: Any, message: str) -> None:
    write(tmp_path, "urllib", {**URLLIB, "on": on})
    with pytest.raises(expect.ExpectationsError, match="urllib.json is not a valid expectations file") as info:
        expect.load(tmp_path, "urllib")
    assert message in str(info.value)


def cell(sid: str, verdict: str, summary: str, client: str = "urllib") -> Cell:
    return Cell(sid, client, verdict, summary)  # type: ignore[arg-type]


PY = {"library": "python"}

#: (what the file holds, the run's version, its cells, the base after, the sections after)
UPDATES: list[tuple[str, dict[str, Any] | None, str, list[Cell], dict[str, Any], dict[str, Any] | None]] = [
    ("the recorded version updates the base, never a section",
     URLLIB, "3.11.7", [cell("a", "fail", "A2"), cell("d", "pass", "D")],
     {**BASE, "a": e("fail", "A2"), "d": e("pass", "D")}, URLLIB["on"]),
    ("another minor: only the cells that differ from the base, in its python X.Y section",
     {**URLLIB, "on": {}}, "3.12.1", [cell("a", "pass", "A"), cell("b", "pass", "B on 3.12")],
     BASE, {"python 3.12": {"b": e("pass", "B on 3.12")}}),
    ("nothing differs: an empty section records that the version was checked",
     {**URLLIB, "on": {}}, "3.12.1", [cell("a", "pass", "A"), cell("b", "warn", "B")],
     BASE, {"python 3.12": {}}),
    ("merge: a cell that now agrees with the base leaves the section; a cell not run stays",
     URLLIB, "3.13.0", [cell("b", "warn", "B"), cell("a", "fail", "A on 3.13")],
     BASE, {**URLLIB["on"], "python 3.13": {"a": e("fail", "A on 3.13"), "c": e("pass", "C on 3.13")}}),
    ("the most specific matching section is written, compared with the wider one",
     URLLIB, "3.13.1", [cell("b", "pass", "B on 3.13"), cell("c", "pass", "C on 3.13"), cell("a", "info", "A")],
     BASE, {**URLLIB["on"], "python 3.13.1": {"a": e("info", "A")}}),
    ("a patch release of the recorded minor gets its full version",
     {**URLLIB, "on": {}}, "3.11.9", [cell("a", "pass", "A on 3.11.9")],
     BASE, {"python 3.11.9": {"a": e("pass", "A on 3.11.9")}}),
    ("a new scenario seen only on another version goes to its section",
     {**URLLIB, "on": {}}, "3.10.13", [cell("z", "pass", "Z")],
     BASE, {"python 3.10": {"z": e("pass", "Z")}}),
    ("no file yet: the run is the base",
     None, "3.12.1", [cell("a", "pass", "A")], {"a": e("pass", "A")}, None),
]


@pytest.mark.parametrize(("before", "version", "cells", "base", "on"), [u[1:] for u in UPDATES],
                         ids=[u[0] for u in UPDATES])
def test_update_writes_the_base_or_the_matching_section(
        tmp_path: Path, before: dict[str, Any] | None, version: str, cells: list[Cell],
        base: dict[str, Any], on: dict[str, Any] | None) -> None:
    if before is not None:
        write(tmp_path, "urllib", before)
    expect.update(tmp_path, cells, {"urllib": {**PY, "version": version}})
    doc = json.loads((tmp_path / "urllib.json").read_text())
    assert doc["cells"] == base
    assert doc.get("on") == (on or None)
    assert doc["version"] == (before or {}).get("version", version), "the recorded version never moves"
    for c in cells:  # what was recorded is what a run of that version now expects
        assert expect.load(tmp_path, "urllib").resolve(version)[c.scenario] == Expected(c.verdict, c.summary)


def test_update_of_a_library_writes_its_exact_version_or_the_wider_section_it_has(tmp_path: Path) -> None:
    doc = {"client": "websockets", "library": "websockets", "version": "17.4", "cells": BASE}
    meta = {"websockets": {"library": "websockets", "version": "16.1.1"}}
    write(tmp_path, "websockets", doc)
    expect.update(tmp_path, [cell("a", "pass", "A in 16", "websockets")], meta)
    assert json.loads((tmp_path / "websockets.json").read_text())["on"] == {"websockets 16.1.1": {"a": e("pass", "A in 16")}}

    write(tmp_path, "websockets", {**doc, "on": {"websockets 16": {}}})  # widened by hand: kept
    expect.update(tmp_path, [cell("a", "pass", "A in 16", "websockets")], meta)
    assert json.loads((tmp_path / "websockets.json").read_text())["on"] == {"websockets 16": {"a": e("pass", "A in 16")}}


def test_sections_are_written_in_version_order(tmp_path: Path) -> None:
    write(tmp_path, "urllib", {**URLLIB, "on": {"python 3.10": {}, "python 3.9": {}}})
    expect.update(tmp_path, [cell("a", "pass", "A")], {"urllib": {**PY, "version": "3.13.0"}})
    assert list(json.loads((tmp_path / "urllib.json").read_text())["on"]) == ["python 3.9", "python 3.10", "python 3.13"]


def test_skipped_and_error_cells_are_never_written(tmp_path: Path) -> None:
    write(tmp_path, "urllib", {**URLLIB, "on": {}})
    skipped = Cell("a", "urllib", "unsupported", "port 80", outcome="skipped")
    expect.update(tmp_path, [skipped, cell("b", "error", "harness")], {"urllib": {**PY, "version": "3.12.1"}})
    assert not (tmp_path / "urllib.json").read_text().count("python 3.12")
