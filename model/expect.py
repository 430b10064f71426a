"""Expectations: the recorded behaviour the suite holds each client to.

One JSON file per client, ``expectations/<client>.json``:

    {"client": "urllib", "library": "python", "version": "3.11.7",
     "cells": {"methods.get": {"verdict": "pass", "summary": "..."}, ...},
     "on": {"python 3.13": {"redirect.301.head": {"verdict": "pass", "summary": "..."}}}}

``cells`` is the base: every cell, recorded with ``version`` of ``library`` (the pinned
version on the project's main Python; for the stdlib clients, whose library is
``python``, the Python version). ``on`` holds overrides for other versions, one section
per ``"<library> <version>"`` key; the version is a prefix by dotted parts, so
``python 3.13`` applies to 3.13.0 and 3.13.5 (not 3.130), ``websockets 16.1.1`` to that
version only. A section holds only the cells that differ from the base; an empty one
says the version was recorded and behaves as the base. Loading for an installed version
takes the base, then applies the sections that match it, least specific first.

A cell whose verdict and summary match its expectation passes in pytest; one that
differs fails with a diff: the behaviour changed, or a bug was fixed, and either
is news. A known-intermittent cell lists its other accepted outcomes under ``also``
(``{"verdict": ..., "summary": ..., "also": [{"verdict": ..., "summary": ...}]}``) and
passes on any of them; a cell run several times (``--repeat``) passes when every outcome
it gave is accepted. An update records an intermittent cell as that set, and leaves out
``timeout`` and ``error`` cells unless asked (``left_out``).

``pytest --update-expectations`` rewrites the files from a run, merging:
cells that did not run keep their old record. On the recorded version it updates the
base; on any other version it writes the cells that differ from the base into that
version's section (the most specific matching one, else a new one: ``python 3.13`` for
a Python, the exact version for a library) and never touches the base. Files are
written sorted and with one cell per line group, so the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.cell import VERDICTS, Cell, Expected, Variant


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: The process umask, read once at import (reading it means setting it, briefly).
UMASK = _umask()


class ExpectationsError(Exception):
    """An expectations file cannot be used; the message says which and how to fix it."""


def path_for(folder: Path, client: str) -> Path:
    return folder / f"{client}.json"


def parts(version: str) -> list[str]:
    return version.split(".")


def matches(prefix: str, version: str) -> bool:
    """Whether a section's version (a prefix by dotted parts) covers an installed version."""
    want = parts(prefix)
    return parts(version)[: len(want)] == want


def section_key(library: str, version: str) -> str:
    return f"{library} {version}"


def split_key(key: str) -> tuple[str, str]:
    """``"python 3.13"`` -> ``("python", "3.13")``; a malformed key raises ValueError."""
    library, _, version = key.rpartition(" ")
    if not library or not re.fullmatch(r"[^.\s]+(\.[^.\s]+)*", version):
        raise ValueError(f"override key {key!r} is not '<library> <version>' (e.g. 'python 3.13')")
    return library, version


def _numbers(key: str) -> list[tuple[int, int, str]]:
    """A key's version, compared by number where its parts are numbers (3.9 < 3.10)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts(split_key(key)[1])]


def _order(key: str) -> tuple[int, list[tuple[int, int, str]]]:
    """The order sections apply in: least specific first (python 3.13 before python 3.13.1)."""
    return len(parts(split_key(key)[1])), _numbers(key)


@dataclass
class Expectations:
    """One client's file: the base cells and the per-version override sections."""

    library: str = ""
    version: str = ""
    cells: dict[str, Expected] = field(default_factory=dict)
    on: dict[str, dict[str, Expected]] = field(default_factory=dict)

    def sections(self, version: str | None) -> list[str]:
        """The override sections that apply to ``version``, least specific first."""
        if not version:
            return []
        keys = [k for k in self.on if matches(split_key(k)[1], version)]
        return sorted(keys, key=_order)

    def resolve(self, version: str | None) -> dict[str, Expected]:
        """The expectations for an installed version: the base, then its sections."""
        resolved = dict(self.cells)
        for key in self.sections(version):
            resolved.update(self.on[key])
        return resolved

    def covers(self, version: str | None) -> bool:
        """Whether the file was recorded for ``version``: its base version, or a section of it."""
        return bool(version) and (version == self.version or bool(self.sections(version)))


