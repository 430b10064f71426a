"""A child for tests/test_zygote.py: prints what it sees as one JSON line.

``hang`` prints a line and sleeps (to be killed); ``exit N`` ends with status N.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import sys
import time


def main() -> int:
    getenv = ctypes.CDLL(None).getenv
    getenv.restype = ctypes.c_char_p
    raw = getenv(b"CLIENTMATRIX_PROBE")
    seen = {"env": os.environ.get("CLIENTMATRIX_PROBE"), "getenv": raw.decode() if raw else None,
            "pid": os.getpid(), "argv": sys.argv[1:], "random": random.random(),
            "preloaded": "csv" in sys.modules}
    print(json.dumps(seen), flush=True)
    if sys.argv[1:2] == ["hang"]:
        time.sleep(30)  # bounded: the test kills it long before
    if sys.argv[1:2] == ["exit"]:
        return int(sys.argv[2])
    return 0
