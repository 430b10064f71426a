"""The matrix in the terminal: fitted to its width, with or without colour.

    labels(clients)        four-letter column headers, unique (a merged matrix has several
                           versions of one client), explained in the legend
    render(matrix, width, full=False, rows=None)
                           the lines to print: the scorecard, then the rows that fail, warn,
                           time out, differ from their expectation or differ between columns
                           (``full``: every row); ``rows`` narrows them (``select``)
    select(matrix, k, verdict)   the row ids a ``-k`` expression and a verdict keep
    cell_lines(matrix, row, client)   what one cell did, both sides (``show ROW CLIENT``)
    ansi(text, verdict)    a ``paint`` for a colour terminal (``python -m matrix show``)

Each protocol family (http, ws) is its own block of columns, its security rows first
(a "security" section; a security row is printed there only, never again in its
group), then its rows by group. When a family has more clients than fit in ``width``,
its columns wrap into several blocks. Each state has a glyph *and* a colour, so the
table reads on a monochrome terminal or a printout. No line is wider than ``width``
(colour codes aside).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from matrix.consensus import ABSTAIN
from matrix.report import DIFFERS, GLYPHS, MEANING, Matrix, counts_line, glyph
from matrix.scorecard import CATEGORIES, scorecard

COLOURS = {
    "pass": {"green": True},
    "fail": {"red": True, "bold": True},
    "warn": {"yellow": True},
    "info": {"cyan": True},
    "unsupported": {"light": True},
    "timeout": {"purple": True, "bold": True},
    "error": {"red": True, "bold": True},
}
#: Width of one client column, and the least room kept for the scenario ids.
COL = 5
MIN_LABEL = 28
SECURITY = "§"

Paint = Callable[[str, str], str]


def plain(text: str, verdict: str) -> str:
    return text


#: ANSI SGR codes per verdict, for ``ansi``.
SGR = {"pass": "32", "fail": "1;31", "warn": "33", "info": "36", "unsupported": "2", "timeout": "1;35",
       "error": "1;31"}


def ansi(text: str, verdict: str) -> str:
    """``text`` in the verdict's colour (ANSI escape codes)."""
    code = SGR.get(verdict)
    return f"\x1b[{code}m{text}\x1b[0m" if code else text


#: Control characters (C0, DEL, C1): a matrix's strings could move the cursor or retitle a
#: terminal with them, so they are printed as ``\xNN``.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def safe(text: object) -> str:
    """A string from a matrix, inert on a terminal: control characters written ``\\xNN``."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


#: Verdicts that make a row worth printing by default.
NOTABLE = ("fail", "warn", "timeout", "error")


def notable(matrix: Matrix, row: dict[str, Any], cells: list[Any]) -> bool:
    """A row printed by default: a cell fails, warns, times out, errs or differs from its
    expectation, or the columns' verdicts differ."""
    if any(c.verdict in NOTABLE or c.outcome == "failed" for c in cells):
        return True
    return len({c.verdict for c in cells if c.verdict not in ABSTAIN}) > 1


def select(matrix: Matrix, k: str | None = None, verdict: str | None = None,
           clients: list[str] | None = None) -> set[str]:
    """Row ids kept by ``k`` (like pytest's ``-k``: words matched in the id or title, with
    ``and``, ``or``, ``not`` and parentheses) and by ``verdict`` (a cell of a shown client has it)."""
    index = matrix._index()
    out = set()
    for s in matrix.scenarios:
        if k and not keyword_match(k, f"{s['id']} {s.get('title', '')}".lower()):
            continue
        if verdict:
            ids = clients or [c["id"] for c in matrix.clients]
            if not any((cell := index.get((s["id"], c))) is not None and cell.verdict == verdict for c in ids):
                continue
        out.add(s["id"])
    return out


def keyword_match(expr: str, text: str) -> bool:
    """pytest's ``-k`` grammar, small: words (substrings, any case), and/or/not, parentheses."""
    tokens = expr.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom() -> bool:
        tok = peek()
        if tok is None:
            raise ValueError(f"-k {expr!r}: an expression ends too early")
        if tok == "not":
            take()
            return not atom()
        if tok == "(":
            take()
            value = either()
            if peek() != ")":
                raise ValueError(f"-k {expr!r}: a parenthesis is not closed")
            take()
            return value
        return take().lower() in text

    def both() -> bool:
        value = atom()
        while peek() == "and":
            take()
            value = atom() and value
        return value

    def either() -> bool:
        value = both()
        while peek() == "or":
            take()
            value = both() or value
        return value

    result = either()
    if peek() is not None:
        raise ValueError(f"-k {expr!r}: unexpected {peek()!r}")
    return result


