"""The pytest glue: client parametrization, the cell fixture, recording.

The command-line options are defined in ``clientmatrix_plugin.py`` (loaded with ``-p`` from
the pytest settings, so pytest knows them before it reads the command line).

    suites/test_*.py declares SCENARIOS and ``def test_scenario(cell): cell.run()``
    -> pytest_generate_tests: one test per scenario x selected client, id
       ``<scenario id>-<client id>`` (``-k`` selects rows, ``--clients`` columns)
    -> the ``cell`` fixture runs it (fixtures.cell.run_cell), puts the Cell on the
       test report (user_properties: they travel from xdist workers), and holds it
       to its expectation (a difference fails the test with a diff)
    -> pytest_runtest_logreport, on the controller only, gathers the cells by
       (scenario id, client id), never by node id; a cell test that failed without a
       cell (a crashed xdist worker, a setup error) is recorded as an ``error`` cell
    -> pytest_sessionfinish, on the controller only: matrix.json, .md and .html
       written once, all three or none, marked incomplete when selected cells did not
       run (matrix.runlog); expectations rewritten on --update-expectations
    -> pytest_terminal_summary: the matrix in the terminal, and the paths written

The user's proxy and CA variables are cleared for the whole run, so the machine
a run happens on cannot change a cell. The run's certificates, keys and empty NETRC
live in one private folder the controller removes at the end; SIGTERM stops a run
as Ctrl-C does.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import sys
import tempfile
import time
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from clientmatrix_plugin import MAX_REPEAT
from fixtures import clients as registry
from fixtures.adapter import Adapter
from fixtures.ahead import Ahead
from fixtures.cell import Run
from fixtures.columns import Columns, compared, own_version
from fixtures.envs import EnvError
from fixtures.zygote import Zygote
from matrix.files import write
from matrix.report import Matrix
from matrix.reproduce import row_meta
from matrix.runlog import RunLog, cell_key, incomplete_lines
from matrix.terminal import COLOURS, render
from model import expect
from model.cell import Cell, Expected, variants_of
from model.scenario import Scenario
from servers import Servers, ServerUnavailable

PROPERTY = "clientmatrix"
#: The longest --cell-timeout accepted: a cell is a few requests, not a soak test.
MAX_CELL_TIMEOUT = 600.0
#: Strings up to this long are shared between the cells the controller keeps (Recorder.shared).
SHARED_LEN = 200
#: The key of the run's private temporary folder in an xdist worker's workerinput.
TEMP_KEY = "clientmatrix_temp"

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
    #: The run's private temporary folder (0700: certificates, keys, the empty NETRC), removed at
    #: the end by the process that made it (the controller: a crashed worker's files go too).
    temp_root: Path
    owns_temp: bool
    #: Where each column runs (its environment) and its adapter there.
    columns: Columns
    repeat: int = 1
    #: Verdicts --update-expectations records although they say more about the machine or the harness.
    update_include: tuple[str, ...] = ()
    started: float = field(default_factory=time.time)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    client_meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seen_ids: dict[str, str] = field(default_factory=dict)
    #: Each scenario's position in its module's SCENARIOS (the report's row order).
    order: dict[str, int] = field(default_factory=dict)
    #: A worker's row meta and column meta as JSON text, made once per row and column (every
    #: cell carries them; building the row's request and response text took 0.1 ms a cell).
    meta_text: dict[str, str] = field(default_factory=dict)
    #: The matrix built at session finish (the terminal shows the same one).
    built: Matrix | None = None
    resolved: dict[str, dict[str, Expected]] = field(default_factory=dict)
    log: RunLog = field(default_factory=RunLog)
    #: The SIGTERM handler this run installed (put back to the default at the end).
    sigterm: Any = None
    #: Cells --update-expectations left out, and why (said in the terminal).
    left_out: list[str] = field(default_factory=list)

    def expected(self, client: str, version: str | None) -> dict[str, Expected]:
        """A client's expectations for its installed version: the base and the overrides for it."""
        if client not in self.resolved:
            base = registry.base(client)  # requests@2.31.0 is shown against requests' expectations
            self.resolved[client] = self.expectations.get(base, expect.Expectations()).resolve(version)
        return self.resolved[client]


