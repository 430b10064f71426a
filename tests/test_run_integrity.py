"""A run CI can trust: no cell lost, an interrupted run says so, reports replaced together.

The faults are real: a plugin loaded into the run under test (``-p faults``) kills an xdist
worker with SIGKILL in the middle of a cell, or sends the run SIGINT (Ctrl-C) or SIGTERM,
and the run is a real ``pytest`` subprocess on a few real cells. The run's temporary folder
is pointed at a folder of the test (TMPDIR), so what the run leaves behind is seen.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from matrix.__main__ import main
from matrix.files import write
from matrix.report import Matrix

pytestmark = pytest.mark.selftest

ROOT = Path(__file__).resolve().parent.parent
ROWS = ["suites/test_status.py", "-k", "status.200 or status.404", "--clients=socket,requests,httpx"]
FAULTS = '''
import os, shutil, signal, time
from pathlib import Path

import pytest

# Ctrl-C as in a terminal: a run started in the background of a script (nohup, `&`) inherits
# SIGINT ignored, and Python then never raises KeyboardInterrupt for it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    if os.environ["FAULT"] == "unwritable" and not hasattr(session.config, "workerinput"):
        reports = Path(os.environ["REPORTS"])  # the report folder becomes a file: nothing can go in it
        shutil.rmtree(reports, ignore_errors=True)  # made at the end of the run, if not there before
        reports.write_text("not a folder")


def pytest_runtest_call(item):
    fault = os.environ["FAULT"]
    if os.environ["FAULT_AT"] not in item.nodeid or fault == "unwritable":
        return
    if fault == "controller-sigterm":  # an xdist worker signals its controller (a CI cancelling the job)
        os.kill(os.getppid(), signal.SIGTERM)
        time.sleep(2)
    else:
        os.kill(os.getpid(), {"sigkill": signal.SIGKILL, "sigint": signal.SIGINT, "sigterm": signal.SIGTERM}[fault])
'''
VICTIM = ("status.404", "requests")


def faulty_run(tmp_path: Path, fault: str, workers: int, out: Path) -> subprocess.CompletedProcess[str]:
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "faults.py").write_text(FAULTS)
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(plugins), "FAULT": fault, "FAULT_AT": f"[{VICTIM[0]}-{VICTIM[1]}]",
           "TMPDIR": str(temp), "REPORTS": str(out)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "faults", "-p", "no:cacheprovider", "-q", "-n", str(workers),
         *ROWS, f"--matrix-dir={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )


def leftovers(tmp_path: Path) -> list[str]:
    """What the run left in its temporary folder (pytest-xdist's own base folder aside)."""
    return [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("clientmatrix")]


def read(out: Path) -> dict[str, object]:
    data = json.loads((out / "matrix.json").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.cost(2)
def test_a_worker_killed_mid_cell_leaves_its_cell_as_error_in_every_report(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    r = faulty_run(tmp_path, "sigkill", 2, out)
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-2000:]
    data = read(out)
    cells = {(c["scenario"], c["client"]): c for c in data["cells"]}  # type: ignore[attr-defined]
    assert len(cells) == 6, "every selected cell is in the report"
    lost = cells[VICTIM]
    assert lost["verdict"] == "error" and "worker crashed" in lost["summary"]
    assert data["run"]["complete"] is True  # type: ignore[index]
    assert "worker crashed" in (out / "matrix.md").read_text()
    assert "worker crashed" in (out / "matrix.html").read_text()
    # diff sees it: the same run with that cell passing, then this one
    before = json.loads((out / "matrix.json").read_text())
    for c in before["cells"]:
        if (c["scenario"], c["client"]) == VICTIM:
            c["verdict"], c["summary"] = "pass", "got 404"
    (tmp_path / "before.json").write_text(json.dumps(before))
    assert main(["diff", str(tmp_path / "before.json"), str(out / "matrix.json")]) == 1
    assert "regressed" in capsys.readouterr().out
    assert not leftovers(tmp_path), "the run's private folder (certificates, keys) is removed"


@pytest.mark.cost(1.2)
@pytest.mark.parametrize("fault, workers, reason", [
    ("sigint", 0, "interrupted (Ctrl-C)"),
    ("sigterm", 0, "terminated (SIGTERM)"),
    pytest.param("controller-sigterm", 2, "terminated (SIGTERM)", marks=pytest.mark.cost(3.5)),  # sleeps 2 s
])
def test_an_interrupted_run_writes_reports_marked_incomplete(tmp_path: Path, fault: str, workers: int,
                                                             reason: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "matrix.json").write_text("an old complete report")
    r = faulty_run(tmp_path, fault, workers, out)
    assert r.returncode == 2, r.stdout[-3000:] + r.stderr[-2000:]
    data = read(out)
    run = data["run"]
    assert isinstance(run, dict)
    assert run["complete"] is False and run["incomplete_reason"] == reason
    not_run = {(m["scenario"], m["client"]) for m in run["not_run"]}
    assert VICTIM in not_run, "the cell in flight did not run"
    assert not_run.isdisjoint((c["scenario"], c["client"]) for c in data["cells"])  # type: ignore[attr-defined]
    assert len(not_run) + len(data["cells"]) == 6  # type: ignore[arg-type]
    assert "INCOMPLETE RUN: " + reason in r.stdout
    assert "INCOMPLETE" in (out / "matrix.md").read_text() and "INCOMPLETE" in (out / "matrix.html").read_text()
    assert main(["diff", str(out / "matrix.json"), str(out / "matrix.json")]) == 1, "diff fails an incomplete run"
    assert not leftovers(tmp_path)


@pytest.mark.cost(1)
def test_reports_that_cannot_be_written_fail_the_run_and_lose_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = faulty_run(tmp_path, "unwritable", 0, out)
    assert r.returncode == 3, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"the reports could not be written to {out}" in r.stdout
    fallback = [p for p in (tmp_path / "tmp").iterdir() if p.name.startswith("clientmatrix-reports-")]
    assert len(fallback) == 1 and len(read(fallback[0])["cells"]) == 6  # type: ignore[arg-type]
    assert f"written: {fallback[0]}" in r.stdout


class Refused:
    """mkstemp that fails on its n-th call, as a full disk would (ENOSPC), or with Ctrl-C."""

    def __init__(self, real: Any, n: int, exc: BaseException) -> None:
        self.real, self.n, self.exc, self.calls = real, n, exc, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.n:
            raise self.exc
        return self.real(*args, **kwargs)


@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_the_three_reports_are_replaced_all_or_none(real_matrix: Matrix, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   n: int, exc: BaseException) -> None:
    import matrix.files

    old = {name: f"old {name}" for name in ("matrix.json", "matrix.md", "matrix.html")}
    for name, text in old.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(matrix.files.tempfile, "mkstemp", Refused(tempfile.mkstemp, n, exc))
    with pytest.raises(matrix.files.ReportsNotWritten if isinstance(exc, OSError) else KeyboardInterrupt):
        write(real_matrix, tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == old, "old reports untouched, no temporary left"
    monkeypatch.undo()
    write(real_matrix, tmp_path)
    assert len(Matrix.read(tmp_path / "matrix.json").cells) == len(real_matrix.cells)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.html", "matrix.json", "matrix.md"]


def test_matrix_json_is_one_cell_per_line_and_reads_back(real_matrix: Matrix, tmp_path: Path) -> None:
    write(real_matrix, tmp_path)
    text = (tmp_path / "matrix.json").read_text()
    assert json.loads(text) == json.loads(json.dumps(real_matrix.to_json()))
    cell_lines = [line for line in text.splitlines() if line.startswith('  {"scenario"')]
    assert len(cell_lines) == len(real_matrix.cells)


@pytest.mark.cost(1.1)
def test_repeat_runs_each_cell_n_times_and_records_the_variants(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0", "suites/test_status.py",
         "-k", "status.200 or status.404", "--clients=requests", "--repeat=3", f"--matrix-dir={out}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:]
    data = read(out)
    assert data["run"]["repeat"] == 3  # type: ignore[index]
    for cell in data["cells"]:  # type: ignore[attr-defined]
        assert cell["variants"] == [{"verdict": cell["verdict"], "summary": cell["summary"], "count": 3}]
