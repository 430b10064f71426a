"""clientmatrix's model: plain data at the bottom of the layout.

Nothing here imports a server, an adapter, pytest or an output; a runner in a foreign
environment imports this package and one adapter, and nothing else of ours.

    model/
      cell.py      Call, Capture, Got, Failure, Observation, Cell (plain data)
      script.py    what a server is told to do: Reply, Raw, actions (servers execute it)
      scenario.py  Scenario (declarative), Result, grade(): level -> verdict
      checks.py    small pieces the scenarios' checks are built from
      hops.py      pieces for checks over several requests
      received.py  got-side check factories (delivers, refuses, tolerates)
      errors.py    exception -> error kind (adapters' tables + the stdlib's)
      expect.py    expectations/<client>.json: load, diff, update
      loop.py      LoopThread: an event loop on its own thread (servers, async adapters)
"""