STATE = pytest.StashKey[State]()
#: scenario id -> the clients whose cells of it this process collected (fixtures/ahead.py).
ROWS = pytest.StashKey[dict[str, list[str]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker more than the cores. A cell spends much of its time waiting
    (on its server, a runner process, a timeout row), so a third worker on two cores keeps
    both busy: the matrix took 52 s with two workers and 44 s with three on this 2-core
    machine. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores + 1


#: glibc's ``mallopt`` parameter number for the mmap threshold (``man 3 mallopt``).
M_MMAP_THRESHOLD = -3
#: Blocks this large or larger are mapped on their own, and unmapped when freed.
MMAP_THRESHOLD = 256 * 1024


def return_large_blocks() -> bool:
    """Make glibc give every large block (a body, a frame, a report's text) back to the system
    when it is freed; True when it was set.

    glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so
    after the first 8 MiB upload every later body up to that size came from the heap, and a
    freed one stayed in the process: in a run's workers, a few large cells raised the resident
    memory of the rest of the run by tens of MiB each (ws.max-size-default alone took a serial
    run from 160 to 237 MiB; 165 MiB with a fixed threshold). Setting the threshold fixes it
    (and turns the dynamic adjustment off). Other C libraries are left as they are."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        import ctypes

        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False


def pytest_configure(config: pytest.Config) -> None:
    return_large_blocks()
    try:
        clients = registry.select(config.getoption("--clients"))
    except registry.UnknownClient as exc:
        raise pytest.UsageError(f"--clients: {exc}") from None
    try:
        columns = Columns(clients)
    except EnvError as exc:
        raise pytest.UsageError(f"--clients: {exc}") from None
    deadline = config.getoption("--cell-timeout")
    if not (0 < deadline <= MAX_CELL_TIMEOUT):  # also refuses nan and inf
        raise pytest.UsageError(
            f"--cell-timeout must be a number of seconds above 0 and at most {MAX_CELL_TIMEOUT:g}, not {deadline}")
    repeat = config.getoption("--repeat")
    if not (1 <= repeat <= MAX_REPEAT):
        raise pytest.UsageError(f"--repeat must be a whole number from 1 to {MAX_REPEAT}, not {repeat}")
    include = tuple(v for v in config.getoption("--update-include").split(",") if v)
    unknown = [v for v in include if v not in expect.UNSTABLE]
    if unknown:
        raise pytest.UsageError(f"--update-include: unknown verdict {unknown[0]!r} "
                                f"(it takes: {', '.join(expect.UNSTABLE)}; the others are always recorded)")
    option_dir = config.getoption("--matrix-dir")
    report_dir = Path(option_dir).resolve() if option_dir else config.rootpath / "reports"
    controller = not hasattr(config, "workerinput")
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
        expectations = expect.load_all(expectations_dir, dict.fromkeys(registry.base(c) for c in clients))
    except expect.ExpectationsError as exc:
        raise pytest.UsageError(str(exc)) from None
    temp_root, owns_temp = run_temp(config)  # made last: a usage error above leaves nothing behind
    cleared = clear_environment(temp_root)
    config.stash[STATE] = State(
        clients=clients,
        deadline=deadline,
        report_dir=report_dir,
        expectations_dir=expectations_dir,
        expectations=expectations,
        update=config.getoption("--update-expectations"),
        controller=controller,
        cleared_env=cleared,
        columns=columns,
        temp_root=temp_root,
        owns_temp=owns_temp,
        repeat=repeat,
        update_include=include,
    )
    config.stash[STATE].sigterm = stop_on_sigterm(config)
    if controller:
        config.pluginmanager.register(Recorder(config), "clientmatrix-recorder")
        config.pluginmanager.register(Shed(), "clientmatrix-shed")
        config.pluginmanager.register(EnvBuilder(config), "clientmatrix-envs")
    else:
        send_fewer_reports(config)
        atexit.register(end_worker)


def end_worker() -> None:
    """An xdist worker's last act: end without tearing its interpreter down.

    Its tests are over and every report is sent; what is left is freeing its objects one by
    one, half a second in which the controller waits for it (xdist's teardown waits for every
    worker to exit). Registered when the worker is configured, this runs before the
    interpreter's own exit work and after every exit handler registered since (a library's);
    the zygotes are stopped first, as at any exit.
    """
    Zygote.stop_all()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(0)


def send_fewer_reports(config: pytest.Config) -> None:
    """An xdist worker keeps the setup and teardown reports of a passing test to itself.

    xdist sends the controller every phase's report: three per test, 26,697 for the matrix,
    each serialized, sent, rebuilt and passed to every plugin there. A passing setup or
    teardown with no captured output and no longrepr says nothing anyone reads (the terminal
    prints nothing for it; a cell rides on its call report; a failure, an error, a skip or
    captured output is always sent); leaving them out took a run of the matrix with no
    cells from 16 s to 13 s of CPU. Kept when ``--junitxml`` or ``--durations`` is asked
    for (they time every phase), and a no-op if xdist's worker no longer has ``sendevent``.
    """
    if config.getoption("xmlpath", None) or config.getoption("durations", None) is not None:
        return
    for plugin in config.pluginmanager.get_plugins():
        send = getattr(plugin, "sendevent", None)
        if type(plugin).__name__ != "WorkerInteractor" or not callable(send):
            continue

        def filtered(name: str, send: Any = send, **kwargs: Any) -> None:
            data = kwargs.get("data")
            if (name == "testreport" and isinstance(data, dict) and data.get("when") in ("setup", "teardown")
                    and data.get("outcome") == "passed" and not data.get("sections") and not data.get("longrepr")):
                return
            send(name, **kwargs)

        plugin.sendevent = filtered


class EnvBuilder:
    """The controller builds the columns' missing environments before any cell (and says so)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        self.config.stash[STATE].columns.prepare(tr.write_line if tr is not None else print)


# -- the run's private files and signals ----------------------------------------


def run_temp(config: pytest.Config) -> tuple[Path, bool]:
    """The run's private temporary folder: the controller's, handed to xdist workers, else a new one.

    Returns the folder and whether this process made it (and so removes it at the end).
    """
    handed = getattr(config, "workerinput", {}).get(TEMP_KEY)
    if handed and Path(handed).is_dir():
        return Path(handed), False
    return Path(tempfile.mkdtemp(prefix="clientmatrix-run-")), True  # mkdtemp: mode 0700


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, on the controller: each worker puts its files in the controller's private folder."""
    node.workerinput[TEMP_KEY] = str(node.config.stash[STATE].temp_root)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if state.owns_temp:
        shutil.rmtree(state.temp_root, ignore_errors=True)
    if state.sigterm is not None and signal.getsignal(signal.SIGTERM) is state.sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_on_sigterm(config: pytest.Config) -> Any:
    """SIGTERM ends the run as Ctrl-C does (pytest then finishes the session: the reports say
    the run is incomplete), where nothing else handles SIGTERM already."""
    def stop(signum: int, frame: Any) -> None:
        state = config.stash.get(STATE, None)
        if state is not None:
            state.log.stop_reason = "terminated (SIGTERM)"
        raise KeyboardInterrupt("SIGTERM")

    try:
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, stop)
            return stop
    except ValueError:  # not the main thread (pytest run in a thread): leave signals alone
        pass
    return None


