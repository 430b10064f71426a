"""Self-tests of the command line: ``pytest`` in a subprocess, as a user runs it, and
``python -m matrix`` through ``main(argv)`` in process (one end-to-end run besides).

Bad input gets a clear error and loses nothing; xdist and a serial run write the
same matrix; a changed behaviour fails with a diff and ``--update-expectations``
records it without touching the cells that did not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import clients
from tests.conftest import checked_report

ROOT = Path(__file__).resolve().parent.parent
#: The columns of each family: every row is a cell in each (unsupported ones included).
HTTP = len(clients.of_family("http"))
WS = len(clients.of_family("ws"))
SUBSET = ["suites/test_status.py", "-k", "status.200 or status.404 or status.103"]
#: A bound on each subprocess run, so a broken harness cannot hang the self-tests.
RUN_TIMEOUT = 120


def pytest_run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0", *args],
        cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env,
    )


def matrix_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``python -m matrix ARGS`` in this process (``main(argv)``: 2 ms against 90 ms for a new
    interpreter); one end-to-end test below runs the module as a user does."""
    from matrix.__main__ import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def cells(path: Path) -> dict[tuple[str, str], tuple[str, str]]:
    data = checked_report(path / "matrix.json")
    return {(c["scenario"], c["client"]): (c["verdict"], c["summary"]) for c in data["cells"]}


#: Several pytest sessions in one process: each is ``pytest.main(ARGS)`` (what ``python -m pytest
#: ARGS`` calls: the same plugins, settings and hooks) in a fresh session, one after the other,
#: and each one's exit code, stdout and stderr come back as JSON. A new interpreter per session
#: cost about a second of CPU (start, imports, plugins); the usage errors and the expectation runs
#: below use it, and a few tests keep a real ``python -m pytest`` (pytest_run).
DRIVER = """
import contextlib, io, json, sys
import pytest

results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = pytest.main(["-p", "no:cacheprovider", "-q", "-n", "0", *args])
    results.append([int(code), out.getvalue(), err.getvalue()])
sys.stdout.write(json.dumps(results))
"""


