"""The pytest glue: options, client parametrization, the cell fixture, recording.

    suites/test_*.py declares SCENARIOS and ``def test_scenario(cell): cell.run()``
    -> pytest_generate_tests: one test per scenario x selected client, id
       ``<scenario id>-<client id>`` (``-k`` selects rows, ``--clients`` columns)
    -> the ``cell`` fixture runs it (fixtures.cell.run_cell), puts the Cell on the
       test report (user_properties: they travel from xdist workers), and holds it
       to its expectation (a difference fails the test with a diff)
    -> pytest_runtest_logreport, on the controller only, gathers the cells by
       (scenario id, client id), never by node id
    -> pytest_sessionfinish, on the controller only: matrix.json and matrix.md
       written once, atomically; expectations rewritten on --update-expectations
    -> pytest_terminal_summary: the matrix in the terminal, and the paths written

The user's proxy and CA variables are cleared for the whole run, so the machine
a run happens on cannot change a cell.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import socket
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fixtures import clients as registry
from fixtures.adapter import Adapter
from fixtures.ahead import Ahead
from fixtures.cell import CELL_TIMEOUT, Run
from matrix.files import write
from matrix.report import Matrix
from matrix.reproduce import row_meta
from matrix.terminal import COLOURS, render
from model import expect
from model.cell import Cell, Expected
from model.scenario import Scenario
from servers import Servers, ServerUnavailable

PROPERTY = "clientmatrix"
#: The longest --cell-timeout accepted: a cell is a few requests, not a soak test.
MAX_CELL_TIMEOUT = 600.0

#: Environment variables that would let the machine change a cell (compared without case).
CLEARED_ENV = (
    "no_proxy", "requests_ca_bundle", "curl_ca_bundle", "ssl_cert_file", "ssl_cert_dir",
    "websocket_client_ca_bundle",
)
#: Name patterns cleared too: every proxy variable urllib's getproxies() reads (``*_proxy``,
#: ``socks_proxy`` included), and the websockets library's own settings (``WEBSOCKETS_*``).
CLEARED_SUFFIXES = ("_proxy",)
CLEARED_PREFIXES = ("websockets_",)


@dataclass
class State:
    """What one pytest process (controller or worker) keeps for the run."""

    clients: list[str]
    deadline: float
    report_dir: Path
    expectations_dir: Path
    expectations: dict[str, expect.Expectations]
    update: bool
    controller: bool
    cleared_env: list[str]
    started: float = field(default_factory=time.time)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seen_ids: dict[str, str] = field(default_factory=dict)
    #: Each scenario's position in its module's SCENARIOS (the report's row order).
    order: dict[str, int] = field(default_factory=dict)
    #: The matrix built at session finish (the terminal shows the same one).
    built: Matrix | None = None
    resolved: dict[str, dict[str, Expected]] = field(default_factory=dict)

    def expected(self, client: str, version: str | None) -> dict[str, Expected]:
        """A client's expectations for its installed version: the base and the overrides for it."""
        if client not in self.resolved:
            self.resolved[client] = self.expectations.get(client, expect.Expectations()).resolve(version)
        return self.resolved[client]