def clear_environment(private: Path) -> list[str]:
    """Clear what would let the machine change a cell; return the names touched.

    NETRC is pointed at an empty file rather than removed: without it, requests (and
    aiohttp with trust_env) read ~/.netrc and could add credentials to a request. The
    file is made by the run in its private folder (``private``, mode 0700), so nobody
    else can put content in it.
    """
    cleared = [n for n in os.environ if n.lower() in CLEARED_ENV or n.lower().endswith(CLEARED_SUFFIXES)
               or n.lower().startswith(CLEARED_PREFIXES)]
    for name in cleared:
        del os.environ[name]
    if "NETRC" in os.environ or os.path.exists(os.path.expanduser("~/.netrc")):
        cleared.append("NETRC")
    empty = private / "empty-netrc"
    os.close(os.open(empty, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
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
    """Fail before measuring anything if the reports could not be written.

    A folder that does not exist yet is not made here, only at the end of the run: made
    now, it would exist when the xdist workers read the command line, and pytest would take
    ``--matrix-dir DIR`` written with a space for a test path there (clientmatrix_plugin)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        if not probe.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(probe))
        if probe != folder:
            if not os.access(probe, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied", str(probe))
        else:
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
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    try:
        running = Servers(temp_parent=request.config.stash[STATE].temp_root).start()
    except ServerUnavailable as exc:  # a setup error with the reason, readable under xdist too
        pytest.fail(str(exc), pytrace=False)
    yield running
    for note in running.registry.orphans:  # server errors no cell could be blamed for
        warnings.warn(f"clientmatrix fixture server: {note}", stacklevel=1)
    running.stop()


class Pool:
    """One adapter instance per column per process, made on first use (in-process, or a
    runner of the column's environment: fixtures.columns)."""

    def __init__(self, ca_file: str | None, columns: Columns) -> None:
        self.ca_file = ca_file
        self.columns = columns
        self._made: dict[str, Adapter | str] = {}

    def meta(self, client: str) -> dict[str, Any]:
        """The column's id, library, version and mode (looked up once: metadata is slow)."""
        return self.columns.meta(client)

    def get(self, client: str) -> Adapter | str:
        if client not in self._made:
            self._made[client] = self.columns.adapter(client, self.ca_file)
        return self._made[client]

    def close(self) -> None:
        for adapter in self._made.values():
            if isinstance(adapter, Adapter):
                adapter.close()


@pytest.fixture(scope="session")
def adapters(request: pytest.FixtureRequest, servers: Servers) -> Iterator[Pool]:
    pool = Pool(servers.certs.ca_file if servers.certs else None, request.config.stash[STATE].columns)
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

    def once(self) -> Run:
        state = self.request.config.stash[STATE]
        row = row_clients(self.request.session).get(self.scenario.id, [])
        try:
            return self.ahead.run(self.scenario, self.client, row, state.deadline)
        except Exception as exc:  # a bug of ours: the cell says so, and is kept with the rest
            return Run(Cell(self.scenario.id, self.client, "error",
                            f"harness error: {type(exc).__name__}: {exc}"[:300]))

    def repeated(self, times: int) -> Run:
        """The cell run ``times`` times (--repeat): the most frequent outcome's first run,
        with every variant and its count; a skip (the environment) ends the repeats."""
        runs: list[Run] = []
        for _ in range(times):
            runs.append(self.once())
            if runs[-1].skip:
                return runs[-1]
        variants = variants_of([(r.cell.verdict, r.cell.summary) for r in runs])
        shown = next(r for r in runs if (r.cell.verdict, r.cell.summary) == (variants[0].verdict, variants[0].summary))
        return Run(replace(shown.cell, variants=variants))

    def run(self) -> Cell:
        state = self.request.config.stash[STATE]
        result = self.repeated(state.repeat) if state.repeat > 1 else self.once()
        version = self.adapters.meta(self.client).get("version")
        expected = state.expected(self.client, version).get(self.scenario.id)
        cell = replace(result.cell, expected=expected)
        # One compact JSON string: it travels from xdist workers once (on the call report only,
        # pytest_runtest_makereport), and a string crosses execnet far faster than nested
        # objects; plain JSON also drops a library's str subclasses (aiohttp's istr).
        texts = state.meta_text
        row = texts.get("row:" + self.scenario.id)
        if row is None:
            row = texts["row:" + self.scenario.id] = compact({
                **row_meta(self.scenario, self.request.node.nodeid), "order": state.order.get(self.scenario.id, 0)})
        column = texts.get("column:" + self.client)
        if column is None:
            column = texts["column:" + self.client] = compact(self.adapters.meta(self.client))
        self.request.node.user_properties.append(
            (PROPERTY, f'{{"cell":{compact(cell.to_json())},"scenario":{row},"client":{column}}}'))
        if result.skip:
            pytest.skip(result.skip)
        if cell.verdict == "error":
            pytest.fail(f"harness error (a bug of clientmatrix, not of {self.client}): {cell.summary}",
                        pytrace=False)
        if not state.update and compared(self.client):
            problem = expect.diff(expected, cell.verdict, cell.summary, cell.variants)
            if problem:
                pytest.fail(f"{self.scenario.id} with {self.client}: {problem}", pytrace=False)
        return cell


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The collected items, the modules and the servers' tables live to the end of the run: moved
    out of the garbage collector's sight (``gc.freeze``), so its full collections, some seven a
    worker, stop rescanning 9,000 items (0.7 s of CPU a run). Only what exists now is frozen:
    a cell's own garbage, cycles that hold sockets included, is collected as before (and what
    collection left is collected first, never frozen)."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def cell(request: pytest.FixtureRequest, servers: Servers, adapters: Pool, ahead: Ahead) -> CellRunner:
    return CellRunner(request, servers, adapters, ahead)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """The cell rides on the call report only: the teardown report would carry it again (pytest
    copies every user property onto each phase's report), and under xdist that doubled the
    bytes each cell sends to the controller."""
    report = yield
    if call.when == "call":
        item.user_properties[:] = [p for p in item.user_properties if p[0] != PROPERTY]
    return report


# -- gathering and reporting (controller only) ----------------------------------


class Shed:
    """On the controller: once every plugin saw a call report (the Recorder took its cell), the
    cell's text leaves the report. pytest's terminal keeps every report to the end of the run,
    and the texts of 9,000 cells were 15 MiB of the controller's memory."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, None, None]:
        yield
        if report.when == "call":
            report.user_properties = [p for p in report.user_properties if p[0] != PROPERTY]


#: The controller freezes the cells it keeps every so many (see ``pytest_collection_finish``).
FREEZE_EVERY = 1000


class Recorder:
    """Registered on the controller (or the only process): gathers cells, writes reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.state = config.stash[STATE]
        self.interrupted_workers: set[str] = set()
        #: One copy of each short string the cells repeat (keys, header names and values).
        self.strings: dict[str, str] = {}

    def shared(self, value: Any) -> Any:
        """``value`` (JSON data) with its short strings taken from ``strings``: every cell's
        observation repeats the same keys, header fields and values, and JSON parsing makes a
        new string for each. Kept for the whole run, 9,000 cells' observations took 61 MiB of
        the controller; 32 MiB shared this way."""
        if isinstance(value, str):
            return self.strings.setdefault(value, value) if len(value) <= SHARED_LEN else value
        if isinstance(value, list):
            return [self.shared(v) for v in value]
        if isinstance(value, dict):
            return {self.strings.setdefault(k, k): self.shared(v) for k, v in value.items()}
        return value

    # -- which cells the run selected (to tell the cells lost or never run) --

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Serial run: the selected items (xdist's controller collects none; see below)."""
        for item in session.items:
            callspec = getattr(item, "callspec", None)
            param = callspec.params.get("cell") if callspec is not None else None
            if isinstance(param, tuple):
                self.state.log.select(item.nodeid, (param[0].id, param[1]))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist: the node ids a worker collected and selected (every worker collects the same)."""
        for nodeid in ids:
            key = cell_key(nodeid, self.state.clients)
            if key is not None:
                self.state.log.select(nodeid, key)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        log = self.state.log
        if type(excinfo.value) is KeyboardInterrupt and not (log.stop_reason or "").startswith("terminated"):
            log.stop_reason = "interrupted (Ctrl-C)"
        elif log.stop_reason is None:
            log.stop_reason = f"interrupted: {excinfo.value}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """xdist: a worker that stopped on Ctrl-C or SIGTERM. Its cell in flight was not run
        (as in a serial run), not crashed: xdist's crash report for it is not a cell."""
        if error == "keyboard-interrupt":
            self.interrupted_workers.add(node.gateway.id)
            if self.state.log.stop_reason is None:
                self.state.log.stop_reason = f"interrupted: worker {node.gateway.id} stopped on Ctrl-C or SIGTERM"

    # -- cells -----------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = False
        for name, value in report.user_properties if report.when == "call" else ():
            if name != PROPERTY:
                continue
            data = json.loads(value) if isinstance(value, str) else value
            if not isinstance(data, dict):
                continue
            found = True
            parsed = Cell.from_json(data["cell"])
            cell = replace(parsed, outcome=report.outcome, observed=self.shared(parsed.observed))
            self.state.cells[cell.key] = cell
            self.state.scenarios[data["scenario"]["id"]] = data["scenario"]
            self.state.client_meta[data["client"]["id"]] = data["client"]
            if len(self.state.cells) % FREEZE_EVERY == 0 and self.config.pluginmanager.has_plugin("dsession"):
                # The cells kept so far live to the end: the collector stops rescanning them. Only
                # under xdist: a serial run's cells leave cyclic garbage (sockets) a freeze would keep.
                gc.freeze()
        if not found and report.failed:
            self.record_lost(report)

    def record_lost(self, report: pytest.TestReport) -> None:
        """A cell test that failed without a cell (a worker crash reported by xdist, a setup
        error): the cell is recorded as ``error`` with the reason, never left out."""
        state = self.state
        key = state.log.selected.get(report.nodeid) or cell_key(report.nodeid, state.clients)
        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
        if key is None or key in state.cells or worker in self.interrupted_workers:
            return
        state.cells[key] = state.log.lost(key, str(report.when), str(report.longrepr or ""))
        if key[0] not in state.scenarios:
            meta = scenario_meta(self.config.rootpath, report.nodeid, key[0])
            if meta is not None:
                state.scenarios[key[0]] = {**meta, "order": state.order.get(key[0], meta.get("order", 0))}
        if key[1] not in state.client_meta and key[1] in registry.CLIENTS:
            state.client_meta[key[1]] = registry.load(key[1]).meta()

    def matrix(self) -> Matrix:
        state, config = self.state, self.config
        order = list(state.clients)  # the selected columns, in column order (versions after their client)
        clients = sorted(state.client_meta.values(), key=lambda c: order.index(c["id"]) if c["id"] in order else 99)
        # Each column's environment (interpreter, distributions, OpenSSL, decoders): fixtures.columns.
        clients = [{**c, "environment": state.columns.provenance(c["id"])} for c in clients]
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
                "clientmatrix": own_version(),
                **({"repeat": state.repeat} if state.repeat > 1 else {}),
                **state.log.section(state.cells),
            },
            clients=clients,
            # Rows in collection order (module, then declaration), whatever order xdist
            # workers finished them in.
            scenarios=sorted(state.scenarios.values(), key=lambda s: (s.get("module", ""), s.get("order", 0))),
            cells=list(state.cells.values()),
            absent=self.absent(),
        )

    def absent(self) -> dict[str, dict[str, str]]:
        """For each family of rows that ran, the selected clients that are not its columns, and why."""
        families = {s.get("protocol", "http") for s in self.state.scenarios.values()}
        out: dict[str, dict[str, str]] = {}
        for client in self.state.clients:
            for family, why in registry.lacks(client).items():
                if family in families:
                    out.setdefault(family, {})[client] = why
        return out

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.state
        if not state.cells and not state.log.selected:  # no matrix cell in this run (self-tests only)
            return
        if state.log.stop_reason is None and state.log.not_run(state.cells) and (session.shouldfail or session.shouldstop):
            state.log.stop_reason = f"stopped: {session.shouldfail or session.shouldstop}"
        matrix = state.built = self.matrix()
        if not matrix.run["complete"] and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED  # an incomplete run never passes
        try:
            state.written += write(matrix, state.report_dir)
        except OSError as exc:  # keep every measured cell: write them somewhere else, and fail the run
            if session.exitstatus != pytest.ExitCode.INTERRUPTED:
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            problem = f"the reports could not be written to {state.report_dir} ({exc.strerror or exc})"
            try:
                fallback = Path(tempfile.mkdtemp(prefix="clientmatrix-reports-"))
                state.written += write(matrix, fallback)
                state.problems.append(f"{problem}; they were written to {fallback} instead")
            except OSError as again:
                state.problems.append(f"{problem}, nor to a temporary folder ({again.strerror or again})")
        if state.update:
            state.left_out = [f"{c.scenario} [{c.client}]: {why}" for c in state.cells.values()
                              if (why := expect.left_out(c, state.update_include)) and why != "skipped"]
            try:
                state.written += expect.update(state.expectations_dir, state.cells.values(),
                                               {c["id"]: c for c in matrix.clients}, state.update_include)
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
        if not self.state.cells and not self.state.log.selected:
            return
        tr = terminalreporter
        tr.write_sep("=", "clientmatrix")
        width = max(tr._tw.fullwidth or 100, 40)  # fitted to the terminal

        def paint(text: str, verdict: str) -> str:
            return str(tr._tw.markup(text, **COLOURS[verdict]))

        # The scorecard and the rows that fail, warn or differ; every row with --full-table.
        full = bool(self.config.getoption("--full-table"))
        for line in render(self.state.built or self.matrix(), width=width, paint=paint, full=full):
            tr.write_line(line)
        unmapped = [c for c in self.state.cells.values()
                    if c.verdict != "error" and c.observed and (c.observed.get("error") or {}).get("kind") == "other"]
        if unmapped:
            tr.write_line(f"unmapped exceptions (kind 'other': the adapters' error tables can grow): {len(unmapped)}")
            for c in sorted(unmapped, key=lambda c: c.key)[:10]:
                tr.write_line(f"  {c.scenario} [{c.client}]: {(c.observed or {})['error']['type']}")
        for note in self.version_notes():
            tr.write_line(note, yellow=True)
        varied = sorted((c for c in self.state.cells.values() if c.intermittent), key=lambda c: c.key)
        if varied:
            tr.write_line(f"intermittent cells (varied over --repeat {self.state.repeat}): {len(varied)}", yellow=True)
            for c in varied[:10]:
                tr.write_line(f"  {c.scenario} [{c.client}]: " + "; ".join(
                    f"{v.verdict} x{v.count}: {v.summary}" for v in c.variants))
        if self.state.left_out:
            tr.write_line(f"--update-expectations left out {len(self.state.left_out)} cells "
                          f"(record them with --update-include={','.join(expect.UNSTABLE)}):", yellow=True)
            for line in sorted(self.state.left_out)[:20]:
                tr.write_line(f"  {line}")
        for line in incomplete_lines((self.state.built or self.matrix()).run):
            tr.write_line(f"clientmatrix: {line}", red=True, bold=True)
        for problem in self.state.problems:
            tr.write_line(f"clientmatrix: {problem}", red=True, bold=True)
        for path in self.state.written:
            tr.write_line(f"written: {path}")


def scenario_meta(root: Path, nodeid: str, scenario_id: str) -> dict[str, Any] | None:
    """A row's report meta from its suite module (xdist's controller never imported it), or None."""
    import importlib

    module_path = nodeid.split("::", 1)[0]
    if not module_path.endswith(".py"):
        return None
    try:
        module = importlib.import_module(module_path[:-3].replace("/", "."))
    except Exception:  # an unimportable module: the cell is still recorded, with no row meta
        return None
    for index, scenario in enumerate(getattr(module, "SCENARIOS", [])):
        if scenario.id == scenario_id:
            return {**row_meta(scenario, nodeid), "order": index}
    return None
