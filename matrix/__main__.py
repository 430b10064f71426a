"""``python -m matrix``: read, show and re-render matrix files.

    python -m matrix show [reports/matrix.json]          the terminal table
    python -m matrix markdown reports/matrix.json -o m.md the Markdown report

Bad input (a missing file, a file that is not a matrix, a schema version this
version does not know) is a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from matrix.expect import atomic_write
from matrix.report import Matrix, MatrixFileError, markdown
from matrix.terminal import render

DEFAULT = Path("reports/matrix.json")


def cmd_show(args: argparse.Namespace) -> int:
    matrix = Matrix.read(Path(args.file))
    for line in render(matrix, width=args.width):
        print(line)
    return 0


def cmd_markdown(args: argparse.Namespace) -> int:
    matrix = Matrix.read(Path(args.file))
    text = markdown(matrix) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        atomic_write(Path(args.output), text)
        print(f"written: {args.output}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m matrix", description="Read and render clientmatrix reports.")
    sub = p.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the matrix table of a matrix.json")
    show.add_argument("file", nargs="?", default=str(DEFAULT))
    show.add_argument("--width", type=int, default=100)
    show.set_defaults(func=cmd_show)
    md = sub.add_parser("markdown", help="write the Markdown report of a matrix.json")
    md.add_argument("file")
    md.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    md.set_defaults(func=cmd_markdown)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MatrixFileError as exc:
        print(f"python -m matrix: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"python -m matrix: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