def pytest_sessions(*runs: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Each of ``runs`` as a pytest session, in order, all in one new process."""
    r = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(runs)], cwd=ROOT, capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr[-2000:]
    done = json.loads(r.stdout)
    return [subprocess.CompletedProcess(args, code, out, err) for args, (code, out, err) in zip(runs, done, strict=True)]


def usage_cases(tmp: Path) -> dict[str, list[str]]:
    """Each case's command line (the files it needs made under ``tmp``)."""
    broken = tmp / "exp"
    broken.mkdir()
    (broken / "requests.json").write_text('{"cells": {"status.200": ')
    blocker = tmp / "a-file"
    blocker.write_text("not a folder")
    out = f"--matrix-dir={tmp / 'out'}"
    return {
        "unknown-client": [*SUBSET, "--clients", "requests,reqeusts", "--matrix-dir", str(tmp / "out")],
        "broken-expectations": [*SUBSET, "--expectations-dir", str(broken), "--matrix-dir", str(tmp / "out")],
        "unwritable": [*SUBSET, "--matrix-dir", str(blocker / "reports")],
        **{f"cell-timeout-{v}": [*SUBSET, "--cell-timeout", v, out] for v in ("0", "inf", "nan")},
        "no-client": [*SUBSET, "--clients", " , ", out],
        "no-expectations-folder": [*SUBSET, "--expectations-dir=no-such-folder", out],
    }


@pytest.fixture(scope="module")
def usage_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Every usage-error case, run by one driver process: name -> (exit code, stderr)."""
    cases = usage_cases(tmp_path_factory.mktemp("usage"))
    return {name: (r.returncode, r.stderr) for name, r in zip(cases, pytest_sessions(*cases.values()), strict=True)}


@pytest.mark.cost(0.7)
def test_unknown_client_is_a_usage_error_that_lists_the_known_ones(usage_errors: dict[str, tuple[int, str]]) -> None:
    code, err = usage_errors["unknown-client"]
    assert code == 4, err
    assert "unknown client 'reqeusts'" in err and "httpx-async" in err


def test_broken_expectations_file_is_named_with_the_fix(usage_errors: dict[str, tuple[int, str]]) -> None:
    code, err = usage_errors["broken-expectations"]
    assert code == 4
    assert "requests.json is not a valid expectations file" in err
    assert "--update-expectations" in err


def test_unwritable_report_folder_fails_before_measuring(usage_errors: dict[str, tuple[int, str]]) -> None:
    code, err = usage_errors["unwritable"]
    assert code == 4
    assert "cannot write the matrix reports" in err and "--matrix-dir" in err


@pytest.mark.parametrize("value", ["0", "inf", "nan"])
def test_bad_cell_timeout_is_a_usage_error(value: str, usage_errors: dict[str, tuple[int, str]]) -> None:
    code, err = usage_errors[f"cell-timeout-{value}"]
    assert code == 4 and "--cell-timeout" in err


@pytest.mark.cost(0.7)
def test_a_usage_error_from_a_new_interpreter(tmp_path: Path) -> None:
    """One usage error as a user meets it: ``python -m pytest`` in a new process exits 4 with the message."""
    r = pytest_run(*SUBSET, "--clients", "requests,reqeusts", "--matrix-dir", str(tmp_path / "out"))
    assert r.returncode == 4, r.stdout + r.stderr
    assert "unknown client 'reqeusts'" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """The same 45 cells (three status rows, every HTTP client) run twice; several tests read them.

    ``serial``: the README's form, no test path, ``--matrix-dir=DIR`` (``-k`` keeps the rows to
    the status suite). ``parallel``: under xdist, options in the ``=`` spelling (the workers read
    the command line too), every HTTP client named with ``--clients=``, into a folder not made yet.
    """
    tmp = tmp_path_factory.mktemp("runs")
    serial, parallel = tmp / "serial", tmp / "new" / "parallel"
    return {
        "serial": (pytest_run("-k", f"test_status and ({SUBSET[2]})", f"--matrix-dir={serial}"), serial),
        "parallel": (pytest_run(*SUBSET[:1], "-k", SUBSET[2], f"--matrix-dir={parallel}",
                                f"--clients={','.join(clients.of_family('http'))}", "-n", "2"), parallel),  # last -n wins
    }


@pytest.mark.cost(7)
def test_xdist_and_serial_runs_give_the_same_matrix(two_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path]]
                                                    ) -> None:
    (r1, serial), (r2, parallel) = two_runs["serial"], two_runs["parallel"]
    assert r1.returncode == 0, r1.stdout[-2000:]
    assert r2.returncode == 0, r2.stdout[-2000:]
    assert cells(serial) == cells(parallel)
    assert len(cells(serial)) == 3 * HTTP
    data = json.loads((parallel / "matrix.json").read_text())
    assert set(data) == {"schema", "run", "clients", "scenarios", "cells"}
    assert (parallel / "matrix.md").read_text().startswith("# clientmatrix")
    assert "status.103-early-hints" in r2.stdout  # the terminal table, printed by the controller


def as_recorded_here(folder: Path, client: str) -> dict[str, object]:
    """``client``'s expectations as if recorded with the installed version: the cells that
    apply to it, as the base, and no override sections. So a test of what --update-expectations
    writes does not depend on the installed version matching the recorded one."""
    from model import expect

    version = clients.load(client).version()
    resolved = expect.load(folder, client).resolve(version)
    doc = json.loads((folder / f"{client}.json").read_text())
    doc.update(version=version, on={}, cells={k: v.to_json() for k, v in resolved.items()})
    return doc


@pytest.mark.cost(1.2)
def test_a_changed_behaviour_fails_with_a_diff_and_update_records_it(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    shutil.copytree(ROOT / "expectations", exp)
    doc = as_recorded_here(exp, "requests")
    doc["cells"]["status.404"]["summary"] = "an old behaviour"
    untouched = doc["cells"]["methods.get"]
    (exp / "requests.json").write_text(json.dumps(doc))

    args = [*SUBSET, "--clients", "requests", "--expectations-dir", str(exp)]
    r, updated = pytest_sessions([*args, "--matrix-dir", str(tmp_path / "first")],
                                 [*args, "--matrix-dir", str(tmp_path), "--update-expectations"])
    assert r.returncode == 1
    assert "- expected: pass: an old behaviour" in r.stdout and "+ observed: pass: got 404" in r.stdout
    data = json.loads((tmp_path / "first" / "matrix.json").read_text())
    failed = [c for c in data["cells"] if c["outcome"] == "failed"]
    assert [(c["scenario"], c["client"]) for c in failed] == [("status.404", "requests")]
    assert len(data["cells"]) == 3, "every measured cell is kept in the report"

    assert updated.returncode == 0, updated.stdout[-2000:]
    doc = json.loads((exp / "requests.json").read_text())
    assert doc["cells"]["status.404"]["summary"].startswith("got 404")
    assert doc["cells"]["methods.get"] == untouched, "cells that did not run keep their record"


@pytest.mark.parametrize("args,message", [
    (["show", "no-such-file.json"], "cannot read"),
    (["show", "pyproject.toml"], "is not JSON"),
])
def test_matrix_cli_bad_input_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = matrix_cli(capsys, *args)
    assert code == 2 and message in err


@pytest.mark.cost(0.3)
def test_python_m_matrix_end_to_end(tmp_path: Path) -> None:
    """The module as a user runs it: a new interpreter, a good file, a bad one."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(minimal_matrix()))
    ok = subprocess.run([sys.executable, "-m", "matrix", "show", "--full", str(good)], cwd=ROOT, capture_output=True,
                        text=True, timeout=RUN_TIMEOUT)
    assert ok.returncode == 0 and "status.200" in ok.stdout, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "matrix", "show", "no-such-file.json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert bad.returncode == 2 and "cannot read" in bad.stderr and "Traceback" not in bad.stderr


