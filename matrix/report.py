"""The matrix document and its writers: ``matrix.json``, ``matrix.md`` (and ``matrix.html``).

``Matrix`` is the whole run: ``run`` (Python, platform, times, command line),
``clients`` (id, library, version, mode), ``scenarios`` (id, group, title, spec,
level) and ``cells``. It is built by the controller from the cells its workers
reported, and read back by ``python -m matrix``. ``write`` writes all three
reports (the HTML page is built by matrix.html), each atomically (temporary
sibling, then rename), once, by the controller.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.cell import SCHEMA_VERSION, VERDICTS, Cell

GLYPHS = {
    "pass": "✓",
    "fail": "✗",
    "warn": "!",
    "info": "i",
    "unsupported": "-",
    "timeout": "T",
    "error": "E",
}
MEANING = {
    "pass": "pass: meets the RFC",
    "fail": "fail: a MUST broken",
    "warn": "warn: a SHOULD broken",
    "info": "info: recorded, not graded",
    "unsupported": "unsupported: the API cannot express it (or not installed)",
    "timeout": "timeout: no answer within the cell deadline",
    "error": "error: the harness broke (our bug)",
}
#: Marks a cell whose pytest outcome was not "passed" (it differs from its expectation).
DIFFERS = "*"
#: Marks a cell whose verdict or summary varied over --repeat runs.
INTERMITTENT = "~"


#: "RFC 9110 §15.4.4": an RFC and, optionally, a section.
RFC = re.compile(r"RFC\s*(\d{3,5})(?:\s*§\s*(\d+(?:\.\d+)*))?")
#: Other documents a row may cite, by the name it starts with.
DOCUMENTS = {"Fetch": "https://fetch.spec.whatwg.org/"}


def spec_links(spec: str) -> list[list[str]]:
    """The documents a row's spec anchor cites, as [text, URL] (links only: nothing is loaded).

    ``RFC 9110 §15.4.4`` -> https://www.rfc-editor.org/rfc/rfc9110.html#section-15.4.4."""
    out = []
    for m in RFC.finditer(spec):
        number, section = m.group(1), m.group(2)
        url = f"https://www.rfc-editor.org/rfc/rfc{number}.html" + (f"#section-{section}" if section else "")
        out.append([m.group(0), url])
    for name, url in DOCUMENTS.items():
        found = re.search(re.escape(name) + r"(\s*§\s*[\d.]+)?", spec)
        if found:
            out.append([found.group(0), url])
    return out


class MatrixFileError(Exception):
    """A file is not a matrix this version can read; the message says why."""


#: The keys every entry of a matrix file must have, by list (the report writers need them).
REQUIRED: dict[str, tuple[str, ...]] = {
    "scenarios": ("id", "group", "title", "spec", "level"),
    "clients": ("id", "library", "version"),
    "cells": ("scenario", "client", "verdict", "summary"),
}


def problems(data: dict[str, Any]) -> list[str]:
    """What keeps a matrix file's ``data`` from being read, entry by entry, in file order."""
    found: list[str] = []
    if not isinstance(data.get("run", {}), dict):
        found.append("'run' is not an object")
    for name, keys in REQUIRED.items():
        entries = data.get(name)
        if entries is None:
            found.append(f"no '{name}' list")
            continue
        if not isinstance(entries, list):
            found.append(f"'{name}' is not a list")
            continue
        for i, entry in enumerate(entries):
            where = f"{name}[{i}]"
            if not isinstance(entry, dict):
                found.append(f"{where} is not an object")
                continue
            named = entry.get("id", entry.get("scenario"))
            if isinstance(named, str):
                where += f" ({named!r}" + (f" x {entry['client']!r})" if isinstance(entry.get("client"), str) else ")")
            missing = [k for k in keys if k not in entry]
            if missing:
                found.append(f"{where} lacks " + ", ".join(repr(k) for k in missing))
            elif name == "cells" and entry["verdict"] not in VERDICTS:
                found.append(f"{where} has an unknown verdict {entry['verdict']!r}")
            elif name == "cells" and entry.get("expected") and not (
                    isinstance(entry["expected"], dict) and {"verdict", "summary"} <= set(entry["expected"])):
                found.append(f"{where} has an 'expected' without 'verdict' and 'summary'")
    return found


