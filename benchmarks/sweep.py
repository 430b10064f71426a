"""Benchmark: a version sweep of one library, three versions, in one matrix (issue 8).

    python benchmarks/sweep.py                                  requests 2.31.0, 2.32.3, 2.34.2
    python benchmarks/sweep.py httpx==0.26.0 httpx==0.27.2 httpx==0.28.1
    python benchmarks/sweep.py --keep-envs                      reuse built environments too

By default the sweep's environments are removed first, so the figure includes building
each one with uv from its cache (``uv`` keeps downloaded wheels; the first sweep on a
machine also downloads them, which this script does once before it measures: a warm
cache). ``--keep-envs`` measures the next sweep, which reuses them. Target: under 30 s
wall on a 2-core machine. It prints each environment's build time, the cells and the
wall time. A script, never a timed test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fixtures import clients as registry  # noqa: E402
from fixtures import envs  # noqa: E402
from matrix import sweep  # noqa: E402

DEFAULT = ["requests==2.31.0", "requests==2.32.3", "requests==2.34.2"]


def sweep_once(specs: list[str], out: Path) -> tuple[float, str]:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "matrix", "sweep", *specs, "-o", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    took = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"the sweep failed (exit {done.returncode}): {done.stderr[-1000:]}")
    return took, done.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", default=DEFAULT)
    p.add_argument("--keep-envs", action="store_true", help="measure with the environments already built")
    args = p.parse_args()
    out = ROOT / ".sweep" / "bench" / "sweep.json"
    columns = sweep.columns_for(args.specs)
    folders = []
    for column in columns:
        cls = registry.load(column)
        env = envs.for_client(column, cls.library, cls.env)
        if env is not None:
            folders.append(env.folder())
    sweep_once(args.specs, out)  # warm: uv's cache holds every wheel, the environments exist
    if not args.keep_envs:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    took, stdout = sweep_once(args.specs, out)
    matrix = json.loads(out.read_text())
    changed = stdout.split("what changed between versions, per scenario:")[-1].strip().splitlines()
    print(f"sweep of {' '.join(args.specs)}: {len(columns)} columns ({', '.join(columns)})")
    for line in stdout.splitlines():
        if "built in" in line or "ready in" in line or "unsupported" in line:
            print("  " + line.strip())
    print(f"  environments: {'reused' if args.keep_envs else 'built from a warm uv cache'}")
    print(f"  {len(matrix['cells'])} cells, {sum(1 for line in changed if line.endswith(':'))} rows changed "
          f"between versions, {took:.1f} s wall (target: under 30 s)")


if __name__ == "__main__":
    main()
