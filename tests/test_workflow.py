"""The GitHub Actions workflow users copy: it cannot run here, so check what can be checked.

The YAML loads and has the promised shape (Python 3.10 to 3.13 x version sets, a unique
artifact name per job, a merge job after them), and the merge job's shell commands are
run here, as written, on artifacts laid out the way download-artifact lays them out,
with a Python that sees no site-packages (the merge job installs nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matrix.files import write
from matrix.report import Matrix
from tests.conftest import checked_report

yaml = pytest.importorskip("yaml")
pytestmark = pytest.mark.selftest

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "matrix.yml"


def load() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(data, dict)
    return data


def test_shape() -> None:
    data = load()
    assert True in data or "on" in data  # YAML 1.1 reads the key `on` as True
    run, merge = data["jobs"]["run"], data["jobs"]["merge"]
    matrix = run["strategy"]["matrix"]
    assert matrix["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert len(matrix["libs"]) >= 2 and len({lib["name"] for lib in matrix["libs"]}) == len(matrix["libs"])
    upload = next(s for s in run["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert "${{ matrix.python }}" in upload["with"]["name"] and "${{ matrix.libs.name }}" in upload["with"]["name"]
    assert upload["with"]["path"] == "reports/matrix.json"
    assert merge["needs"] == "run" and merge["if"] == "always()"
    scripts = "\n".join(s.get("run", "") for s in run["steps"])
    assert "pip install -r requirements.txt" in scripts and "pytest suites --matrix-dir reports" in scripts


@pytest.mark.cost(0.6)
def test_merge_job_commands_run_here(real_matrix: Matrix, tmp_path: Path) -> None:
    for name in ("matrix-py3.10-pinned", "matrix-py3.13-older"):
        other = Matrix.from_json(real_matrix.to_json())
        other.run["python"] = name.split("-")[1][2:]
        write(other, tmp_path / "runs" / name)
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')  # -S: no site-packages
    (shim / "python").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(summary),
           "PYTHONPATH": str(WORKFLOW.parents[2])}
    step = next(s for s in load()["jobs"]["merge"]["steps"] if s.get("name") == "merge")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", step["run"]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    checked_report(tmp_path / "merged" / "matrix.json")
    merged = Matrix.read(tmp_path / "merged" / "matrix.json")
    assert {c["python"] for c in merged.clients} == {"3.10", "3.13"}
    assert (tmp_path / "merged" / "matrix.html").exists()
    text = summary.read_text()
    assert text.startswith("# clientmatrix") and len(text.encode()) <= 1_000_000