@dataclass
class Matrix:
    run: dict[str, Any] = field(default_factory=dict)
    clients: list[dict[str, Any]] = field(default_factory=list)
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    #: Clients that are not columns of a protocol family, and why, said once per family
    #: (``{"h2": {"requests": "speaks HTTP/1.1 only"}}``) instead of a column of ``-``.
    absent: dict[str, dict[str, str]] = field(default_factory=dict)
    _by_key: dict[tuple[str, str], Cell] = field(default_factory=dict, init=False, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(0, -1), init=False, repr=False, compare=False)

    def cell(self, scenario: str, client: str) -> Cell | None:
        return self._index().get((scenario, client))

    def _index(self) -> dict[tuple[str, str], Cell]:
        # Built once per list of cells (every writer looks cells up one by one: rebuilding
        # it per lookup made a report quadratic in the cells).
        stamp = (id(self.cells), len(self.cells))
        if self._indexed != stamp:
            self._by_key = {c.key: c for c in self.cells}
            self._indexed = stamp
        return self._by_key

    def counts(self) -> Counter[str]:
        return Counter(c.verdict for c in self.cells)

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for s in self.scenarios:
            out.setdefault(s["group"], []).append(s)
        return out

    def families(self) -> list[str]:
        """Protocol families in row order: each has its own client columns."""
        return list(dict.fromkeys(s.get("protocol", "http") for s in self.scenarios))

    def columns(self, protocol: str) -> list[dict[str, Any]]:
        """The clients that have a cell in rows of this protocol, in column order."""
        rows = {s["id"] for s in self.scenarios if s.get("protocol", "http") == protocol}
        present = {client for scenario, client in self._index() if scenario in rows}
        return [c for c in self.clients if c["id"] in present]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "run": self.run,
            "clients": self.clients,
            "scenarios": self.scenarios,
            "cells": [c.to_json() for c in sorted(self.cells, key=lambda c: c.key)],
            **({"absent": self.absent} if self.absent else {}),
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "matrix") -> Matrix:
        if not isinstance(data, dict) or "cells" not in data or "scenarios" not in data:
            raise MatrixFileError(f"{source} is not a clientmatrix matrix (no 'cells' and 'scenarios')")
        if data.get("schema") != SCHEMA_VERSION:
            raise MatrixFileError(
                f"{source} has schema version {data.get('schema')!r}; this clientmatrix reads "
                f"version {SCHEMA_VERSION}"
            )
        found = problems(data)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise MatrixFileError(f"{source} is not a complete matrix: {found[0]}{more}")
        try:
            return cls(
                run=data.get("run", {}),
                clients=list(data["clients"]),
                scenarios=list(data["scenarios"]),
                cells=[Cell.from_json(c) for c in data["cells"]],
                absent=absent_of(data.get("absent")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MatrixFileError(f"{source} has a malformed cell: {exc!r}") from exc

    @classmethod
    def read(cls, path: Path) -> Matrix:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise MatrixFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise MatrixFileError(f"{path} is not JSON: {exc}") from exc
        return cls.from_json(data, str(path))


def differs(cell: Cell) -> bool:
    """Does the cell differ from its recorded expectation? Its test failed, or it passed
    although it differs: a column not held to the expectations (``requests@2.31.0``, another
    version shown against the pinned one's cells) or a run that updated them."""
    if cell.outcome == "failed":
        return True
    exp = cell.expected
    return cell.outcome == "passed" and exp is not None and not exp.accepts(cell.verdict, cell.summary)


def absent_of(data: Any) -> dict[str, dict[str, str]]:
    """A matrix file's ``absent`` (family -> client -> why), keeping only well-formed entries."""
    if not isinstance(data, dict):
        return {}
    return {str(fam): {str(c): str(why) for c, why in clients.items()}
            for fam, clients in data.items() if isinstance(clients, dict)}


def glyph(cell: Cell | None) -> str:
    if cell is None:
        return " "
    return GLYPHS[cell.verdict] + (DIFFERS if differs(cell) else "") + (INTERMITTENT if cell.intermittent else "")


def variants_text(cell: Cell) -> str:
    """An intermittent cell's outcomes and their counts, for a report line."""
    return "; ".join(f"{v.verdict} x{v.count}: {v.summary}" for v in cell.variants)


def counts_line(matrix: Matrix) -> str:
    counts = matrix.counts()
    return ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])


def run_line(matrix: Matrix) -> str:
    """One sentence on where the cells come from: the run, or the runs merged."""
    run, total = matrix.run, f"{len(matrix.cells)} cells ({counts_line(matrix)})"
    if run.get("merged"):
        line = f"Merged from {len(run['merged'])} runs (Python {run.get('python', '?')}): {total}."
    else:
        line = (f"Run {run.get('started', '?')} on Python {run.get('python', '?')} ({run.get('platform', '?')}): "
                f"{total} in {run.get('duration_s', '?')} s.")
    if run.get("complete", True) is False:
        missing = len(run.get("not_run") or [])
        line += (f" INCOMPLETE: {run.get('incomplete_reason') or 'stopped early'}; "
                 f"{missing} selected cell{'' if missing == 1 else 's'} did not run.")
    return line


def legend() -> list[str]:
    lines = [f"{GLYPHS[v]}  {MEANING[v]}" for v in VERDICTS]
    lines.append(f"{DIFFERS}  after a glyph: the cell differs from its recorded expectation (the test failed; or, "
                 "in another version's column such as requests@2.31.0, what changed from the pinned version)")
    lines.append(f"{INTERMITTENT}  after a glyph: intermittent, the cell varied over --repeat runs")
    return lines


