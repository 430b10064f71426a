"""Expectations: the recorded behaviour the suite holds each client to.

One JSON file per client, ``expectations/<client>.json``:

    {"client": "requests", "library": "requests", "version": "2.34.2",
     "cells": {"methods.get": {"verdict": "pass", "summary": "..."}, ...}}

A cell whose verdict and summary match its expectation passes in pytest; one that
differs fails with a diff: the behaviour changed, or a bug was fixed, and either
is news. ``pytest --update-expectations`` rewrites the files from a run, merging:
cells that did not run keep their old record. Files are written sorted and with
one cell per line group, so the diff is reviewed like code.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matrix.model import VERDICTS, Cell, Expected


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


def load(folder: Path, client: str) -> dict[str, Expected]:
    path = path_for(folder, client)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = data["cells"]
        loaded = {sid: Expected(str(e["verdict"]), str(e["summary"])) for sid, e in cells.items()}
        wrong = sorted({e.verdict for e in loaded.values()} - set(VERDICTS))
        if wrong:
            raise ValueError(f"unknown verdict {wrong[0]!r} (known: {', '.join(VERDICTS)})")
        return loaded
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ExpectationsError(
            f"{path} is not a valid expectations file ({type(exc).__name__}: {exc}). "
            f"Fix it, or restore it with `git checkout {path}`, or delete it and run "
            "`pytest --update-expectations` to record it anew."
        ) from exc


def recorded_version(folder: Path, client: str) -> str | None:
    """The library version an expectations file was recorded with (None: no file, or none said)."""
    try:
        version = json.loads(path_for(folder, client).read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return str(version) if version else None


def load_all(folder: Path, clients: Iterable[str]) -> dict[str, dict[str, Expected]]:
    return {client: load(folder, client) for client in clients}


def diff(expected: Expected | None, verdict: str, summary: str) -> str | None:
    """A readable difference, or None when the cell matches its expectation."""
    if expected is None:
        return (
            f"no expectation recorded for this cell (observed: {verdict}: {summary}); "
            "run `pytest --update-expectations` and review the diff"
        )
    if expected.verdict == verdict and expected.summary == summary:
        return None
    lines = ["behaviour differs from the recorded expectation:"]
    lines.append(f"  - expected: {expected.verdict}: {expected.summary}")
    lines.append(f"  + observed: {verdict}: {summary}")
    lines.append("(a changed library or a fixed bug: if this is right, run `pytest --update-expectations`)")
    return "\n".join(lines)


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


def update(folder: Path, cells: Iterable[Cell], clients: dict[str, dict[str, Any]]) -> list[Path]:
    """Merge the run's graded cells into the files; return the files written."""
    by_client: dict[str, list[Cell]] = {}
    for cell in cells:
        if cell.outcome == "skipped" or cell.verdict == "error":
            continue  # the environment or our harness, never the library's behaviour
        by_client.setdefault(cell.client, []).append(cell)
    written = []
    for client, new in sorted(by_client.items()):
        path = path_for(folder, client)
        try:
            old = json.loads(path.read_text(encoding="utf-8"))["cells"] if path.exists() else {}
        except (ValueError, KeyError, TypeError):
            old = {}
        merged = dict(old)
        for cell in new:
            merged[cell.scenario] = {"verdict": cell.verdict, "summary": cell.summary}
        meta = clients.get(client, {})
        doc = {
            "client": client,
            "library": meta.get("library", ""),
            "version": meta.get("version", ""),
            "cells": dict(sorted(merged.items())),
        }
        atomic_write(path, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        written.append(path)
    return written
