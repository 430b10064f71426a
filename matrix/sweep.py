"""Version sweep: check library versions before adopting one, in one matrix.

    python -m matrix sweep requests==2.31.0 requests==2.32.3 httpx==0.27.2 [-o .sweep/sweep.json]

A thin front of the columns-in-environments machinery (fixtures.envs, fixtures.runner):

    parse(spec)                  the package and version (anything else is a usage error)
    columns_for(specs)           each client built on the package, at that version:
                                 ``requests@2.31.0``, ``httpx@0.27.2``, ``httpx-async@0.27.2``
    run_suite(columns, out)      ONE ``pytest suites --clients <columns>`` run: its controller
                                 builds each missing environment with uv (that version, its
                                 dependencies at requirements.txt's pins, under .envs/, reused
                                 while unchanged), every column's calls run in a runner of
                                 its environment, all in one matrix
then ``changes_between_versions`` prints, per scenario, what changed from version to
version, and the matrix is written as ``sweep.json``, ``.md`` and ``.html``.

A versioned column is shown against the pinned client's expectations but never fails its
test on a difference (that difference is what a sweep is for), so pytest exits 0 unless
something broke; 1 is accepted too, 2 and above is an error. An environment that cannot be
built (an impossible pin, no wheel, offline) makes its columns ``unsupported`` with uv's
reason; the sweep says so and goes on with the rest. Subprocesses go through ``Runner``
so tests can fake them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix.files import write
from matrix.report import Matrix

ROOT = Path(__file__).resolve().parents[1]
SWEEP_DIR = ROOT / ".sweep"
PYTEST_TIMEOUT = 900.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class SweepError(Exception):
    """A sweep cannot go on; the message says why."""


@dataclass(frozen=True)
class Spec:
    package: str
    version: str

    @property
    def text(self) -> str:
        return f"{self.package}=={self.version}"


def normalize(name: str) -> str:
    """PEP 503 name normalisation: ``Foo_Bar`` and ``foo-bar`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> Spec:
    m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*", text)
    if not m:
        raise SweepError(f"{text!r} is not a version spec: write package==version, e.g. requests==2.31.0")
    return Spec(m.group(1), m.group(2))


def clients_for(package: str) -> list[str]:
    """The client ids built on ``package`` (by each adapter's ``library``)."""
    from fixtures import clients as registry

    wanted = normalize(package)
    return [cid for cid in registry.CLIENTS if normalize(registry.load(cid).library) == wanted]


def columns_for(specs: Sequence[str]) -> list[str]:
    """The matrix columns of a sweep: ``<client>@<version>`` for each client of each package."""
    columns: list[str] = []
    for spec in (parse(s) for s in specs):
        ids = clients_for(spec.package)
        if not ids:
            raise SweepError(f"no client is built on {spec.package!r}; swept packages are the clients' libraries")
        columns += [f"{cid}@{spec.version}" for cid in ids]
    return list(dict.fromkeys(columns))


def run_suite(columns: Sequence[str], out: Path, *, python: str = sys.executable, run: Runner = subprocess.run,
              timeout: float = PYTEST_TIMEOUT, log: Callable[[str], None] = print) -> Path:
    """One pytest run of the suites for these columns; the matrix.json it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").unlink(missing_ok=True)
    cmd = [python, "-m", "pytest", "suites", f"--clients={','.join(columns)}", f"--matrix-dir={out}",
           "-q", "-p", "no:cacheprovider"]
    try:
        done = run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SweepError(f"pytest: no result within {timeout:g} s") from None
    text = (done.stdout or "") + (done.stderr or "")
    (out / "pytest.log").write_text(text)
    for line in text.splitlines():
        if line.startswith("clientmatrix: ") and ("environment" in line):
            log(line)
    # 0: done; 1: a pinned cell differed (versioned columns never fail on a difference).
    if done.returncode not in (0, 1) or not (out / "matrix.json").exists():
        raise SweepError(f"pytest exited {done.returncode}; see {out / 'pytest.log'}")
    return out / "matrix.json"


def changes_between_versions(matrix: Matrix) -> list[str]:
    """Per scenario, the clients whose behaviour differs between the versions swept."""
    index = matrix._index()
    columns: dict[str, list[dict[str, Any]]] = {}
    for c in matrix.clients:
        columns.setdefault(c.get("base", c["id"]), []).append(c)
    lines = []
    for s in matrix.scenarios:
        for base, cols in columns.items():
            seen = [(c, index.get((s["id"], c["id"]))) for c in cols]
            behaviours = {(cell.verdict, cell.summary) for _, cell in seen if cell is not None}
            if len(cols) < 2 or len(behaviours) < 2:
                continue
            lines.append(f"{s['id']} ({base}):")
            for c, cell in seen:
                text = f"{cell.verdict}: {cell.summary}" if cell else "(no cell)"
                lines.append(f"  {c['version']:<10} {text}")
    return lines or ["no behaviour changed between the versions swept"]


def sweep(specs: Sequence[str], output: Path, *, python: str = sys.executable, root: Path = SWEEP_DIR,
          run: Runner = subprocess.run, log: Callable[[str], None] = print) -> Matrix:
    columns = columns_for(specs)
    start = time.monotonic()
    path = run_suite(columns, root / "run", python=python, run=run, log=log)
    matrix = Matrix.read(path)
    log(f"{len(columns)} columns ({', '.join(columns)}): {len(matrix.cells)} cells in {time.monotonic() - start:.1f} s")
    unbuilt = {c["id"]: c.get("version") for c in matrix.clients if c.get("version") == "not built"}
    for column in unbuilt:
        reason = next((cell.summary for cell in matrix.cells if cell.client == column), "")
        log(f"{column}: unsupported: {reason}")
    for written in write(matrix, output.parent, output.stem):
        log(f"written: {written}")
    return matrix