def md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(matrix: Matrix) -> str:
    """The matrix as Markdown: a table per group, then each row's behaviours."""
    out = ["# clientmatrix", ""]
    if matrix.run:
        out += [run_line(matrix), ""]
    out += ["Clients:", ""]
    for c in matrix.clients:
        out.append(f"- `{c['id']}`: {c['library']} {c['version']}" + (f" ({c['mode']})" if c.get("mode") else ""))
    for family, clients in matrix.absent.items():
        out += ["", f"Not columns of the {family} rows (unsupported, said once):", ""]
        out += [f"- `{c}`: {md_escape(why)}" for c, why in clients.items()]
    out += ["", "Legend: " + "; ".join(f"{GLYPHS[v]} {v}" for v in VERDICTS)
            + f"; {DIFFERS} differs from expectation; {INTERMITTENT} intermittent", ""]
    missing = matrix.run.get("not_run") or []
    if missing:
        out += ["## Cells selected but not run", ""]
        out += [f"- `{m.get('scenario')}` with `{m.get('client')}`" for m in missing] + [""]
    out += score_markdown(matrix)
    index = matrix._index()
    for security in (True, False):
        groups = _grouped(matrix, security)
        if security and groups:
            out += ["## Security rows", ""]
        elif not security:
            out += ["## All rows by group", ""] if any(_grouped(matrix, True).values()) else []
        for group, rows in groups.items():
            protocol = rows[0].get("protocol", "http")
            cols = matrix.columns(protocol)
            out += [f"### {group}", ""]
            out.append("| scenario | level | " + " | ".join(f"`{c['id']}`" for c in cols) + " |")
            out.append("| --- | --- | " + " | ".join("---" for _ in cols) + " |")
            for s in rows:
                cells = [glyph(index.get((s["id"], c["id"]))) for c in cols]
                out.append(f"| `{s['id']}` | {s['level']} | " + " | ".join(cells) + " |")
            out.append("")
    out += ["## Behaviours", ""]
    for s in matrix.scenarios:
        out.append(f'<a id="{slug("row-" + s["id"])}"></a>')
        out.append("")
        out.append(f"### `{s['id']}`: {md_escape(s['title'])}")
        out.append("")
        out.append(f"{s['spec']}, {s['level']}{', security' if s.get('security') else ''}.")
        out.append("")
        for c in matrix.clients:
            cell = index.get((s["id"], c["id"]))
            if cell is not None:
                out.append(f"- `{c['id']}` {glyph(cell)} {cell.verdict}: {md_escape(cell.summary)}"
                           + (f" (intermittent: {md_escape(variants_text(cell))})" if cell.intermittent else ""))
        out.append("")
    return "\n".join(out)


def slug(text: str) -> str:
    """An anchor name made of letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]", "-", text)


def score_markdown(matrix: Matrix) -> list[str]:
    """The scorecard: a table of counts per client, each linking to its list of rows."""
    from matrix.scorecard import CATEGORIES, scorecard

    cards = scorecard(matrix)
    if not cards:
        return []
    out = ["## Scorecard", "", "Rows per client: " + "; ".join(f"**{label}**: {what}" for _, label, what in CATEGORIES)
           + ".", "", "| client | " + " | ".join(label for _, label, _ in CATEGORIES) + " | cells |",
           "| --- | " + " | ".join("---:" for _ in CATEGORIES) + " | ---: |"]
    lists: list[str] = []
    for card in cards:
        counts = []
        for key, label, _ in CATEGORIES:
            rows = card[key]
            if not rows:
                counts.append("0")
                continue
            anchor = slug(f"score-{card['client']}-{key}")
            counts.append(f"[{len(rows)}](#{anchor})")
            lists.append(f'<a id="{anchor}"></a>`{md_escape(card["client"])}`, {label}: '
                         + ", ".join(f"[`{md_escape(r)}`](#{slug('row-' + r)})" for r in rows))
            lists.append("")
        out.append(f"| `{md_escape(card['client'])}` | " + " | ".join(counts) + f" | {card['cells']} |")
    return out + [""] + lists


def fitted(matrix: Matrix, max_bytes: int) -> str:
    """The Markdown report cut to ``max_bytes`` (UTF-8): whole when it fits, else the tables
    without the per-cell behaviours, else the verdict counts per client."""
    full = markdown(matrix)
    if len(full.encode()) <= max_bytes:
        return full
    note = f"\n\n_The full report is larger than {max_bytes} bytes: see matrix.md or matrix.html._\n"
    tables = full.split("\n## Behaviours", 1)[0].rstrip() + note
    if len(tables.encode()) <= max_bytes:
        return tables
    out = ["# clientmatrix", "", run_line(matrix), "", "| client | " + " | ".join(VERDICTS) + " |",
           "| --- | " + " | ".join("---" for _ in VERDICTS) + " |"]
    for c in matrix.clients:
        counts = Counter(cell.verdict for cell in matrix.cells if cell.client == c["id"])
        out.append(f"| `{c['id']}` {c['version']} | " + " | ".join(str(counts[v]) for v in VERDICTS) + " |")
    return "\n".join(out) + note


def _grouped(matrix: Matrix, security: bool) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in matrix.scenarios:
        if security and not s.get("security"):
            continue
        out.setdefault(s["group"], []).append(s)
    return out