def labels(clients: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Client id -> a unique header of at most four characters."""
    clients = list(clients)
    shorts = [safe(c.get("short") or c["id"])[:4] for c in clients]
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for c, short in zip(clients, shorts, strict=True):
        if shorts.count(short) == 1:
            out[c["id"]] = short
            continue
        seen[short] = seen.get(short, 0) + 1
        out[c["id"]] = f"{short[:3]}{'123456789abcdefghijklmnopqrstuvwxyz'[(seen[short] - 1) % 35]}"
    return out


def flow(items: list[tuple[str, str]], width: int, first: str, indent: int) -> list[str]:
    """Items (plain text, painted text) laid out in lines of at most ``width`` visible columns."""
    lines: list[str] = []
    line, seen = first, len(first)
    for text, painted in items:
        if seen > indent and seen + len(text) > width:
            lines.append(line.rstrip())
            line, seen = " " * indent, indent
        line += painted
        seen += len(text)
    lines.append(line.rstrip())
    return lines


def _items(texts: list[str]) -> list[tuple[str, str]]:
    """Comma-separated items for ``flow`` (no colour)."""
    return [(t + ", ",) * 2 for t in texts[:-1]] + [(t, t) for t in texts[-1:]]


def sections(matrix: Matrix, family: str, keep: set[str] | None = None) -> list[tuple[str, list[dict[str, Any]]]]:
    """A family's rows: the security rows first, then the other rows by group (each row once)."""
    rows = [s for s in matrix.scenarios if s.get("protocol", "http") == family and (keep is None or s["id"] in keep)]
    out: list[tuple[str, list[dict[str, Any]]]] = []
    security = [s for s in rows if s.get("security")]
    if security:
        out.append(("security", security))
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in rows:
        if not s.get("security"):
            groups.setdefault(s["group"], []).append(s)
    return out + list(groups.items())


def environments(matrix: Matrix) -> list[str]:
    """Each environment the columns ran in, once: its Python and OpenSSL (issue 8)."""
    seen: dict[str, str] = {}
    for c in matrix.clients:
        e = c.get("environment")
        if isinstance(e, dict) and str(e.get("env")) not in seen:
            seen[str(e.get("env"))] = safe(f"{e.get('env')}=Python {e.get('python_version')}, {e.get('openssl')}")
    return list(seen.values()) if len(seen) > 1 else []


#: The scorecard's column headers in the terminal, per category.
SCORE_HEADS = {"must": "MUST", "should": "SHOULD", "security": "secur", "unsupported": "unsup", "timeout": "tmout"}
SCORE_COLOURS = {"must": "fail", "should": "warn", "security": "fail", "unsupported": "unsupported",
                 "timeout": "timeout"}


def score_lines(matrix: Matrix, width: int, paint: Paint = plain, clients: list[str] | None = None) -> list[str]:
    """The scorecard: a line per client, a column per category (how many rows)."""
    cards = [c for c in scorecard(matrix) if clients is None or c["client"] in clients]
    if not cards:
        return []
    names = labels(matrix.clients)
    cols = len(SCORE_HEADS) * 7 + 7
    name_w = max(min(max(len(safe(c["client"])) for c in cards), width - cols), 4)
    lines = ["scorecard".ljust(name_w) + "".join(h.rjust(7) for h in SCORE_HEADS.values()) + "  cells"]
    for card in cards:
        label = safe(card["client"]) if len(safe(card["client"])) <= name_w else names.get(card["client"], "?")[:name_w]
        line = label.ljust(name_w)
        for key in SCORE_HEADS:
            n = len(card[key])
            line += paint(str(n).rjust(7), SCORE_COLOURS[key]) if n else str(n).rjust(7)
        lines.append(line + str(card["cells"]).rjust(7))
    what = [f"{SCORE_HEADS[key]}: {label}" for key, label, _ in CATEGORIES]
    return lines + flow(_items(what), width, "(rows) ", 7)


def render(matrix: Matrix, width: int = 100, paint: Paint = plain, full: bool = True,
           rows: set[str] | None = None, clients: list[str] | None = None) -> list[str]:
    """The lines to print. ``full``: every row (else the notable ones, after the scorecard);
    ``rows``: only these row ids; ``clients``: only these columns."""
    lines: list[str] = []
    index = matrix._index()
    names = labels(matrix.clients)
    if not full:
        lines += score_lines(matrix, width, paint, clients) + [""]
    hidden = 0
    for family in matrix.families():
        cols = [c for c in matrix.columns(family) if clients is None or c["id"] in clients]
        if not cols:
            continue
        keep = set(rows) if rows is not None else None
        if not full:
            chosen = set()
            for s in matrix.scenarios:
                if s.get("protocol", "http") != family or (keep is not None and s["id"] not in keep):
                    continue
                cells = [cell for c in cols if (cell := index.get((s["id"], c["id"]))) is not None]
                if notable(matrix, s, cells):
                    chosen.add(s["id"])
                else:
                    hidden += 1
            keep = chosen
        parts = sections(matrix, family, keep)
        if not any(r for _, r in parts):
            continue
        longest = max(len(safe(s["id"])) for _, rows_ in parts for s in rows_) + 3
        per_line = max(1, (width - MIN_LABEL) // COL)
        label_w = max(min(longest, width - COL * min(len(cols), per_line)), 12)
        for start in range(0, len(cols), per_line):
            chunk = cols[start:start + per_line]
            title = f"{family.upper()} clients" + (f" ({start + 1}-{start + len(chunk)} of {len(cols)})"
                                                   if len(cols) > per_line else "")
            lines.append(title[:label_w].ljust(label_w) + "".join(names[c["id"]].center(COL) for c in chunk).rstrip())
            for name, rows_ in parts:
                lines.append(safe(name))
                for s in rows_:
                    label = f" {SECURITY if s.get('security') else ' '}{safe(s['id'])}"
                    if len(label) > label_w - 1:
                        label = label[: label_w - 2] + "…"
                    row = label.ljust(label_w)
                    for c in chunk:
                        cell = index.get((s["id"], c["id"]))
                        text = glyph(cell).center(COL)
                        row += paint(text, cell.verdict) if cell else text
                    lines.append(row.rstrip())
            lines.append("")
        for client, why in matrix.absent.get(family, {}).items():
            note = f"- {safe(client)} (not a column: unsupported): {safe(why)}"
            lines.append(note if len(note) <= width else note[:width - 1] + "…")
        if matrix.absent.get(family):
            lines.append("")
    if hidden:
        words = (f"{hidden} more row{'' if hidden == 1 else 's'} where the clients pass alike (or only record): "
                 "the full table with --full-table (pytest) or --full (python -m matrix show)").split(" ")
        lines += flow([(w + " ",) * 2 for w in words], width, "", 0)
    if rows is None and clients is None:
        counts, total = counts_line(matrix).split(", "), len(matrix.cells)
    else:  # the counts of the cells asked for
        picked = Matrix(cells=[c for c in matrix.cells if (rows is None or c.scenario in rows)
                               and (clients is None or c.client in clients)])
        counts, total = counts_line(picked).split(", "), len(picked.cells)
    lines += flow(_items(counts), width, f"{total} cell{'' if total == 1 else 's'}: ", 4)
    shown = [c for c in matrix.clients if clients is None or c["id"] in clients]
    described = [f"{names[c['id']]}={safe(c['id'])}" + ("" if str(c["version"]) in c["id"] else f" {safe(c['version'])}")
                 + (f" [env {safe(str(c['env']))}]" if c.get("env", "default") != "default" and "@" not in c["id"] else "")
                 for c in shown]
    lines += flow(_items(described), width, "clients: ", 9)
    if environments(matrix):
        lines += flow(_items(environments(matrix)), width, "envs:    ", 9)
    marks = [(f"{GLYPHS[v]} {v}   ", paint(f"{GLYPHS[v]} {v}", v) + "   ") for v in MEANING]
    marks += [(f"{DIFFERS} differs from expectation   ",) * 2, (f"{SECURITY} security row",) * 2]
    lines += flow(marks, width, "legend:  ", 9)
    return [line if len(line) <= width or "\x1b" in line else line[:width] for line in lines]


def _headers(items: Any, indent: str = "    ") -> list[str]:
    return [f"{indent}{k}: {v}" for k, v in items or []]


def served_lines(row: dict[str, Any]) -> list[str]:
    """What the server sends for a row (``row["response"]``, matrix.wire), as indented lines."""
    out: list[str] = []
    for answer in row.get("response") or []:
        out.append(f"  to {answer.get('when', '?')}:")
        for step in answer.get("steps") or []:
            for key, value in step.items():
                if key == "send":
                    out += ["    " + line for line in str(value).rstrip("\n").split("\n")]
                elif key == "frame" and isinstance(value, dict):
                    out.append(f"    frame {value.get('opcode')} fin={value.get('fin')} rsv={value.get('rsv')} "
                               f"masked={value.get('masked')} {value.get('len')} bytes"
                               + (f" code {value['close_code']}" if value.get("close_code") is not None else "")
                               + (f" {value['excerpt']!r}" if value.get("excerpt") else ""))
                else:
                    out.append(f"    {key}: {value}")
    return out or ["  (not in this report)"]


def cell_lines(matrix: Matrix, row_id: str, client: str, paint: Paint = plain) -> list[str]:
    """What one cell did, both sides: what the client sent, what the server sent, what the
    library returned or raised, and how to run it again."""
    from matrix.reproduce import pytest_command, serve_command, snippet

    row = next((s for s in matrix.scenarios if s["id"] == row_id), None)
    cell = matrix.cell(row_id, client)
    if row is None or cell is None:
        raise KeyError(row_id if row is None else f"{row_id} has no cell for client {client!r}")
    base = next((c.get("base", c["id"]) for c in matrix.clients if c["id"] == client), client)
    obs = cell.observed or {}
    out = [f"{row_id} x {client}: {row.get('title', '')}",
           f"spec: {row.get('spec', '')}, {row.get('level', '')}" + (", security row" if row.get("security") else ""),
           VERDICT_LINE]
    if cell.expected is not None and (cell.expected.verdict, cell.expected.summary) != (cell.verdict, cell.summary):
        out.append(f"expected: {cell.expected.verdict}: {cell.expected.summary}")
    if obs.get("options"):
        out.append(f"options: {obs['options']}")
    sent = obs.get("sent") or []
    out += ["", f"client sent ({len(sent)} request{'' if len(sent) == 1 else 's'}):"]
    for i, s in enumerate(sent, 1):
        out.append(f"  {i}. {s.get('method')} {s.get('target')} {s.get('version', '')} to {s.get('server', '?')}, "
                   f"framing {s.get('framing')}, body {s.get('body_len')} bytes" +
                   (f", problem: {s['problem']}" if s.get("problem") else ""))
        out += _headers(s.get("headers"))
        if s.get("body_excerpt"):
            out.append(f"    body: {s['body_excerpt']!r}")
        for f in s.get("frames") or []:
            out.append(f"    frame {f.get('opcode')} fin={f.get('fin')} rsv={f.get('rsv')} masked={f.get('masked')} "
                       f"{f.get('len')} bytes" + (f" code {f.get('close_code')}" if f.get("close_code") else ""))
    out += ["", "server sent (the row's script; placeholders are the run's addresses):"] + served_lines(row)
    got, err = obs.get("got"), obs.get("error")
    if got:
        out += ["", f"got: {got.get('status')} {got.get('reason') or ''}" +
                (f" after {' -> '.join(map(str, got['history']))}" if got.get("history") else "") +
                f", body {got.get('body_len')} bytes"]
        out += _headers(got.get("headers"), "  ")
        if got.get("body_text"):
            out.append(f"  body: {got['body_text']!r}")
    if err:
        out += ["", f"raised: {err.get('type')} ({err.get('kind')}): {err.get('message')}"]
    if not got and not err:
        out += ["", "got: nothing (no response, no exception)"]
    out += ["", f"run this cell: {pytest_command(row, base)}", f"serve this row: {serve_command(row)}", "",
            "reproducer:"] + snippet(row, base, cell.to_json()).rstrip("\n").split("\n")
    verdict = "verdict: " + paint(f"{GLYPHS[cell.verdict]} {cell.verdict}", cell.verdict) + f": {safe(cell.summary)}"
    return [verdict if line is VERDICT_LINE else safe(line) for line in out]


#: Where cell_lines puts the (painted) verdict line, once every other line is made inert.
VERDICT_LINE = "\0verdict"
