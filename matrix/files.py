"""The three report files of a run, written together: matrix.json, .md and .html.

The one module that imports both the JSON/Markdown writers (``matrix.report``) and the
HTML page (``matrix.html``, which builds on ``matrix.report``), so neither imports the other
back.

All three or none: the three texts are written to temporary files in the target folder
(``matrix.json`` rendered piece by piece as it is written), and only when all three are on
disk are they renamed over the old reports, with SIGINT and SIGTERM held back for those three renames (a second Ctrl-C
cannot leave a new ``matrix.json`` beside an old ``matrix.html``). A failure before the
renames (a full disk, an unwritable folder) removes the temporary files, leaves the old
reports as they were, and raises ``ReportsNotWritten``.

``matrix.json`` is written one cell per line (``json_pieces``): readable and diffable, and
several times faster than ``indent=``, which makes Python use its slow pure-Python encoder.
It goes to the file piece by piece, never as one string: the run's largest allocation was
that string and its copies (200 MiB for 9,000 cells).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from matrix.html import page
from matrix.report import Matrix, markdown
from model.expect import UMASK


class ReportsNotWritten(OSError):
    """The reports could not be written; the old ones, if any, are untouched."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_pieces(matrix: Matrix) -> Iterator[str]:
    """``matrix.json`` in pieces: the run, clients and scenarios one entry per line, then one cell
    per line. Written piece by piece, never joined: the text of 9,000 cells is 13 MB (four times
    that as a Python string once one character is outside Latin-1), and joining it made copies."""
    data = matrix.to_json()
    yield "{\n"
    for key in ("schema", "run"):
        yield f" {_dumps(key)}: {_dumps(data[key])},\n"
    for key in ("clients", "scenarios", "cells"):
        items = data[key]
        tail = "," if key != "cells" or "absent" in data else ""
        if not items:
            yield f" {_dumps(key)}: []{tail}\n"
            continue
        yield f" {_dumps(key)}: [\n"
        last = len(items) - 1
        for i, item in enumerate(items):
            yield f"  {_dumps(item)}{',' if i < last else ''}\n"
        yield f" ]{tail}\n"
    if "absent" in data:  # clients that are not columns of a family, and why (Matrix.absent)
        yield f" {_dumps('absent')}: {_dumps(data['absent'])}\n"
    yield "}\n"


def json_text(matrix: Matrix) -> str:
    """``matrix.json`` as one string (``json_pieces`` joined)."""
    return "".join(json_pieces(matrix))


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back (delivered on exit) where this thread can (POSIX main thread)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def write_together(files: dict[Path, str | Iterable[str]]) -> list[Path]:
    """Write every file or none: temporary siblings first, then the renames. A file's text may
    come in pieces (an iterable of strings), written as they come."""
    temps: dict[Path, str] = {}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temps[path] = tmp
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                if isinstance(text, str):
                    f.write(text)
                else:
                    for piece in text:
                        f.write(piece)
            os.chmod(tmp, 0o666 & ~UMASK)  # mkstemp makes 0600; a report is as readable as any file
        with signals_held():
            for path, tmp in temps.items():
                os.replace(tmp, path)
    except OSError as exc:
        raise ReportsNotWritten(exc.errno, f"the reports were not written to {next(iter(files)).parent} "
                                f"({exc.strerror or exc}); any old reports there are unchanged") from exc
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.unlink(tmp)
    return list(files)


def write(matrix: Matrix, folder: Path, stem: str = "matrix") -> list[Path]:
    """Write <stem>.json, <stem>.md and <stem>.html into ``folder``, all three or none; return the paths."""
    json_path, md_path, html_path = (folder / f"{stem}{ext}" for ext in (".json", ".md", ".html"))
    return write_together({json_path: json_pieces(matrix), md_path: markdown(matrix) + "\n", html_path: page(matrix)})