def _cells(raw: Mapping[str, Any]) -> dict[str, Expected]:
    loaded = {sid: Expected.from_json(e) for sid, e in raw.items()}
    wrong = sorted({v for e in loaded.values() for v, _ in e.outcomes()} - set(VERDICTS))
    if wrong:
        raise ValueError(f"unknown verdict {wrong[0]!r} (known: {', '.join(VERDICTS)})")
    return loaded


def parse(data: Any) -> Expectations:
    """An expectations file's JSON -> Expectations; ValueError/KeyError/TypeError when broken."""
    exp = Expectations(str(data.get("library") or ""), str(data.get("version") or ""), _cells(data["cells"]))
    on = data.get("on") or {}
    if not isinstance(on, dict):
        raise TypeError(f"'on' must map '<library> <version>' to cells, not {type(on).__name__}")
    for key, raw in on.items():
        library, version = split_key(key)
        if exp.library and library != exp.library:
            raise ValueError(f"override {key!r} names {library!r}, but this file is for {exp.library!r}")
        if exp.version and matches(version, exp.version):
            raise ValueError(f"override {key!r} covers the recorded version {exp.version}, whose cells "
                             "belong in 'cells'")
        exp.on[key] = _cells(raw)
    return exp


def load(folder: Path, client: str) -> Expectations:
    path = path_for(folder, client)
    if not path.exists():
        return Expectations()
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExpectationsError(
            f"{path} is not a valid expectations file ({type(exc).__name__}: {exc}). "
            f"Fix it, or restore it with `git checkout {path}`, or delete it and run "
            "`pytest --update-expectations` to record it anew."
        ) from exc


def load_all(folder: Path, clients: Iterable[str]) -> dict[str, Expectations]:
    return {client: load(folder, client) for client in clients}


def diff(expected: Expected | None, verdict: str, summary: str,
         variants: Sequence[Variant] = ()) -> str | None:
    """A readable difference, or None when the cell matches its expectation.

    A cell run several times (``variants``) matches when its expectation accepts every
    outcome seen (a known-intermittent cell lists them all, ``Expected.also``).
    """
    seen = [(v.verdict, v.summary, f" ({v.count}x)") for v in variants] or [(verdict, summary, "")]
    if expected is None:
        observed = "; ".join(f"{v}: {s}{n}" for v, s, n in seen)
        return (
            f"no expectation recorded for this cell (observed: {observed}); "
            "run `pytest --update-expectations` and review the diff"
        )
    if all(expected.accepts(v, s) for v, s, _ in seen):
        return None
    lines = ["behaviour differs from the recorded expectation:"]
    lines += [f"  - expected: {v}: {s}" for v, s in expected.outcomes()]
    lines += [f"  + observed: {v}: {s}{n}" for v, s, n in seen]
    if len(seen) > 1:
        lines.append("(intermittent: the cell varied over its repeated runs)")
    lines.append("(a changed library or a fixed bug: if this is right, run `pytest --update-expectations`)")
    return "\n".join(lines)


#: Verdicts ``--update-expectations`` leaves out unless asked (``--update-include``): they say
#: something about the machine (a timeout) or the harness (an error), not the library.
UNSTABLE = ("timeout", "error")


def left_out(cell: Cell, include: Iterable[str] = ()) -> str | None:
    """Why an update does not record ``cell`` (None: it is recorded)."""
    if cell.outcome == "skipped":
        return "skipped"  # the environment (a missing library, a port), never the library
    verdicts = {v.verdict for v in cell.variants} or {cell.verdict}
    unstable = sorted(verdicts & (set(UNSTABLE) - set(include)))
    return f"verdict {'/'.join(unstable)}" if unstable else None


