"""fixtures.zygote: children forked from a started interpreter behave as new processes would.

What a row may claim about a child rests on these: it runs with the environment it was
given (not the zygote's), the zygote's imports are the only thing it inherits, a fresh-
interpreter cell's zygote holds no client library, and a child that hangs can be killed
and is seen to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from fixtures import fresh
from fixtures.zygote import Zygote, ZygoteError

pytestmark = pytest.mark.selftest

PROBE = "tests.zygote_probe"


def spawn(zygote: Zygote, env: dict[str, str], *args: str) -> tuple[int, dict[str, object]]:
    with tempfile.TemporaryFile() as err:
        child = zygote.spawn(PROBE, env, err.fileno(), args)
        out = child.stdout.read()
        code = child.wait(10)
        err.seek(0)
        assert out, err.read()
    return code, json.loads(out)


@pytest.fixture(scope="module")
def zygote() -> Zygote:
    return Zygote.of(sys.executable, (), (PROBE, "csv"))


def test_a_child_has_the_environment_it_was_given_not_the_zygotes(zygote: Zygote) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CLIENTMATRIX_PROBE"}
    code, seen = spawn(zygote, {**env, "CLIENTMATRIX_PROBE": "one"})
    assert code == 0 and seen["env"] == "one" and seen["getenv"] == "one"  # C code sees it too
    code, seen = spawn(zygote, env)
    assert seen["env"] is None and seen["getenv"] is None


def test_a_child_inherits_the_zygotes_imports_and_its_own_pid(zygote: Zygote) -> None:
    _, first = spawn(zygote, dict(os.environ))
    _, second = spawn(zygote, dict(os.environ))
    assert first["preloaded"] and first["pid"] != second["pid"] != os.getpid()
    assert first["random"] != second["random"]  # reseeded after the fork


def test_a_childs_exit_status_and_arguments_reach_the_caller(zygote: Zygote) -> None:
    code, seen = spawn(zygote, dict(os.environ), "exit", "3")
    assert code == 3 and seen["argv"] == ["exit", "3"]


def test_a_hanging_child_is_killed_and_seen_to_end(zygote: Zygote) -> None:
    with tempfile.TemporaryFile() as err:
        child = zygote.spawn(PROBE, dict(os.environ), err.fileno(), ("hang",))
        assert child.stdout.readline()  # it is running
        assert child.poll() is None
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(0.2)
        child.kill()
        assert child.wait(10) == -9


def test_a_stopped_zygote_refuses_and_of_makes_a_new_one() -> None:
    zygote = Zygote.of(sys.executable, (), (PROBE,))
    zygote.stop()
    with pytest.raises(ZygoteError):
        zygote.spawn(PROBE, dict(os.environ), 2)
    again = Zygote.of(sys.executable, (), (PROBE,))
    assert again is not zygote and spawn(again, dict(os.environ))[0] == 0


def test_the_fresh_interpreter_zygote_imports_no_client_library() -> None:
    """A ``Call(fresh=True)`` row is about what a library reads when it is imported: the
    zygote its cells fork from must hold our modules and the standard library only."""
    code = ("import importlib, sys; [importlib.import_module(m) for m in sys.argv[1:]];"
            "import fixtures.zygote, json;"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))")
    out = subprocess.run([sys.executable, "-c", code, *fresh.PRELOAD], capture_output=True, text=True,
                         check=True, cwd=fresh.ROOT).stdout
    assert set(json.loads(out)) <= {"__main__", "fixtures", "model", "_distutils_hack"}, out


def test_a_child_of_a_zygote_that_died_can_still_be_killed_and_seen_to_end() -> None:
    """A SIGTERM to the process group ends the zygote first: its children must not look
    alive for ever (a runner's stop would wait, then raise)."""
    zygote = Zygote(sys.executable, (), (PROBE,))  # a zygote of its own, not the shared one
    with tempfile.TemporaryFile() as err:
        child = zygote.spawn(PROBE, dict(os.environ), err.fileno(), ("hang",))
        assert child.stdout.readline()
        zygote.proc.kill()
        zygote.proc.wait(10)
        assert child.poll() is None  # still running, its zygote gone
        child.kill()
        assert child.wait(10) == -1  # ended; how, only the dead zygote knew
    zygote.stop()
