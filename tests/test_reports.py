"""The report writers on real cells: JSON, Markdown and HTML round trip, reproducers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matrix import reproduce
from matrix.consensus import consensus
from matrix.files import write
from matrix.html import page_data
from matrix.report import Matrix, markdown
from model.cell import Cell

pytestmark = pytest.mark.selftest


def html_data(text: str) -> dict:
    m = re.search(r'<script type="application/json" id="matrix-data">(.*?)</script>', text, re.S)
    assert m, "the page holds its data as JSON"
    return json.loads(m.group(1).replace("<\\/", "</"))


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


def test_page_data_cells_carry_reproducer_and_command(real_matrix: Matrix) -> None:
    data = page_data(real_matrix)
    row = next(r for r in data["rows"] if r["id"] == "status.103-early-hints")
    cell = row["cells"]["requests"]
    assert cell["p"] == "pytest 'suites/test_status.py::test_scenario[status.103-early-hints-requests]'"
    assert "import requests" in cell["r"] and cell["x"]["sent"][0]["method"] == "GET"


def test_every_snippet_compiles(real_matrix: Matrix) -> None:
    rows = {s["id"]: s for s in real_matrix.scenarios}
    for cell in real_matrix.cells:
        code = reproduce.snippet(rows[cell.scenario], cell.client, cell.to_json())
        compile(code, f"{cell.scenario}-{cell.client}", "exec")
    for client in reproduce.TEMPLATES:  # the WebSocket templates too
        compile(reproduce.snippet({"id": "ws.x", "protocol": "ws"}, client), client, "exec")


def test_consensus_and_odd_ones() -> None:
    def c(client: str, verdict: str, summary: str) -> Cell:
        return Cell("s", client, verdict, summary)  # type: ignore[arg-type]

    got = consensus([c("a", "pass", "x"), c("b", "pass", "x"), c("d", "fail", "y"), c("e", "unsupported", "no")])
    assert (got.verdict, got.count, got.of, got.odd) == ("pass", 2, 3, ("d",))
    assert got.disagree
    tie = consensus([c("a", "pass", "x"), c("b", "fail", "y")])
    assert tie.verdict is None and tie.odd == () and tie.disagree
    details = consensus([c("a", "pass", "x"), c("b", "pass", "y"), c("d", "fail", "z")])
    assert (details.verdict, details.summary, details.count, details.odd) == (
        "pass", "same verdict, details differ", 2, ("d",))
    same = consensus([c("a", "pass", "x"), c("b", "pass", "x")])
    assert not same.disagree and same.odd == ()
