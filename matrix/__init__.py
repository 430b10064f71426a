"""clientmatrix's outputs: what a run's cells become for people.

The cell model lives in ``model/``; this package reads cells and writes them out.

    matrix/
      report.py     Matrix (the run), matrix.json and matrix.md writers
      files.py      write(): the three report files, all or none
      runlog.py     what a run selected and ran: lost cells, complete or not
      html.py       the self-contained HTML report (assets/ inlined)
      terminal.py   the end-of-run table in the terminal
      consensus.py  a row's reference (the spec, then the majority) and odd ones out
      scorecard.py  per column: MUST/SHOULD broken, security failed, unsupported, timeouts
      wire.py       what the server sends for a row (bytes, frames), for the reports
      schema.py     docs/matrix.schema.json's validator
      serve.py      python -m matrix serve ROW: a row's servers for its reproducers
      reproduce.py  a cell's pytest command and runnable snippet
      merge.py      many matrices -> one
      diff.py       cells changed between two matrices
      sweep.py      a version sweep
      __main__.py   python -m matrix: show, serve, markdown, html, merge, diff, sweep
"""