STATE = pytest.StashKey[State]()
#: scenario id -> the clients whose cells of it this process collected (fixtures/ahead.py).
ROWS = pytest.StashKey[dict[str, list[str]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clientmatrix")
    group.addoption("--clients", default=None, metavar="IDS",
                    help="comma-separated client ids to run (columns); default: all. "
                         f"Known: {', '.join(registry.CLIENTS)}")
    group.addoption("--cell-timeout", type=float, default=CELL_TIMEOUT, metavar="SECONDS",
                    help=f"hard deadline of one cell; a client still busy is recorded as "
                         f"'timeout' (default {CELL_TIMEOUT:g})")
    group.addoption("--matrix-dir", default=None, metavar="DIR",
                    help="where matrix.json, matrix.md and matrix.html are written (default: "
                         "<rootdir>/reports); write --matrix-dir=DIR")
    group.addoption("--expectations-dir", default=None, metavar="DIR",
                    help="where the expectations files are (default: <rootdir>/expectations); "
                         "write --expectations-dir=DIR")
    group.addoption("--update-expectations", action="store_true", default=False,
                    help="rewrite expectations/<client>.json from this run's cells instead of "
                         "failing on differences (review the diff like code)")


def pytest_configure(config: pytest.Config) -> None:
    try:
        clients = registry.select(config.getoption("--clients"))
    except registry.UnknownClient as exc:
        raise pytest.UsageError(f"--clients: {exc}") from None
    deadline = config.getoption("--cell-timeout")
    if not (0 < deadline <= MAX_CELL_TIMEOUT):  # also refuses nan and inf
        raise pytest.UsageError(
            f"--cell-timeout must be a number of seconds above 0 and at most {MAX_CELL_TIMEOUT:g}, not {deadline}")
    option_dir = config.getoption("--matrix-dir")
    report_dir = Path(option_dir).resolve() if option_dir else config.rootpath / "reports"
    controller = not hasattr(config, "workerinput")
    cleared = clear_environment()
    if controller:
        check_writable(report_dir)
        check_loopback()
    option_exp = config.getoption("--expectations-dir")
    expectations_dir = Path(option_exp).resolve() if option_exp else config.rootpath / "expectations"
    if option_exp and not expectations_dir.is_dir():
        raise pytest.UsageError(
            f"--expectations-dir: {expectations_dir} is not a folder. Give an existing folder of "
            "expectations files (to record a new set: mkdir it, then run pytest --update-expectations)."
        )
    try:
        expectations = expect.load_all(expectations_dir, clients)
    except expect.ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = State(
        clients=clients,
        deadline=deadline,
        report_dir=report_dir,
        expectations_dir=expectations_dir,
        expectations=expectations,
        update=config.getoption("--update-expectations"),
        controller=controller,
        cleared_env=cleared,
    )
    if controller:
        config.pluginmanager.register(Recorder(config), "clientmatrix-recorder")


def clear_environment() -> list[str]:
    """Clear what would let the machine change a cell; return the names touched.

    NETRC is pointed at an empty file rather than removed: without it, requests (and
    aiohttp with trust_env) read ~/.netrc and could add credentials to a request.
    """
    cleared = [n for n in os.environ if n.lower() in CLEARED_ENV or n.lower().endswith(CLEARED_SUFFIXES)
               or n.lower().startswith(CLEARED_PREFIXES)]
    for name in cleared:
        del os.environ[name]
    if "NETRC" in os.environ or os.path.exists(os.path.expanduser("~/.netrc")):
        cleared.append("NETRC")
    empty = Path(tempfile.gettempdir()) / "clientmatrix-empty-netrc"
    empty.touch(exist_ok=True)
    os.environ["NETRC"] = str(empty)
    return sorted(cleared)


def check_loopback() -> None:
    """Fail before any worker starts if the fixture servers could not bind."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            probe.listen()
    except OSError as exc:
        raise pytest.UsageError(
            f"cannot bind a fixture server on 127.0.0.1 ({exc.strerror or exc}). clientmatrix needs the "
            "loopback interface: check that 127.0.0.1 is up and that this user may listen on a port."
        ) from None


def check_writable(folder: Path) -> None:
    """Fail before measuring anything if the reports could not be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise pytest.UsageError(
            f"cannot write the matrix reports to {folder}: {exc.strerror or exc}. "
            "Pass --matrix-dir=DIR with a folder you can write to."
        ) from None


# -- collection ---------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE]
    scenarios: list[Scenario] = getattr(metafunc.module, "SCENARIOS", [])
    params: list[Any] = []
    ids: list[str] = []
    for index, scenario in enumerate(scenarios):
        state.order[scenario.id] = index
        where = f"{metafunc.module.__name__}"
        other = state.seen_ids.setdefault(scenario.id, where)
        if other != where:
            raise ValueError(f"scenario id {scenario.id!r} is declared twice ({other} and {where})")
        for client in state.clients:
            if registry.load(client).family == scenario.protocol:
                params.append((scenario, client))
                ids.append(f"{scenario.id}-{client}")
    if not params:  # e.g. --clients with HTTP clients only: say so, not "empty parameter set"
        reason = f"no selected client speaks these rows' protocol ({', '.join(state.clients)} selected)"
        params, ids = [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ["no-client"]
    metafunc.parametrize("cell", params, ids=ids, indirect=True)


# -- fixtures -----------------------------------------------------------------


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    try:
        running = Servers().start()
    except ServerUnavailable as exc:  # a setup error with the reason, readable under xdist too
        pytest.fail(str(exc), pytrace=False)
    yield running
    for note in running.registry.orphans:  # server errors no cell could be blamed for
        warnings.warn(f"clientmatrix fixture server: {note}", stacklevel=1)
    running.stop()


class Pool:
    """One adapter instance per client per process, made on first use."""

    def __init__(self, ca_file: str | None) -> None:
        self.ca_file = ca_file
        self._made: dict[str, Adapter | str] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def meta(self, client: str) -> dict[str, Any]:
        """The client's id, library, version and mode (looked up once: metadata is slow)."""
        if client not in self._meta:
            self._meta[client] = registry.load(client).meta()
        return self._meta[client]

    def get(self, client: str) -> Adapter | str:
        if client not in self._made:
            cls = registry.load(client)
            self._made[client] = cls.missing() or cls(self.ca_file)
        return self._made[client]

    def close(self) -> None:
        for adapter in self._made.values():
            if isinstance(adapter, Adapter):
                adapter.close()


@pytest.fixture(scope="session")
def adapters(servers: Servers) -> Iterator[Pool]:
    pool = Pool(servers.certs.ca_file if servers.certs else None)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def ahead(servers: Servers, adapters: Pool) -> Iterator[Ahead]:
    running = Ahead(servers, adapters.get)
    yield running
    running.close()


def row_clients(session: pytest.Session) -> dict[str, list[str]]:
    """Which clients' cells of each row this process collected (after -k and --clients)."""
    if ROWS not in session.config.stash:
        rows: dict[str, list[str]] = {}
        for item in session.items:
            param = getattr(getattr(item, "callspec", None), "params", {}).get("cell")
            if param is not None:
                rows.setdefault(param[0].id, []).append(param[1])
        session.config.stash[ROWS] = rows
    return session.config.stash[ROWS]


class CellRunner:
    def __init__(self, request: pytest.FixtureRequest, servers: Servers, adapters: Pool, ahead: Ahead) -> None:
        self.scenario, self.client = request.param
        self.request = request
        self.servers = servers
        self.adapters = adapters
        self.ahead = ahead

    def run(self) -> Cell:
        state = self.request.config.stash[STATE]
        row = row_clients(self.request.session).get(self.scenario.id, [])
        try:
            result = self.ahead.run(self.scenario, self.client, row, state.deadline)
        except Exception as exc:  # a bug of ours: the cell says so, and is kept with the rest
            result = Run(Cell(self.scenario.id, self.client, "error",
                              f"harness error: {type(exc).__name__}: {exc}"[:300]))
        cell = result.cell
        version = self.adapters.meta(self.client).get("version")
        expected = state.expected(self.client, version).get(self.scenario.id)
        cell = Cell(cell.scenario, cell.client, cell.verdict, cell.summary, cell.observed,
                    expected, cell.outcome, cell.duration_ms)
        # Through JSON: the property travels from xdist workers, which send plain types only
        # (a library's str subclass, such as aiohttp's istr header names, would not pass).
        self.request.node.user_properties.append((PROPERTY, json.loads(json.dumps({
            "cell": cell.to_json(),
            "scenario": {**row_meta(self.scenario, self.request.node.nodeid),
                         "order": state.order.get(self.scenario.id, 0)},
            "client": self.adapters.meta(self.client),
        }))))
        if result.skip:
            pytest.skip(result.skip)
        if cell.verdict == "error":
            pytest.fail(f"harness error (a bug of clientmatrix, not of {self.client}): {cell.summary}",
                        pytrace=False)
        if not state.update:
            problem = expect.diff(expected, cell.verdict, cell.summary)
            if problem:
                pytest.fail(f"{self.scenario.id} with {self.client}: {problem}", pytrace=False)
        return cell


@pytest.fixture
def cell(request: pytest.FixtureRequest, servers: Servers, adapters: Pool, ahead: Ahead) -> CellRunner:
    return CellRunner(request, servers, adapters, ahead)


# -- gathering and reporting (controller only) ----------------------------------


class Recorder:
    """Registered on the controller (or the only process): gathers cells, writes reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        for name, value in report.user_properties:
            if name != PROPERTY or not isinstance(value, dict):
                continue
            cell = Cell.from_json(value["cell"])
            cell = Cell(cell.scenario, cell.client, cell.verdict, cell.summary, cell.observed,
                        cell.expected, report.outcome, cell.duration_ms)
            self.state.cells[cell.key] = cell
            self.state.scenarios[value["scenario"]["id"]] = value["scenario"]
            self.state.client_meta[value["client"]["id"]] = value["client"]

    def matrix(self) -> Matrix:
        state, config = self.state, self.config
        order = list(registry.CLIENTS)
        clients = sorted(state.client_meta.values(), key=lambda c: order.index(c["id"]) if c["id"] in order else 99)
        started = dt.datetime.fromtimestamp(state.started, dt.timezone.utc)
        return Matrix(
            run={
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "started": started.isoformat(timespec="seconds"),
                "duration_s": round(time.time() - state.started, 2),
                "command": shlex.join(["pytest", *config.invocation_params.args]),
                "workers": getattr(config.option, "numprocesses", None) or 0,
                "cell_timeout_s": state.deadline,
                "cleared_env": state.cleared_env,
            },
            clients=clients,
            # Rows in collection order (module, then declaration), whatever order xdist
            # workers finished them in.
            scenarios=sorted(state.scenarios.values(), key=lambda s: (s.get("module", ""), s.get("order", 0))),
            cells=list(state.cells.values()),
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.state
        if not state.cells:
            return
        matrix = state.built = self.matrix()
        try:
            state.written += write(matrix, state.report_dir)
        except OSError as exc:  # keep every measured cell: write them somewhere else
            fallback = Path(tempfile.mkdtemp(prefix="clientmatrix-reports-"))
            state.problems.append(f"could not write to {state.report_dir} ({exc.strerror or exc}); "
                                  f"the reports were written to {fallback} instead")
            state.written += write(matrix, fallback)
        if state.update:
            try:
                state.written += expect.update(state.expectations_dir, state.cells.values(),
                                               {c["id"]: c for c in matrix.clients})
            except OSError as exc:  # the reports above are written: say what was not
                state.problems.append(f"could not update the expectations in {state.expectations_dir} "
                                      f"({exc.strerror or exc}); the run's cells are in the reports written above")

    def version_notes(self) -> list[str]:
        """Clients whose installed version their expectations were not recorded for: neither the
        base version nor an override section covers it (read after an update: it may add one)."""
        notes = []
        for client, meta in sorted(self.state.client_meta.items()):
            try:
                recorded = expect.load(self.state.expectations_dir, client)
            except expect.ExpectationsError:
                continue
            installed = meta.get("version")
            if recorded.version and not recorded.covers(installed):
                notes.append(f"note: expectations/{client}.json was recorded with {meta.get('library')} "
                             f"{recorded.version}, and has no override section for {installed} (installed): "
                             "differences may be the version")
        return notes

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        if not self.state.cells:
            return
        tr = terminalreporter
        tr.write_sep("=", "clientmatrix")
        width = min(tr._tw.fullwidth or 100, 100)

        def paint(text: str, verdict: str) -> str:
            return str(tr._tw.markup(text, **COLOURS[verdict]))

        for line in render(self.state.built or self.matrix(), width=width, paint=paint):
            tr.write_line(line)
        unmapped = [c for c in self.state.cells.values()
                    if c.observed and (c.observed.get("error") or {}).get("kind") == "other"]
        if unmapped:
            tr.write_line(f"unmapped exceptions (kind 'other': the adapters' error tables can grow): {len(unmapped)}")
            for c in sorted(unmapped, key=lambda c: c.key)[:10]:
                tr.write_line(f"  {c.scenario} [{c.client}]: {(c.observed or {})['error']['type']}")
        for note in self.version_notes():
            tr.write_line(note, yellow=True)
        for problem in self.state.problems:
            tr.write_line(f"clientmatrix: {problem}", red=True, bold=True)
        for path in self.state.written:
            tr.write_line(f"written: {path}")
