"""The report writers on real cells: JSON, Markdown and HTML round trip, reproducers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matrix import reproduce
from matrix.consensus import consensus
from matrix.files import write
from matrix.html import script_json, unpacked
from matrix.report import Matrix, markdown
from model.cell import Cell

pytestmark = pytest.mark.selftest


def html_data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', text, re.S)
    assert m, "the page holds its data as JSON"
    assert not re.search("[<>&\u2028\u2029]", m.group(1)), "nothing in the data block can end it or open a comment"
    return json.loads(m.group(1))


def html_details(text: str) -> dict:
    m = re.search(r'<script type="application/octet-stream" id="matrix-details"[^>]*>([A-Za-z0-9+/=]*)</script>', text)
    assert m, "the page holds its cells' details as gzip'd JSON in base64"
    return unpacked(m.group(1))


def test_write_round_trip(real_matrix: Matrix, tmp_path: Path) -> None:
    paths = write(real_matrix, tmp_path)
    assert [p.name for p in paths] == ["matrix.json", "matrix.md", "matrix.html"]
    back = Matrix.read(tmp_path / "matrix.json")
    assert back.to_json() == real_matrix.to_json()
    assert (tmp_path / "matrix.md").read_text() == markdown(back) + "\n"
    data = html_data((tmp_path / "matrix.html").read_text())
    assert sum(len(r["cells"]) for r in data["rows"]) == len(real_matrix.cells)
    assert [r["id"] for r in data["rows"]] == [s["id"] for s in real_matrix.scenarios]


def test_html_is_self_contained(real_matrix: Matrix) -> None:
    from matrix.html import page

    text = page(real_matrix)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', text), "no external resources"
    assert "@import" not in text and "url(http" not in text


def test_markdown_has_security_section(real_matrix: Matrix) -> None:
    text = markdown(real_matrix)
    secure = [s["id"] for s in real_matrix.scenarios if s.get("security")]
    assert secure, "the self-test matrix has a security row"
    section = text.split("## Security rows", 1)[1].split("## All rows by group", 1)[0]
    assert all(f"`{sid}`" in section for sid in secure)


def test_page_details_carry_the_observation_and_the_reproducer(real_matrix: Matrix) -> None:
    from matrix.html import page

    text = page(real_matrix)
    details = html_details(text)
    cell = details["cells"]["status.103-early-hints"]["requests"]
    assert cell["x"]["sent"][0]["method"] == "GET"
    host = [details["pairs"][i] for i in cell["x"]["sent"][0]["headers"]][0]
    assert host[0] == "Host"
    body = "\n".join(details["lines"][i] for i in cell["r"])
    assert "import requests" in body
    row = next(r for r in html_data(text)["rows"] if r["id"] == "status.103-early-hints")
    assert row["response"][0]["steps"][0]["send"].startswith("HTTP/1.1 103 Early Hints\\r\\n")
    assert row["links"] == [["RFC 8297 §2", "https://www.rfc-editor.org/rfc/rfc8297.html#section-2"]]


def test_script_json_is_valid_json_that_cannot_leave_its_element() -> None:
    hostile = {"a": "</script><!--<script>alert(1)</script>&amp;\u2028\u2029", "<b>": ["-->", "<!-- x"]}
    text = script_json(hostile)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == hostile


def test_the_page_stays_small_as_the_matrix_grows(real_matrix: Matrix) -> None:
    """4,000+ cells, each observation made unique (copies would compress to nothing): < 2.5 MB."""
    from matrix.html import page

    base = real_matrix.to_json()
    rows, clients, cells = [], [], []
    copies_r = 8
    copies_c = -(-4100 // (len(base["cells"]) * copies_r))
    for j in range(copies_c):
        for c in base["clients"]:
            clients.append({**c, "id": f"{c['id']}~{j}"})
    for i in range(copies_r):
        for s in base["scenarios"]:
            rows.append({**s, "id": f"{s['id']}~{i}"})
        for j in range(copies_c):
            for c in base["cells"]:
                text = json.dumps(c).replace("127.0.0.1:", f"127.0.{i}.{j}:")
                one = json.loads(text)
                one.update(scenario=f"{c['scenario']}~{i}", client=f"{c['client']}~{j}")
                cells.append(one)
    big = Matrix.from_json({**base, "clients": clients, "scenarios": rows, "cells": cells})
    assert len(big.cells) >= 4000
    size = len(page(big).encode())
    print(f"{len(big.cells)} cells: {size} bytes")
    assert size < 2_500_000, size


def test_every_snippet_compiles(real_matrix: Matrix) -> None:
    rows = {s["id"]: s for s in real_matrix.scenarios}
    for cell in real_matrix.cells:
        code = reproduce.snippet(rows[cell.scenario], cell.client, cell.to_json())
        compile(code, f"{cell.scenario}-{cell.client}", "exec")
    for client in reproduce.TEMPLATES:  # the WebSocket templates too
        compile(reproduce.snippet({"id": "ws.x", "protocol": "ws"}, client), client, "exec")


def test_a_line_break_in_data_stays_in_a_comment() -> None:
    row = {"id": "x.y\nimport os", "title": "t\rprint('pwned')\u2028os.system('x')", "module": "suites/test_x.py",
           "request": {"method": "GET", "path": "/"}}
    code = reproduce.snippet(row, "requests\nimport sys")
    for line in code.splitlines():
        assert line.startswith("#") or not any(w in line for w in ("pwned", "os.system", "import os", "import sys")), line
    compile(code, "hostile", "exec")


def c(client: str, verdict: str, summary: str) -> Cell:
    return Cell("s", client, verdict, summary)  # type: ignore[arg-type]


def test_info_rows_take_the_majority() -> None:
    got = consensus([c("a", "info", "x"), c("b", "info", "x"), c("d", "info", "y"), c("e", "unsupported", "no")])
    assert (got.kind, got.verdict, got.summary, got.count, got.of, got.odd) == ("majority", "info", "x", 2, 3, ("d",))
    assert got.differs and not got.disagree
    tie = consensus([c("a", "info", "x"), c("b", "info", "y")])
    assert tie.verdict is None and tie.odd == () and tie.differs
    same = consensus([c("a", "info", "x"), c("b", "info", "x")])
    assert not same.differs and same.odd == ()


@pytest.mark.parametrize("level", ["MUST", "SHOULD"])
def test_graded_rows_take_the_spec_and_never_single_out_a_column_that_meets_it(level: str) -> None:
    """framing.cl-invalid: the few clients that refuse, as the RFC wants, are not the odd ones out."""
    bad = "fail" if level == "MUST" else "warn"
    cells = [c("a", "pass", "refused"), c("b", bad, "read to close"), c("d", bad, "read to close"),
             c("e", bad, "read to close"), c("f", "pass", "refused early"), c("g", "pass", "refused"),
             c("h", "timeout", "hung"), c("i", "unsupported", "no")]
    got = consensus(cells, level)
    assert (got.kind, got.verdict, got.summary, got.count, got.of) == ("spec", "pass", "refused", 3, 7)
    assert got.odd == ("b", "d", "e", "h") and got.detail == ("f",)
    assert got.disagree and got.differs
    everyone = consensus([c("a", "pass", "x"), c("b", "pass", "x")], level)
    assert everyone.odd == () and everyone.detail == () and not everyone.differs
    nobody = consensus([c("a", bad, "x"), c("b", bad, "x")], level)
    assert nobody.odd == ("a", "b") and nobody.count == 0 and not nobody.disagree