def minimal_matrix() -> dict[str, object]:
    """The smallest matrix the commands render: one scenario, one client, one cell."""
    from model.cell import SCHEMA_VERSION

    return {"schema": SCHEMA_VERSION, "run": {},
            "clients": [{"id": "requests", "library": "requests", "version": "2"}],
            "scenarios": [{"id": "status.200", "group": "status", "title": "t", "spec": "RFC 9110", "level": "MUST"}],
            "cells": [{"scenario": "status.200", "client": "requests", "verdict": "pass", "summary": "got 200"}]}


def without(part: str, key: str | None = None, **change: object) -> dict[str, object]:
    """The minimal matrix with ``key`` dropped from the first entry of ``part`` (or ``part`` itself)."""
    data = minimal_matrix()
    if key is None:
        del data[part]
        return data
    entry = data[part][0]  # type: ignore[index]
    del entry[key]
    entry.update(change)
    return data


INCOMPLETE = [
    # (id, matrix, what the message names)
    ("scenario without group", without("scenarios", "group"), "scenarios[0] ('status.200') lacks 'group'"),
    ("scenario without id and level", without("scenarios", "id"), "scenarios[0] lacks 'id'"),
    ("client without version", without("clients", "version"), "clients[0] ('requests') lacks 'version'"),
    ("cell without summary", without("cells", "summary"),
     "cells[0] ('status.200' x 'requests') lacks 'summary'"),
    ("cell with an unknown verdict", without("cells", "verdict", verdict="passs"),
     "cells[0] ('status.200' x 'requests') has an unknown verdict 'passs'"),
    ("no clients list", without("clients"), "no 'clients' list"),
    ("a scenario that is a string", {**minimal_matrix(), "scenarios": ["status.200"]}, "scenarios[0] is not an object"),
]


