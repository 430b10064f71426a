"""Benchmark: the whole matrix under pytest, against the same cells in a plain loop.

    python benchmarks/run.py            pytest (serial and -n auto) vs the floor
    python benchmarks/run.py --floor    only the floor loop (used by the above)

The *floor* is the same work without pytest: start the same servers, and for every
scenario x client make the same call through the same adapter on the same route,
in a plain ``for`` loop, no grading, no recording, no reports. Both sides run as a
fresh subprocess, so interpreter start and imports count on both sides.

It prints cells, wall time, cells per second and the ratio to the floor, and the
peak memory of each run. Targets (issue 2): the default run under 15 s wall on a
2-core machine, and at most 3x the floor. It is a script, never a timed test.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: A bound on each measured run, so the benchmark always ends.
RUN_TIMEOUT = 600


def floor() -> int:
    """The same cells as the matrix, in a plain loop. Prints the count of calls made."""
    sys.path.insert(0, str(ROOT))
    from fixtures import clients
    from fixtures.cell import CELL_TIMEOUT, environment, locate
    from servers import Servers, ServerUnavailable
    from servers.script import script

    scenarios = []
    for path in sorted((ROOT / "suites").glob("test_*.py")):
        scenarios += importlib.import_module(f"suites.{path.stem}").SCENARIOS
    servers = Servers().start()
    adapters = {}
    for cid in clients.CLIENTS:
        cls = clients.load(cid)
        if not cls.missing():
            adapters[cid] = cls(servers.certs.ca_file if servers.certs else None)
    calls = 0
    for scenario in scenarios:
        for adapter in adapters.values():
            if adapter.family != scenario.protocol:
                continue
            route = servers.registry.open(script(scenario.response))
            try:
                call = locate(replace(scenario.request), scenario.origin, route, servers)
                with environment(scenario.env, servers):
                    adapter.run(call, CELL_TIMEOUT, on_timeout=route.abort)
                calls += 1
            except ServerUnavailable:
                pass
            finally:
                servers.registry.close(route)
    for adapter in adapters.values():
        adapter.close()
    servers.stop()
    return calls


@dataclass
class Measured:
    wall: float
    peak_mib: float
    returncode: int
    stdout: str
    stderr: str


def timed(cmd: list[str]) -> Measured:
    """Run a command; its wall time and its own peak resident memory (os.wait4's rusage)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True,
                                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        deadline = start + RUN_TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        # Linux reports ru_maxrss in KiB.
        return Measured(wall, usage.ru_maxrss / 1024, proc.returncode, out.read(), err.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--floor", action="store_true", help="run only the floor loop and print its call count")
    parser.add_argument("--no-xdist", action="store_true", help="skip the pytest -n auto measurement")
    args = parser.parse_args()
    if args.floor:
        print(floor())
        return 0

    rows = []
    run = timed([sys.executable, str(Path(__file__).resolve()), "--floor"])
    if run.returncode != 0:
        print(run.stdout, run.stderr, file=sys.stderr)
        return 1
    floor_s = run.wall
    calls = int(run.stdout.strip().splitlines()[-1])
    rows.append(("floor (plain loop, no pytest)", calls, floor_s, run.peak_mib))

    variants: list[tuple[str, list[str]]] = [("pytest suites -n 0 (serial)", ["-n", "0"])]
    if not args.no_xdist:
        variants.append(("pytest suites -n auto", ["-n", "auto"]))
    status = 0
    with tempfile.TemporaryDirectory(prefix="clientmatrix-bench-") as tmp:
        for label, extra in variants:
            out = Path(tmp) / label.replace(" ", "_")
            run = timed([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                         "--matrix-dir", str(out), *extra])
            if run.returncode not in (0, 1):
                print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
                return 1
            status = status or run.returncode
            cells = len(json.loads((out / "matrix.json").read_text())["cells"])
            # with -n auto the peak is the controller's; each worker is a child of its own
            rows.append((label, cells, run.wall, run.peak_mib))

    print(f"{'run':34} {'cells':>6} {'wall s':>8} {'cells/s':>8} {'x floor':>8} {'peak MiB':>9}")
    for label, cells, wall, mem in rows:
        print(f"{label:34} {cells:>6} {wall:>8.2f} {cells / wall:>8.0f} {wall / floor_s:>8.2f} {mem:>9.0f}")
    best = min(wall for label, _, wall, _ in rows[1:])
    print(f"\nfastest pytest run: {best:.2f} s wall ({best / floor_s:.2f}x the floor of {floor_s:.2f} s)")
    print("targets: under 15 s wall, at most 3x the floor: "
          + ("met" if best < 15 and best / floor_s <= 3 else "NOT met"))
    if status:
        print("note: some cells differed from their expectations (pytest exit 1); timings still stand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
