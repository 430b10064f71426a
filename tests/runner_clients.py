"""A client for the runner self-tests (tests/test_columns.py), told what to do by a file.

Its ``ca_file`` names a file that holds ``crash`` (the runner process exits mid-cell),
``hang`` (the runner stops itself: it can answer nothing, not even its own deadline) or
anything else (a real GET with ``urllib.request`` to the cell's URL; the response gets two
more fields: the runner's pid and ``CLIENTMATRIX_TEST_VAR`` as the runner saw it). Used only
through a runner process, never as a column of the matrix.
"""

from __future__ import annotations

import os
import signal
import urllib.request
from pathlib import Path
from typing import Any

from fixtures.adapter import SyncAdapter
from model.cell import Call, Got


class Adapter(SyncAdapter):
    id = "runner-test"
    short = "rtst"
    library = "python"

    def request(self, call: Call, options: dict[str, Any]) -> Got:
        mode = Path(self.ca_file or "").read_text().strip() if self.ca_file else ""
        if mode == "crash":
            os._exit(3)
        if mode == "hang":
            os.kill(os.getpid(), signal.SIGSTOP)
        seen = (("X-Runner-Pid", str(os.getpid())), ("X-Test-Var", os.environ.get("CLIENTMATRIX_TEST_VAR", "")))
        with urllib.request.urlopen(call.url, timeout=5) as r:
            return Got(status=r.status, reason=r.reason, headers=(*r.headers.items(), *seen), body=r.read())
