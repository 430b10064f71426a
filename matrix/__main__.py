"""``python -m matrix``: read, show, re-render, merge and compare matrix files.

    python -m matrix show [reports/matrix.json] [-k EXPR] [--clients a,b] [--verdict V] [--full]
                          [--width N] [--color auto|always|never]
                                                          the scorecard and the notable rows
                                                          (--full: every row), fitted and coloured
    python -m matrix show [FILE] ROW CLIENT               what one cell did, both sides
    python -m matrix serve ROW [--seconds N]              the row's scripted fixture servers on
                                                          fixed loopback ports, for its reproducers
    python -m matrix markdown reports/matrix.json -o m.md the Markdown report
    python -m matrix html reports/matrix.json -o m.html   the HTML report
    python -m matrix merge a.json b.json -o merged.json   one matrix from many runs (matrix.merge),
                                                          with merged.md and merged.html beside it
    python -m matrix diff old.json new.json [--format json] [--common] [--strict]
                                                          the cells that changed (matrix.diff);
                                                          exit 1 on a regression, a removed cell,
                                                          an incomplete new run (--strict: any change)
    python -m matrix sweep requests==2.31.0 httpx==0.27.2 one run, a column per library version, each
                                                          in its own environment (matrix.sweep)

Bad input (a missing file, a file that is not a matrix, a schema version this
version does not know) is a one-line message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from matrix import diff, merge
from matrix.files import write
from matrix.report import Matrix, MatrixFileError, fitted, markdown
from matrix.terminal import ansi, cell_lines, plain, render, select
from model.cell import VERDICTS
from model.expect import atomic_write

DEFAULT = Path("reports/matrix.json")


def colour_wanted(choice: str) -> bool:
    """``--color auto``: colour on a terminal, unless NO_COLOR is set (https://no-color.org)."""
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def cmd_show(args: argparse.Namespace) -> int:
    positional = list(args.items)
    file = str(DEFAULT)
    if positional and (positional[0].endswith(".json") or Path(positional[0]).is_file()):
        file = positional.pop(0)
    if len(positional) > 2:
        raise MatrixFileError(f"show takes [FILE] [ROW [CLIENT]], not {' '.join(args.items)}")
    matrix = Matrix.read(Path(file))
    paint = ansi if colour_wanted(args.color) else plain
    width = args.width or shutil.get_terminal_size((100, 24)).columns
    clients = None
    if args.clients:
        clients = [c.strip() for c in args.clients.split(",") if c.strip()]
        known = {c["id"] for c in matrix.clients}
        unknown = [c for c in clients if c not in known]
        if unknown:
            raise MatrixFileError(f"--clients: {', '.join(unknown)} not in {file} (its clients: {', '.join(sorted(known))})")
    if len(positional) == 2:
        try:
            lines = cell_lines(matrix, positional[0], positional[1], paint)
        except KeyError as exc:
            raise MatrixFileError(f"{file}: no cell {exc.args[0]}") from None
    else:
        if positional:
            if not any(s["id"] == positional[0] for s in matrix.scenarios):
                raise MatrixFileError(f"{file} has no row {positional[0]!r}")
            rows = {positional[0]}
        else:
            try:
                rows = select(matrix, args.k, args.verdict, clients)
            except ValueError as exc:
                raise MatrixFileError(str(exc)) from None
        full = args.full or bool(positional) or bool(args.k) or bool(args.verdict)
        lines = render(matrix, width=width, paint=paint, full=full, rows=rows, clients=clients)
    for line in lines:
        print(line)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from matrix.serve import main as serve

    return serve(args.row, seconds=args.seconds, client=args.client)


def cmd_markdown(args: argparse.Namespace) -> int:
    matrix = Matrix.read(Path(args.file))
    return emit((fitted(matrix, args.max_bytes) if args.max_bytes else markdown(matrix)) + "\n", args.output)


def cmd_html(args: argparse.Namespace) -> int:
    from matrix.html import page

    return emit(page(Matrix.read(Path(args.file))), args.output)


def emit(text: str, output: str | None) -> int:
    """Write a rendered report to a file, or to stdout for ``-`` or none."""
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        atomic_write(Path(output), text)
        print(f"written: {output}")
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix != ".json":
        raise MatrixFileError(f"the merged matrix is a .json file, not {out.name}")
    merged = merge.merge([Matrix.read(Path(f)) for f in args.files], args.files, prefer=args.prefer)
    for path in write(merged, out.parent, out.stem):
        print(f"written: {path}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    old, new = Matrix.read(Path(args.old)), Matrix.read(Path(args.new))
    found = diff.changes(old, new, common=args.common)
    reasons = diff.gate(found, new, strict=args.strict)
    if args.format == "json":
        print(json.dumps(diff.to_json(found, reasons), indent=1, ensure_ascii=False))
    else:
        for line in diff.table(found, old, new):
            print(line)
        if old.run.get("complete", True) is False:
            print(f"note: the old run is incomplete ({old.run.get('incomplete_reason') or 'stopped early'})")
        for reason in reasons:
            print(f"FAIL: {reason}")
    return 1 if reasons else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from matrix import sweep

    try:
        merged = sweep.sweep(args.specs, Path(args.output), python=args.python)
    except sweep.SweepError as exc:
        print(f"python -m matrix sweep: {exc}", file=sys.stderr)
        return 2
    print()
    print("what changed between versions, per scenario:")
    for line in sweep.changes_between_versions(merged):
        print("  " + line)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m matrix", description="Read and render clientmatrix reports.")
    sub = p.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print the scorecard and the notable rows of a matrix.json, or one cell "
                                       "(show [FILE] ROW CLIENT)")
    show.add_argument("items", nargs="*", metavar="[FILE] [ROW [CLIENT]]",
                      help=f"the matrix file (default {DEFAULT}), a row, a row and a client")
    show.add_argument("-k", default=None, metavar="EXPR",
                      help="rows whose id or title match, like pytest's -k ('redirect and not 303')")
    show.add_argument("--clients", default=None, metavar="IDS", help="only these columns (comma-separated)")
    show.add_argument("--verdict", choices=VERDICTS, default=None, help="rows where a shown client has this verdict")
    show.add_argument("--full", action="store_true", help="every row (default: the scorecard and the rows that fail, "
                                                          "warn, time out or differ between clients)")
    show.add_argument("--width", type=int, default=None, help="columns (default: the terminal's width)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="colour: auto (on a terminal, unless NO_COLOR is set), always, never")
    show.set_defaults(func=cmd_show)
    sv = sub.add_parser("serve", help="start the fixture servers scripted for one row, on fixed loopback ports, "
                                      "for its reproducers (until Ctrl-C or --seconds)")
    sv.add_argument("row")
    sv.add_argument("--seconds", type=float, default=600.0, help="stop after this long (default: %(default)g)")
    sv.add_argument("--client", default=None, help="also print this client's reproducer for the row")
    sv.set_defaults(func=cmd_serve)
    md = sub.add_parser("markdown", help="write the Markdown report of a matrix.json")
    md.add_argument("file")
    md.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    md.add_argument("--max-bytes", type=int, default=None,
                    help="cut the report down to fit (a CI job summary takes 1 MiB): tables only, then counts")
    md.set_defaults(func=cmd_markdown)
    page = sub.add_parser("html", help="write the HTML report of a matrix.json")
    page.add_argument("file")
    page.add_argument("-o", "--output", default=None, help="output file (default: stdout)")
    page.set_defaults(func=cmd_html)
    mg = sub.add_parser("merge", help="merge matrix.json files of several runs into one matrix")
    mg.add_argument("files", nargs="+")
    mg.add_argument("-o", "--output", required=True, help="the merged .json (the .md and .html go beside it)")
    mg.add_argument("--prefer", choices=("first", "last"), default=None,
                    help="when two runs disagree on a cell of the same column, keep the first or the last "
                         "file's (default: refuse, naming the cells)")
    mg.set_defaults(func=cmd_merge)
    df = sub.add_parser("diff", help="the cells whose verdict or behaviour changed; exit 1 on a regression, "
                                     "a removed cell or an incomplete new run")
    df.add_argument("old")
    df.add_argument("new")
    df.add_argument("--format", choices=("text", "json"), default="text")
    df.add_argument("--common", action="store_true",
                    help="compare only cells present in both runs (e.g. a full run and a --clients run)")
    df.add_argument("--strict", action="store_true",
                    help="also exit 1 on any other change: another verdict, or the same verdict with "
                         "another behaviour (summary)")
    df.set_defaults(func=cmd_diff)
    sw = sub.add_parser("sweep", help="run the suite with a column per library version (package==version), "
                                      "each in its own environment under .envs/, in one matrix")
    sw.add_argument("specs", nargs="+", metavar="package==version")
    sw.add_argument("-o", "--output", default=".sweep/sweep.json", help="the merged .json (default: %(default)s)")
    sw.add_argument("--python", default=sys.executable, help="the Python that runs pytest (default: this one)")
    sw.set_defaults(func=cmd_sweep)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except MatrixFileError as exc:
        print(f"python -m matrix: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head or less, which stopped reading: fine
        # Python's own recipe: point stdout at devnull so the final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"python -m matrix: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
