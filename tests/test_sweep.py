"""The version sweep's logic without installing anything: specs, client mapping, pins,
environment reuse, pytest's exit statuses and the per-scenario summary. (The real sweep is
run by hand: see the README.)"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from matrix import sweep
from matrix.merge import merge
from matrix.report import Matrix

pytestmark = pytest.mark.selftest


def test_parse() -> None:
    assert sweep.parse("requests==2.31.0") == sweep.Spec("requests", "2.31.0")
    assert sweep.parse(" httpx == 0.27.2 ").text == "httpx==0.27.2"
    for bad in ("requests", "requests>=2", "==1.0", "requests==", "a==1;rm -rf"):
        with pytest.raises(sweep.SweepError, match="package==version"):
            sweep.parse(bad)


def test_clients_for_package() -> None:
    assert sweep.clients_for("requests") == ["requests"]
    # The h2 columns are the same library with HTTP/2 on: a sweep of httpx runs them too.
    assert sweep.clients_for("HTTPX") == ["httpx", "httpx-async", "httpx-h2", "httpx-async-h2"]
    assert sweep.clients_for("h11") == []


def test_pinned_rest_leaves_out_the_swept_and_selftest_packages() -> None:
    text = (sweep.ROOT / "requirements.txt").read_text()
    rest = sweep.pinned_rest(text, "Requests")
    assert not any(line.lower().startswith(("requests==", "playwright", "pyyaml")) for line in rest)
    assert "urllib3==" in "\n".join(rest) and any(";" in line for line in rest)


class FakeRun:
    """Stands in for subprocess.run: records commands, makes what they would make."""

    def __init__(self, pytest_status: int = 1) -> None:
        self.calls: list[list[str]] = []
        self.pytest_status = pytest_status

    def __call__(self, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            python = sweep.env_python(Path(cmd[-1]))
            python.parent.mkdir(parents=True, exist_ok=True)
            python.write_text("")
        if "pytest" in cmd:
            out = Path(cmd[cmd.index("--matrix-dir") + 1])
            (out / "matrix.json").write_text(json.dumps({"schema": 1, "cells": [], "scenarios": [], "clients": []}))
            return subprocess.CompletedProcess(cmd, self.pytest_status, "", "")
        return subprocess.CompletedProcess(cmd, 0, "3.11\n", "")


def test_environment_is_made_once_then_reused(tmp_path: Path) -> None:
    run = FakeRun()
    spec = sweep.parse("requests==2.31.0")
    env, reused = sweep.ensure_env(spec, ["urllib3==2.8.0"], python="python3", pyver="3.11", root=tmp_path, run=run)
    assert not reused and env == tmp_path / "envs" / "requests-2.31.0-py3.11"
    assert [c[1:3] for c in run.calls] == [["-m", "venv"], ["-m", "pip"]]
    assert (env / "requirements-sweep.txt").read_text().split() == ["urllib3==2.8.0", "requests==2.31.0"]
    run.calls.clear()
    assert sweep.ensure_env(spec, ["urllib3==2.8.0"], python="python3", pyver="3.11", root=tmp_path, run=run)[1]
    assert run.calls == []
    # other pins: made anew
    assert not sweep.ensure_env(spec, ["urllib3==2.7.0"], python="python3", pyver="3.11", root=tmp_path, run=run)[1]


def test_pip_failure_is_a_clear_error(tmp_path: Path) -> None:
    def failing(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if "pip" in cmd:
            return subprocess.CompletedProcess(cmd, 1, "", "ERROR: ResolutionImpossible: conflict on urllib3")
        return FakeRun()(cmd, **kwargs)

    with pytest.raises(sweep.SweepError, match="ResolutionImpossible"):
        sweep.ensure_env(sweep.parse("requests==2.28.2"), [], python="python3", pyver="3.11", root=tmp_path,
                         run=failing)


@pytest.mark.parametrize("status, ok", [(0, True), (1, True), (2, False), (4, False)])
def test_pytest_exit_statuses(tmp_path: Path, status: int, ok: bool) -> None:
    run = FakeRun(pytest_status=status)
    if ok:
        assert sweep.run_suite(tmp_path / "env", ["requests"], tmp_path / "out", run=run).exists()
    else:
        with pytest.raises(sweep.SweepError, match=f"exited {status}"):
            sweep.run_suite(tmp_path / "env", ["requests"], tmp_path / "out", run=run)
    cmd = run.calls[0]
    assert cmd[1:4] == ["-m", "pytest", "suites"] and cmd[cmd.index("--clients") + 1] == "requests"


def test_changes_between_versions(real_matrix: Matrix) -> None:
    other = copy.deepcopy(real_matrix.to_json())
    for c in other["clients"]:
        if c["id"] == "requests":
            c["version"] = "0.0.1"
    for cell in other["cells"]:
        if (cell["scenario"], cell["client"]) == ("status.200", "requests"):
            cell["verdict"], cell["summary"] = "fail", "got 500"
    merged = merge([Matrix.from_json(other), real_matrix], ["old", "new"])
    lines = sweep.changes_between_versions(merged)
    assert lines[0] == "status.200 (requests):"
    assert lines[1].split() == ["0.0.1", "fail:", "got", "500"]
    assert len(lines) == 3
