"""merge, diff and the CLI's exit statuses, on real cells."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from matrix.__main__ import main
from matrix.files import write
from matrix.report import Matrix
from model.cell import SCHEMA_VERSION

pytestmark = pytest.mark.selftest


def saved(matrix: Matrix, folder: Path) -> Path:
    write(matrix, folder)
    return folder / "matrix.json"


def as_other_version(matrix: Matrix, client: str, version: str) -> Matrix:
    """The same real cells, labelled as a run of another version of one client."""
    other = Matrix.from_json(copy.deepcopy(matrix.to_json()))
    for c in other.clients:
        if c["id"] == client:
            c["version"] = version
    return other


def test_merge_gives_a_column_per_version(real_matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = saved(real_matrix, tmp_path / "a")
    b = saved(as_other_version(real_matrix, "requests", "2.0.0"), tmp_path / "b")
    assert main(["merge", str(a), str(b), "-o", str(tmp_path / "m" / "merged.json")]) == 0
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {"merged.json", "merged.md", "merged.html"}
    merged = Matrix.read(tmp_path / "m" / "merged.json")
    ids = [c["id"] for c in merged.clients]
    assert ids == ["socket", "urllib", "requests@2.0.0", f"requests@{real_matrix.clients[2]['version']}", "httpx"]
    assert all(c["base"] for c in merged.clients)
    assert len(merged.cells) == len(real_matrix.cells) + len(real_matrix.scenarios)
    assert len(merged.run["merged"]) == 2
    assert main(["show", str(tmp_path / "m" / "merged.json")]) == 0
    assert "req1" in capsys.readouterr().out


def test_merge_adds_python_where_it_differs(real_matrix: Matrix) -> None:
    from matrix.merge import merge

    other = Matrix.from_json(copy.deepcopy(real_matrix.to_json()))
    other.run["python"] = "3.10.99"
    merged = merge([real_matrix, other], ["a", "b"])
    ids = {c["id"] for c in merged.clients}
    assert "socket/py3.10.99" in ids and "requests/py3.10.99" in ids


def regressed_copy(matrix: Matrix, scenario: str, client: str) -> Matrix:
    data = copy.deepcopy(matrix.to_json())
    for cell in data["cells"]:
        if (cell["scenario"], cell["client"]) == (scenario, client):
            assert cell["verdict"] == "pass"
            cell["verdict"], cell["summary"] = "fail", "got 500"
    return Matrix.from_json(data)


def test_diff_exit_status(real_matrix: Matrix, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = saved(real_matrix, tmp_path / "old")
    assert main(["diff", str(old), str(old)]) == 0
    assert "no cell changed" in capsys.readouterr().out
    new = saved(regressed_copy(real_matrix, "status.200", "httpx"), tmp_path / "new")
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "regressed" in out and "status.200" in out and "got 500" in out
    assert main(["diff", str(new), str(old), "--format", "json"]) == 0  # fail -> pass: improved
    data = json.loads(capsys.readouterr().out)
    assert data["regressed"] == 0 and data["changes"][0]["kind"] == "improved"


@pytest.mark.parametrize("content, words", [
    (None, "cannot read"),
    ("not json", "is not JSON"),
    ('{"hello": 1}', "is not a clientmatrix matrix"),
    (json.dumps({"schema": SCHEMA_VERSION + 1, "cells": [], "scenarios": []}), "schema version"),
])
@pytest.mark.parametrize("command", ["show", "markdown", "html", "diff", "merge"])
def test_bad_input_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, content: str | None,
                          words: str) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    args = {"diff": [str(bad), str(bad)], "merge": [str(bad), "-o", str(tmp_path / "m.json")]}.get(command, [str(bad)])
    assert main([command, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