def recorded(cell: Cell, old: Expected | None) -> dict[str, Any]:
    """What an update writes for a cell: its outcome; every variant of an intermittent one.

    A known-intermittent expectation that still accepts a steady run's outcome is kept, so a
    run that happened not to vary does not forget the other outcomes."""
    if cell.intermittent:
        first, *rest = cell.variants
        return Expected(first.verdict, first.summary, tuple((v.verdict, v.summary) for v in rest)).to_json()
    if old is not None and old.also and old.accepts(cell.verdict, cell.summary):
        return old.to_json()
    return Expected(cell.verdict, cell.summary).to_json()


def atomic_write(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary sibling, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600; a report is as readable as any file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def target_section(exp: Expectations, library: str, version: str) -> str:
    """Where a run of ``version`` (not the recorded one) is written: the most specific
    section that already covers it, else a new one. A Python's behaviour changes with its
    minor releases, so the stdlib clients get ``python 3.13`` (the full version when only
    the patch differs from the recorded one); a library gets its exact version."""
    existing = exp.sections(version)
    if existing:
        return existing[-1]
    if library == "python":
        minor = ".".join(parts(version)[:2])
        if not (exp.version and matches(minor, exp.version)):
            return section_key(library, minor)
    return section_key(library, version)


def update(folder: Path, cells: Iterable[Cell], clients: dict[str, dict[str, Any]],
           include: Iterable[str] = ()) -> list[Path]:
    """Merge the run's graded cells into the files; return the files written.

    On the recorded version (or with no file yet) the base ``cells`` are merged. On another
    version only that version's section changes: a cell that differs from what the other
    matching sections and the base give is written there, one that agrees is dropped from it.
    Cells ``left_out`` (skipped; ``timeout`` or ``error`` unless in ``include``) are not written.
    """
    include = tuple(include)
    by_client: dict[str, list[Cell]] = {}
    for cell in cells:
        if left_out(cell, include):
            continue
        if "@" in cell.client:
            continue  # another version's column (requests@2.31.0): shown against the pinned one, never recorded
        by_client.setdefault(cell.client, []).append(cell)
    written = []
    for client, new in sorted(by_client.items()):
        path = path_for(folder, client)
        try:
            old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            exp = parse(old)
        except (ValueError, KeyError, TypeError, AttributeError):
            old, exp = {}, Expectations()
        meta = clients.get(client, {})
        library = str(meta.get("library") or exp.library)
        version = str(meta.get("version") or "")
        base = dict(old.get("cells") or {})
        on = {k: dict(v) for k, v in (old.get("on") or {}).items()}
        if not exp.version or not version or version == exp.version:
            for cell in new:
                base[cell.scenario] = recorded(cell, exp.cells.get(cell.scenario))
            recorded_version = version or exp.version
        else:
            key = target_section(exp, library, version)
            reference = Expectations(exp.library, exp.version, exp.cells,
                                     {k: v for k, v in exp.on.items() if k != key}).resolve(version)
            section = on.setdefault(key, {})
            for cell in new:
                entry = recorded(cell, exp.on.get(key, {}).get(cell.scenario) or reference.get(cell.scenario))
                if reference.get(cell.scenario) == Expected.from_json(entry):
                    section.pop(cell.scenario, None)
                else:
                    section[cell.scenario] = entry
            recorded_version = exp.version
        doc: dict[str, Any] = {
            "client": client,
            "library": library,
            "version": recorded_version,
            "cells": dict(sorted(base.items())),
        }
        if on:
            keys = sorted(on, key=lambda k: (split_key(k)[0], _numbers(k)))
            doc["on"] = {k: dict(sorted(on[k].items())) for k in keys}
        atomic_write(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written
