"""clientmatrix's command-line options, loaded before pytest reads the command line.

pyproject.toml's pytest settings name this module with ``-p clientmatrix_plugin``
(addopts), so pytest knows ``--matrix-dir`` and the others while it first scans the
command line. Defined in ``conftest.py`` instead, they are unknown at that point, and
``--matrix-dir /new/dir`` (with a space) had its folder taken for a test path. Both
``--matrix-dir DIR`` and ``--matrix-dir=DIR`` work now.

One case pytest decides before it reads any settings: an *existing* folder outside the
project, written after a space, is read as a test path while pytest looks for the
project's settings (so it finds none). ``pytest_cmdline_main`` cannot run then either;
``--matrix-dir=DIR`` always works.

The rest of the pytest glue (parametrization, fixtures, recording) is ``conftest.py``.
"""

from __future__ import annotations

import pytest

from fixtures import clients as registry
from fixtures.cell import CELL_TIMEOUT
from model import expect

#: The most --repeat accepted: every cell runs that many times.
MAX_REPEAT = 100


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clientmatrix")
    group.addoption("--clients", default=None, metavar="IDS",
                    help="comma-separated client ids to run (columns); default: all. "
                         f"Known: {', '.join(registry.CLIENTS)}")
    group.addoption("--cell-timeout", type=float, default=CELL_TIMEOUT, metavar="SECONDS",
                    help=f"hard deadline of one cell; a client still busy is recorded as "
                         f"'timeout' (default {CELL_TIMEOUT:g})")
    group.addoption("--matrix-dir", default=None, metavar="DIR",
                    help="where matrix.json, matrix.md and matrix.html are written (default: <rootdir>/reports)")
    group.addoption("--expectations-dir", default=None, metavar="DIR",
                    help="where the expectations files are (default: <rootdir>/expectations)")
    group.addoption("--update-expectations", action="store_true", default=False,
                    help="rewrite expectations/<client>.json from this run's cells instead of "
                         "failing on differences (review the diff like code)")
    group.addoption("--update-include", default="", metavar="VERDICTS",
                    help="with --update-expectations, also record cells of these verdicts "
                         f"(comma-separated, from: {', '.join(expect.UNSTABLE)}); left out otherwise")
    group.addoption("--repeat", type=int, default=1, metavar="N",
                    help="run each selected cell N times; a cell whose verdict or summary varied is "
                         f"marked intermittent, with each variant and its count (at most {MAX_REPEAT})")
    group.addoption("--full-table", action="store_true", default=False,
                    help="print every row of the matrix at the end of the run (default: the scorecard and "
                         "the rows that fail, warn or differ between clients)")
