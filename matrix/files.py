"""The three report files of a run, written together: matrix.json, .md and .html.

The one module that imports both the JSON/Markdown writers (``matrix.report``) and the
HTML page (``matrix.html``, which builds on ``matrix.report``), so neither imports the other
back.
"""

from __future__ import annotations

import json
from pathlib import Path

from matrix.html import page
from matrix.report import Matrix, markdown
from model.expect import atomic_write


def write(matrix: Matrix, folder: Path, stem: str = "matrix") -> list[Path]:
    """Write <stem>.json, <stem>.md and <stem>.html into ``folder``; return the paths."""
    json_path, md_path, html_path = (folder / f"{stem}{ext}" for ext in (".json", ".md", ".html"))
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(json_path, json.dumps(matrix.to_json(), indent=1, ensure_ascii=False) + "\n")
    atomic_write(md_path, markdown(matrix) + "\n")
    atomic_write(html_path, page(matrix))
    return [json_path, md_path, html_path]
