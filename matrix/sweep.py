"""Version sweep: check library versions before adopting one.

    python -m matrix sweep requests==2.31.0 requests==2.32.3 httpx==0.27.2 [-o .sweep/sweep.json]

For each spec (``package==version``):

    parse(spec)                    the package and version (anything else is a usage error)
    clients_for(package)           the client ids whose adapter's ``library`` is that package
    ensure_env(...)                an isolated venv under .sweep/envs/<package>-<version>-py<X.Y>,
                                   with that version and requirements.txt's pins for the rest
                                   (the swept package and the self-test-only packages left out);
                                   reused when its recorded key (spec + pins) still matches
    run_suite(...)                 ``pytest suites --clients <ids> --matrix-dir ...`` in it
then the runs are merged (matrix.merge) into one matrix with its .md and .html, and
``changes_between_versions`` prints, per scenario, what changed from version to version.

Expectations hold for the pinned versions, so in a sweep a cell that differs fails its
test by design: pytest's exit status 1 is expected, 2 and above is an error. pip and
pytest each have a timeout. Subprocesses go through ``Runner`` so tests can fake them.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix.files import write
from matrix.merge import merge
from matrix.report import Matrix

ROOT = Path(__file__).resolve().parents[1]
SWEEP_DIR = ROOT / ".sweep"
#: Packages requirements.txt pins for the self-tests only: a sweep's environments do without.
SELFTEST_ONLY = ("greenlet", "playwright", "pyyaml")
PIP_TIMEOUT = 600.0
PYTEST_TIMEOUT = 900.0
MARKER = "clientmatrix-sweep.json"

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

    @property
    def slug(self) -> str:
        return f"{normalize(self.package)}-{self.version}"


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


def pinned_rest(requirements: str, package: str) -> list[str]:
    """requirements.txt's lines without the swept package and the self-test-only ones."""
    skip = {normalize(package), *SELFTEST_ONLY}
    out = []
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[<>=!~;\s\[]", line, maxsplit=1)[0]
        if normalize(name) not in skip:
            out.append(line)
    return out


def env_key(spec: Spec, pins: Sequence[str], python: str) -> str:
    text = "\n".join([spec.text, python, *pins])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def python_version(python: str, run: Runner = subprocess.run) -> str:
    out = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
              capture_output=True, text=True, timeout=60, check=False)
    if out.returncode != 0:
        raise SweepError(f"cannot run the Python {python}: {out.stderr.strip()[-200:]}")
    return out.stdout.strip()


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def ensure_env(spec: Spec, pins: Sequence[str], *, python: str, pyver: str, root: Path = SWEEP_DIR,
               run: Runner = subprocess.run, timeout: float = PIP_TIMEOUT) -> tuple[Path, bool]:
    """The spec's venv, made or reused; returns (its folder, whether it was reused)."""
    env = root / "envs" / f"{spec.slug}-py{pyver}"
    key = env_key(spec, pins, pyver)
    marker = env / MARKER
    try:
        if json.loads(marker.read_text())["key"] == key and env_python(env).exists():
            return env, True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    env.parent.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    step(run, [python, "-m", "venv", "--clear", str(env)], f"venv for {spec.text}", timeout)
    reqs = env / "requirements-sweep.txt"
    reqs.write_text("\n".join([*pins, spec.text]) + "\n")
    step(run, [str(env_python(env)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-r", str(reqs)], f"pip install {spec.text} with the pinned rest", timeout)
    marker.write_text(json.dumps({"key": key, "spec": spec.text, "python": pyver}) + "\n")
    return env, False


def step(run: Runner, cmd: list[str], what: str, timeout: float) -> None:
    try:
        out = run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SweepError(f"{what}: no result within {timeout:g} s") from None
    if out.returncode != 0:
        tail = " ".join((out.stderr or out.stdout or "").strip().splitlines()[-3:])
        raise SweepError(f"{what} failed (exit {out.returncode}): {tail[-400:]}")


def run_suite(env: Path, clients: Sequence[str], out: Path, *, run: Runner = subprocess.run,
              timeout: float = PYTEST_TIMEOUT) -> Path:
    """The suite for these clients in ``env``; the matrix.json it wrote."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "matrix.json").unlink(missing_ok=True)
    cmd = [str(env_python(env)), "-m", "pytest", "suites", "--clients", ",".join(clients),
           "--matrix-dir", str(out), "-q", "-p", "no:cacheprovider"]
    try:
        done = run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SweepError(f"pytest in {env.name}: no result within {timeout:g} s") from None
    (out / "pytest.log").write_text((done.stdout or "") + (done.stderr or ""))
    # 0: every cell as expected; 1: some cells differ from the pinned version's expectations (by design).
    if done.returncode not in (0, 1) or not (out / "matrix.json").exists():
        raise SweepError(f"pytest in {env.name} exited {done.returncode}; see {out / 'pytest.log'}")
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
    parsed = [parse(s) for s in specs]
    plan = []
    for spec in parsed:
        ids = clients_for(spec.package)
        if not ids:
            raise SweepError(f"no client is built on {spec.package!r}; swept packages are the clients' libraries")
        plan.append((spec, ids))
    pyver = python_version(python, run)
    requirements = (ROOT / "requirements.txt").read_text()
    runs, sources = [], []
    for spec, ids in plan:
        start = time.monotonic()
        env, reused = ensure_env(spec, pinned_rest(requirements, spec.package), python=python, pyver=pyver,
                                 root=root, run=run)
        made = time.monotonic()
        path = run_suite(env, ids, root / "runs" / f"{spec.slug}-py{pyver}", run=run)
        log(f"{spec.text}: {'reused' if reused else 'made'} {env} ({made - start:.0f} s), "
            f"suite for {', '.join(ids)} ({time.monotonic() - made:.0f} s)")
        runs.append(Matrix.read(path))
        sources.append(str(path))
    merged = merge(runs, sources)
    for written in write(merged, output.parent, output.stem):
        log(f"written: {written}")
    return merged