@pytest.mark.parametrize("command", ["show", "markdown", "html", "merge", "diff"])
@pytest.mark.parametrize(("data", "message"), [c[1:] for c in INCOMPLETE], ids=[c[0] for c in INCOMPLETE])
def test_an_incomplete_matrix_is_named_in_one_line_exit_2(command: str, data: dict[str, object], message: str,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text(json.dumps(data))
    good.write_text(json.dumps(minimal_matrix()))
    args = {"show": [str(bad)], "markdown": [str(bad)], "html": [str(bad)],
            "merge": [str(good), str(bad), "-o", str(tmp_path / "out" / "m.json")],
            "diff": [str(good), str(bad)]}[command]
    code, out, err = matrix_cli(capsys, command, *args)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{bad} is not a complete matrix: {message}" in err


@pytest.mark.parametrize("command", ["show", "markdown", "html", "merge", "diff"])
def test_the_minimal_matrix_is_complete(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bad-input table's base works with every command: only what each row takes away is wrong."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps(minimal_matrix()))
    args = {"merge": [str(good), str(good), "-o", str(tmp_path / "out" / "m.json")],
            "diff": [str(good), str(good)]}.get(command, [str(good)])
    code, _, err = matrix_cli(capsys, command, *args)
    assert code == 0, err


def test_matrix_dir_outside_the_repo_works_as_the_readme_writes_it(
        two_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path]]) -> None:
    """``--matrix-dir=DIR`` (one token), with no test path given, from the repo root."""
    r, out = two_runs["serial"]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (out / "matrix.json").exists() and len(cells(out)) == 3 * HTTP


@pytest.mark.parametrize("case,message", [
    ("no-client", "no client named; known clients:"),
    ("no-expectations-folder", "is not a folder"),
])
def test_more_bad_options_are_usage_errors(case: str, message: str, usage_errors: dict[str, tuple[int, str]]) -> None:
    code, err = usage_errors[case]
    assert code == 4 and message in err, err[-1000:]


def test_an_unknown_verdict_in_expectations_is_named(tmp_path: Path) -> None:
    from model import expect

    (tmp_path / "requests.json").write_text(json.dumps({"cells": {"status.200": {"verdict": "passs", "summary": "x"}}}))
    with pytest.raises(expect.ExpectationsError, match="unknown verdict 'passs'"):
        expect.load(tmp_path, "requests")


def test_reports_are_as_readable_as_any_file(tmp_path: Path) -> None:
    from model.expect import UMASK, atomic_write

    atomic_write(tmp_path / "r.txt", "x")
    assert (tmp_path / "r.txt").stat().st_mode & 0o777 == 0o666 & ~UMASK


