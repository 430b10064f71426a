"""clientmatrix's model and reports.

    matrix/
      model.py     Call, Capture, Got, Failure, Observation, Cell (plain data)
      scenario.py  Scenario (declarative), Result, grade(): level -> verdict
      checks.py    small pieces the scenarios' checks are built from
      errors.py    exception -> error kind (adapters' tables + the stdlib's)
      expect.py    expectations/<client>.json: load, diff, update
      report.py    Matrix (the run), matrix.json and matrix.md writers
      terminal.py  the end-of-run table in the terminal
      __main__.py  python -m matrix: show and re-render a matrix.json
"""
