"""The version sweep's logic without installing anything: specs, the columns they name, the
one pytest run and its exit statuses, and the per-scenario summary. (A real sweep is
benchmarks/sweep.py; two versions as two columns for real: tests/test_columns.py.)"""

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


def test_columns_for_specs() -> None:
    assert sweep.columns_for(["requests==2.31.0", "httpx==0.27.2", "requests==2.31.0"]) == [
        "requests@2.31.0", "httpx@0.27.2", "httpx-async@0.27.2", "httpx-h2@0.27.2", "httpx-async-h2@0.27.2"]
    with pytest.raises(sweep.SweepError, match="no client is built on 'h11'"):
        sweep.columns_for(["h11==0.14.0"])


class FakeRun:
    """Stands in for subprocess.run: records the pytest command, writes what it would write."""

    def __init__(self, pytest_status: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.pytest_status = pytest_status

    def __call__(self, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(cmd)
        out = Path(next(a for a in cmd if a.startswith("--matrix-dir=")).split("=", 1)[1])
        (out / "matrix.json").write_text(json.dumps({"schema": 1, "cells": [], "scenarios": [], "clients": []}))
        return subprocess.CompletedProcess(cmd, self.pytest_status, "clientmatrix: building environment x\n", "")


@pytest.mark.parametrize("status, ok", [(0, True), (1, True), (2, False), (4, False)])
def test_pytest_exit_statuses(tmp_path: Path, status: int, ok: bool) -> None:
    run = FakeRun(pytest_status=status)
    said: list[str] = []
    if ok:
        assert sweep.run_suite(["requests@2.31.0"], tmp_path / "out", run=run, log=said.append).exists()
        assert said == ["clientmatrix: building environment x"]  # the environments' progress is shown
    else:
        with pytest.raises(sweep.SweepError, match=f"exited {status}"):
            sweep.run_suite(["requests@2.31.0"], tmp_path / "out", run=run, log=said.append)
    cmd = run.calls[0]
    assert cmd[1:4] == ["-m", "pytest", "suites"] and "--clients=requests@2.31.0" in cmd  # one run, one matrix


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
