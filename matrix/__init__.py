"""clientmatrix's outputs: what a run's cells become for people.

The cell model lives in ``model/``; this package reads cells and writes them out.

    matrix/
      report.py     Matrix (the run), matrix.json and matrix.md writers, write()
      html.py       the self-contained HTML report (assets/ inlined)
      terminal.py   the end-of-run table in the terminal
      consensus.py  a row's consensus and odd ones out
      reproduce.py  a cell's pytest command and runnable snippet
      merge.py      many matrices -> one
      diff.py       cells changed between two matrices
      sweep.py      a version sweep
      __main__.py   python -m matrix: show, markdown, html, merge, diff, sweep
"""
