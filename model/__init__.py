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
      wrong.py     made-up wrong answers for the guard that every graded check can fail
      forms.py     strict readers of captured request bodies (multipart, JSON, forms)
      frames.py    the WebSocket frame codec, sans I/O
      h2wire.py    HTTP/2 frames and HPACK literals on the wire, sans I/O
      h2script.py  what the HTTP/2 server is told to do; h2checks.py: checks over HTTP/2
      protocol.py  the runner protocol: Call in, Result out, as JSON
      loop.py      LoopThread: an event loop on its own thread (servers, async adapters)
"""