@pytest.mark.cost(7)
def test_the_users_environment_cannot_change_a_cell(tmp_path: Path) -> None:
    """Proxies (socks too), CA bundles, the websockets library's settings, a ~/.netrc."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login leak password leak\n")
    hostile = {**os.environ, "HOME": str(home), "HTTP_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
               "ALL_PROXY": "http://127.0.0.1:9", "socks_proxy": "socks5://127.0.0.1:9",
               "REQUESTS_CA_BUNDLE": "/nonexistent.pem", "SSL_CERT_FILE": "/nonexistent.pem",
               "WEBSOCKET_CLIENT_CA_BUNDLE": "/nonexistent.pem", "WEBSOCKETS_USER_AGENT": "hostile/1"}
    rows = ["suites/test_methods.py", "suites/test_status.py", "suites/test_ws.py", "suites/test_tls.py",
            "-k", "request.default-headers or status.200 or ws.echo.text or ws.handshake-headers or tls.trusted-ca"]
    dirty = pytest_run(*rows, f"--matrix-dir={tmp_path / 'dirty'}", env=hostile)
    clean = pytest_run(*rows, f"--matrix-dir={tmp_path / 'clean'}")
    # The same cells (verdict and summary) as on a clean machine: compared with a clean run, not
    # with the expectations, which hold for the pinned versions only (default headers name them).
    assert cells(tmp_path / "dirty") == cells(tmp_path / "clean")
    assert dirty.returncode == clean.returncode and "harness error" not in dirty.stdout, dirty.stdout[-3000:]
    assert len(cells(tmp_path / "dirty")) == 3 * HTTP + 2 * WS


@pytest.mark.cost(1.4)
def test_a_run_on_another_version_records_an_override_and_never_the_base(tmp_path: Path) -> None:
    """urllib's expectations as if recorded on Python 2.7.18: this Python gets its own section."""
    import platform

    exp = tmp_path / "exp"
    shutil.copytree(ROOT / "expectations", exp)
    doc = json.loads((exp / "urllib.json").read_text())
    doc["version"], doc["on"] = "2.7.18", {}
    doc["cells"]["status.404"]["summary"] = "an old behaviour"
    (exp / "urllib.json").write_text(json.dumps(doc))
    args = [*SUBSET, "--clients", "urllib", "--expectations-dir", str(exp), f"--matrix-dir={tmp_path}"]
    minor = "python " + ".".join(platform.python_version().split(".")[:2])

    r, updated, again = pytest_sessions(args, [*args, "--update-expectations"], args)
    assert r.returncode == 1 and "- expected: pass: an old behaviour" in r.stdout
    assert "recorded with python 2.7.18, and has no override section for" in r.stdout

    r = updated
    assert r.returncode == 0, r.stdout[-2000:]
    after = json.loads((exp / "urllib.json").read_text())
    assert after["cells"] == doc["cells"] and after["version"] == "2.7.18", "the base is never touched"
    assert list(after["on"]) == [minor] and list(after["on"][minor]) == ["status.404"]
    real = json.loads((ROOT / "expectations" / "urllib.json").read_text())["cells"]["status.404"]
    assert after["on"][minor]["status.404"] == real
    assert "has no override section" not in r.stdout

    r = again
    assert r.returncode == 0, r.stdout[-2000:]  # the override holds
    assert "has no override section" not in r.stdout


def test_options_in_the_equals_spelling_under_xdist(
        two_runs: dict[str, tuple[subprocess.CompletedProcess[str], Path]]) -> None:
    """``--matrix-dir=DIR`` and ``--clients=a,b`` reach the xdist workers (a folder made at the end)."""
    r, out = two_runs["parallel"]
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "node down" not in r.stdout + r.stderr
    assert {client for _, client in cells(out)} == set(clients.of_family("http"))


@pytest.mark.cost(1.5)
@pytest.mark.parametrize("form", ["space", "workflow"])
def test_options_in_any_spelling(form: str, tmp_path: Path) -> None:
    """``--matrix-dir DIR`` under xdist (the workers read the command line too), and the workflow's
    ``pytest suites --matrix-dir reports`` on an existing folder. The first names no test path on
    purpose: with one, a folder made before the workers start is no longer taken for a test path and
    the run passes anyway. The ``=`` spelling is in ``two_runs``. One worker: what is tested is a
    worker reading the command line (a second worker cost another interpreter and the collection of
    every suite, and reads the same line); ``two_runs`` runs two."""
    out = tmp_path / "new" / "reports"
    args = {"space": ["-k", "status.200", "--matrix-dir", str(out), "--clients", "requests,httpx"],
            "workflow": ["suites", "-k", "status.200", "--matrix-dir", str(tmp_path), "--clients", "requests,httpx"]}[form]
    if form == "workflow":
        out = tmp_path
    r = pytest_run(*args, "-n", "1")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "node down" not in r.stdout + r.stderr and "bringing up nodes" in r.stdout, "ran under xdist"
    assert set(cells(out)) == {("status.200", "requests"), ("status.200", "httpx")}
